// Cutting Markdown to a size without breaking what follows: the cut falls on a line boundary
// outside a code fence and, where it can, outside every <details> (a node's section is kept whole
// or left out); whatever is still left open is closed, so what comes after (the progress
// checklist) is never folded into a node's section.

const BLOCK_TAGS = ['details', 'summary', 'sub', 'table', 'blockquote', 'div', 'p'];

/** Open block tags at the end of `text`, innermost last. */
function openTags(text: string): string[] {
  const stack: string[] = [];
  for (const m of text.matchAll(/<(\/?)([a-z]+)\b[^>]*>/gi)) {
    const tag = m[2]!.toLowerCase();
    if (!BLOCK_TAGS.includes(tag)) continue;
    if (m[1]) {
      const at = stack.lastIndexOf(tag);
      if (at >= 0) stack.splice(at);
    } else stack.push(tag);
  }
  return stack;
}

const count = (line: string, re: RegExp) => (line.match(re) ?? []).length;

/** `text` when it fits in `limit`, else its longest prefix at a safe line boundary, closed, and `note`. */
export function fitMarkdown(text: string, limit: number, note: string): string {
  if (text.length <= limit) return text;
  const lines = text.split('\n');
  const budget = Math.max(0, limit - note.length - 80);
  let size = 0;
  let fence = false;
  let safe = 0;
  // The last boundary outside every <details>: a section is kept whole or left out, never emptied.
  let depth = 0;
  let whole = 0;
  for (let i = 0; i < lines.length; i++) {
    size += lines[i]!.length + 1;
    if (size > budget) break;
    if (/^\s*(```|~~~)/.test(lines[i]!)) fence = !fence;
    if (fence) continue;
    depth += count(lines[i]!, /<details\b/gi) - count(lines[i]!, /<\/details>/gi);
    safe = i + 1;
    if (depth <= 0) whole = i + 1;
  }
  const kept = lines.slice(0, whole || safe).join('\n');
  const closing = openTags(kept)
    .reverse()
    .map((t) => `</${t}>`);
  return [kept, ...(closing.length ? ['', ...closing] : []), '', note, ''].join('\n');
}
