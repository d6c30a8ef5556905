// Label selectors, both forms: the string form users type (kubectl -l, kured's
// --blocking-pod-selector) and the object form in PDBs. Matching follows
// k8s.io/apimachinery/pkg/labels: requirements are ANDed; an empty selector matches everything
// (for PDBs an empty object selector matches all pods in the namespace, as policy/v1 specifies).
import type { V1LabelSelector } from '@kubernetes/client-node';
import { UserError } from '../errors.ts';

type Op = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export interface Requirement {
  key: string;
  op: Op;
  values: string[];
}
export type Selector = Requirement[];

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Parses "a=b,c!=d,e in (x,y),f notin (z),g,!h". Throws a UserError naming the bad part. */
export function parseSelector(text: string, what = 'label selector'): Selector {
  const out: Selector = [];
  const src = text.trim();
  if (!src) return out;
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of src) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    let m: RegExpMatchArray | null;
    const checkKey = (key: string) => {
      if (!KEY.test(key) || key.length > 316)
        throw new UserError(`invalid ${what} "${text}": "${key}" is not a valid label key`);
      return key;
    };
    const checkValue = (value: string) => {
      if (!VALUE.test(value) || value.length > 63)
        throw new UserError(`invalid ${what} "${text}": "${value}" is not a valid label value`);
      return value;
    };
    if ((m = p.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim()));
      out.push({ key: checkKey(m[1]!), op: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = p.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      out.push({ key: checkKey(m[1]!), op: m[2] === '!=' ? 'NotIn' : 'In', values: [checkValue(m[3]!)] });
    } else if ((m = p.match(/^!\s*(\S+)$/))) {
      out.push({ key: checkKey(m[1]!), op: 'DoesNotExist', values: [] });
    } else if ((m = p.match(/^(\S+)$/))) {
      out.push({ key: checkKey(m[1]!), op: 'Exists', values: [] });
    } else {
      throw new UserError(`invalid ${what} "${text}": cannot parse "${p}"`);
    }
  }
  return out;
}

export function fromLabelSelector(selector: V1LabelSelector | undefined): Selector {
  const out: Selector = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    out.push({ key, op: 'In', values: [value] });
  for (const e of selector?.matchExpressions ?? [])
    out.push({ key: e.key, op: e.operator as Op, values: e.values ?? [] });
  return out;
}

export function matches(sel: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'In':
        return has && r.values.includes(l[r.key]!);
      case 'NotIn':
        return !has || !r.values.includes(l[r.key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}
