// Every string that comes from the cluster (names, labels, kernels, package names, PDB names)
// goes through one of these before it reaches Markdown or a terminal: a node name like
// "x](https://evil)" or "@org/team" must render as text, never as a link, HTML or a mention.
// Mentions: GitHub decodes entities (&#64;) and backslash escapes before it links mentions, so
// neither stops one; a word joiner (U+2060) right after the @ does, and reads the same.

/** For Markdown text and table cells: backslash escapes first, then entities (so an entity's "#" stays). */
export function md(s: string): string {
  return entities(
    stripControl(s)
      .replace(/[\r\n]+/g, ' ')
      .replace(/[\\`*_{}[\]()#+\-.!|~$:]/g, (c) => `\\${c}`),
  );
}

/** For raw HTML blocks (<summary>), where backslash escapes would show literally: entities only. */
export function html(s: string): string {
  return entities(stripControl(s).replace(/[\r\n]+/g, ' ')).replace(
    /[[\]()*_`|~\\]/g,
    (c) => `&#${c.charCodeAt(0)};`,
  );
}

/** For terminals: no escape sequences from the cluster reach the operator's screen. */
export function term(s: string): string {
  return stripControl(s);
}

function entities(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/@/g, '@\u2060');
}

function stripControl(s: string): string {
  // C0/C1 controls (but tab and newline) and bidirectional overrides.
  return String(s).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}
