// Every string that comes from the cluster (names, labels, kernels, package names, PDB names)
// goes through one of these before it reaches Markdown or a terminal: a node name like
// "x](https://evil)" or "@org/team" must render as text, never as a link or a mention.

/** For Markdown text and table cells. */
export function md(s: string): string {
  // Backslash escapes first, entities second: an entity's own "#" must not be escaped.
  return html(stripControl(s).replace(/[\r\n]+/g, ' ').replace(/[\\`*_{}[\]()#+\-.!|~$:]/g, (c) => `\\${c}`));
}

/** For raw HTML blocks (<summary>), where Markdown escapes would show literally. */
export function html(s: string): string {
  return stripControl(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/@/g, '&#64;');
}

/** For terminals: no escape sequences from the cluster reach the operator's screen. */
export function term(s: string): string {
  return stripControl(s);
}

function stripControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return String(s).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}
