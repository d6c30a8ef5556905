// Canonical JSON (object keys sorted, no whitespace, undefined dropped) and the plan ID:
// the SHA-256 of the plan's canonical JSON, so the same cluster state gives the same ID.
import { createHash } from 'node:crypto';
import type { Plan } from './types.ts';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function planId(plan: Plan): string {
  return createHash('sha256').update(canonicalJson(plan)).digest('hex');
}

/** How plan IDs are shown and typed: the first 12 hex digits. */
export const shortId = (id: string) => id.slice(0, 12);
