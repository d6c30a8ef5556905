// Comment commands: the first line of a newly created comment, strict grammar, case-insensitive
// command word. Anything that merely mentions a command elsewhere is not one (and is answered, so
// nobody believes it worked).
import { md } from '../report/escape.ts';

export type Command =
  /** planId: as the comment gives it, the plan ID's first 12 or more hexadecimal digits. */
  | { kind: 'approve'; planId: string }
  | { kind: 'reject'; reason: string }
  | { kind: 'cancel' }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'replan' }
  | { kind: 'skip'; node: string }
  | { kind: 'status' };

export type Parsed =
  /** Not addressed to us: plain discussion. */
  | { kind: 'none' }
  | { kind: 'command'; command: Command }
  /** Looks like a command but is not a valid one: answered with why. */
  | { kind: 'invalid'; reason: string };

export const COMMANDS = [
  'approve',
  'reject',
  'cancel',
  'pause',
  'resume',
  'replan',
  'skip',
  'status',
] as const;
/** Approvals must name at least this many hex digits of the plan ID (what the report shows). */
export const MIN_PREFIX = 12;

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Invisible characters that hide in pasted text. */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
/** Cyrillic and Greek letters that look like the Latin ones of the command words and hex digits. */
const CONFUSABLE: Record<string, string> = {
  а: 'a',
  в: 'b',
  с: 'c',
  е: 'e',
  һ: 'h',
  і: 'i',
  ј: 'j',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ѕ: 's',
  т: 't',
  у: 'y',
  х: 'x',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  А: 'A',
  В: 'B',
  С: 'C',
  Е: 'E',
  Н: 'H',
  І: 'I',
  К: 'K',
  М: 'M',
  О: 'O',
  Р: 'P',
  Ѕ: 'S',
  Т: 'T',
  Х: 'X',
  α: 'a',
  ε: 'e',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  ν: 'v',
  κ: 'k',
  Α: 'A',
  Ε: 'E',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
};

/** The line as it looks: invisibles removed, compatibility forms (fullwidth) folded, look-alikes mapped. */
function asSeen(line: string): string {
  return line
    .replace(INVISIBLE, '')
    .normalize('NFKC')
    .replace(/[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]/g, (letter) => CONFUSABLE[letter] ?? letter);
}

/** The characters outside printable ASCII, as code points (the reply never echoes them). */
const codepoints = (raw: string) =>
  [...new Set(Array.from(raw).filter((character) => character.codePointAt(0)! > 0x7e))]
    .slice(0, 3)
    .map((character) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`)
    .join(', ');

/** A first line that only looks like a command: answered, so nobody believes it worked. */
function lookAlike(first: string): Parsed | undefined {
  const seen = asSeen(first).trim();
  if (seen === first.trim() || !seen.startsWith('/')) return undefined;
  const word = seen.slice(1).split(/\s+/)[0]!.toLowerCase();
  if (!COMMANDS.some((command) => distance(word, command) <= 2)) return undefined;
  return {
    kind: 'invalid',
    reason:
      `this looks like /${md(word.slice(0, 30))} but contains characters that only look like it ` +
      `(${codepoints(first)}: invisible, fullwidth or non-Latin); ` +
      'type the command in plain ASCII in a new comment',
  };
}

export function parseComment(body: string): Parsed {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const raw = lines[0] ?? '';
  const alike = lookAlike(raw);
  if (alike) return alike;
  const first = raw.trim();
  if (!first.startsWith('/')) return buried(lines.slice(1));
  const [word = '', ...args] = first.slice(1).split(/\s+/);
  const name = word.toLowerCase();
  switch (name) {
    case 'approve':
      return approve(args);
    case 'reject': {
      const reason = [args.join(' '), ...lines.slice(1)].join('\n').trim().slice(0, 500);
      return { kind: 'command', command: { kind: 'reject', reason } };
    }
    case 'skip':
      if (args.length !== 1 || !NODE_NAME.test(args[0]!))
        return { kind: 'invalid', reason: 'usage: /skip <node-name>' };
      return { kind: 'command', command: { kind: 'skip', node: args[0]! } };
    case 'cancel':
    case 'pause':
    case 'resume':
    case 'replan':
    case 'status':
      if (args.length) return { kind: 'invalid', reason: `/${name} takes no arguments` };
      return { kind: 'command', command: { kind: name } };
    default:
      return unknown(name);
  }
}

/** A command on a later line than the first: answered, so nobody believes it worked. */
function buried(later: string[]): Parsed {
  const found = later
    .map((line) => line.match(new RegExp(`^\\s*/(${COMMANDS.join('|')})\\b`, 'i')))
    .find(Boolean);
  if (!found) return { kind: 'none' };
  // Only the command word is echoed: the reply never repeats what a commenter wrote.
  const reason =
    `commands must be on the first line of a comment; ` +
    `the /${found[1]!.toLowerCase()} on a later line is ignored`;
  return { kind: 'invalid', reason };
}

/** /approve <plan-id>: the plan ID's first MIN_PREFIX or more hexadecimal digits, backticks allowed. */
function approve(args: string[]): Parsed {
  if (args.length !== 1)
    return {
      kind: 'invalid',
      reason: `usage: /approve <plan-id> (at least the first ${MIN_PREFIX} characters of the plan ID)`,
    };
  const planId = args[0]!.toLowerCase().replace(/^`|`$/g, '');
  if (!/^[0-9a-f]+$/.test(planId) || planId.length < MIN_PREFIX || planId.length > 64)
    return {
      kind: 'invalid',
      reason:
        `/approve needs the plan ID: ${MIN_PREFIX} to 64 hexadecimal characters, ` +
        `not "${md(args[0]!.slice(0, 70))}"`,
    };
  return { kind: 'command', command: { kind: 'approve', planId } };
}

/** Near-misses (/aprove, /approv) are answered, so nobody believes a typo worked; others are discussion. */
function unknown(name: string): Parsed {
  if (!COMMANDS.some((command) => distance(name, command) <= 2)) return { kind: 'none' };
  const reason =
    `unknown command /${md(name.slice(0, 30))}; ` +
    `the commands are ${COMMANDS.map((command) => `/${command}`).join(', ')}`;
  return { kind: 'invalid', reason };
}

/** Levenshtein distance, for short command words. */
function distance(word: string, target: string): number {
  let previous = Array.from({ length: target.length + 1 }, (_, index) => index);
  for (let i = 1; i <= word.length; i++) {
    const current = [i];
    for (let j = 1; j <= target.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (word[i - 1] === target[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[target.length]!;
}
