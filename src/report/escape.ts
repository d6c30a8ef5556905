// Every string that comes from the cluster (names, labels, kernels, package names, PDB names)
// goes through one of these before it reaches Markdown or a terminal: a node name like
// "x](https://evil)" or "@org/team" must render as text, never as a link, HTML or a mention.
// Mentions: GitHub decodes entities (&#64;) and backslash escapes before it links mentions, so
// neither stops one; a word joiner (U+2060) right after the @ does, and reads the same.

/** For Markdown text and table cells: backslash escapes first, then entities (so an entity's "#" stays). */
export function md(text: string): string {
  return entities(
    stripControl(text)
      .replace(/[\r\n]+/g, ' ')
      .replace(/[\\`*_{}[\]()#+\-.!|~$:]/g, (character) => `\\${character}`),
  );
}

/** For raw HTML blocks (<summary>), where backslash escapes would show literally: entities only. */
export function html(text: string): string {
  return entities(stripControl(text).replace(/[\r\n]+/g, ' ')).replace(
    /[[\]()*_`|~\\]/g,
    (character) => `&#${character.charCodeAt(0)};`,
  );
}

/** For terminals: no escape sequences from the cluster reach the operator's screen. */
export function term(text: string): string {
  return stripControl(text);
}

function entities(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/@/g, '@\u2060');
}

/**
 * C0/C1 controls (but tab and newline) and bidirectional overrides removed. `unknown`: callers
 * pass strings by type, but an error handler's `(error as Error).message` may be undefined, and
 * escaping must not throw there.
 */
function stripControl(text: unknown): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is this function's purpose
  return String(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}
