// Settings shared by the action (inputs) and the CLI (flags): one kebab-case name each, one
// schema, one set of defaults. Values arrive as strings from either side and are validated
// here, so bad input fails with a message naming the setting before anything touches a cluster.
import { z } from 'zod';
import { UserError } from './kube/client.ts';
import { parseSelector } from './kube/selector.ts';

const bool = (name: string) =>
  z
    .string()
    .transform((v, ctx) => {
      const t = v.trim().toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(t)) return true;
      if (['false', 'no', '0', 'off', ''].includes(t)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false, not "${v}"` });
      return z.NEVER;
    });

const int = (name: string, min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const n = Number(v.trim());
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}, not "${v}"` });
      return z.NEVER;
    }
    return n;
  });

const selector = (name: string) =>
  z.string().transform((v, ctx) => {
    try {
      parseSelector(v, name);
      return v.trim();
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

export const DETECTORS = ['probe', 'kured'] as const;

/** Every plan setting: name -> [schema, default, description]. README and action.yml list the same. */
export const PLAN_SETTINGS = {
  kubeconfig: [z.string(), '', 'Path to a kubeconfig file; empty uses KUBECONFIG or ~/.kube/config.'],
  context: [z.string(), '', 'Kubeconfig context; empty uses the current context.'],
  'cluster-name': [z.string().max(100), '', 'Name shown in reports and used to find the tracking issue; empty uses the kubeconfig cluster name.'],
  detectors: [
    z.string().transform((v, ctx) => {
      const list = v.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = list.filter((d) => !(DETECTORS as readonly string[]).includes(d));
      if (!list.length || bad.length) {
        ctx.addIssue({ code: 'custom', message: `detectors must be a comma-separated list of ${DETECTORS.join(', ')}${bad.length ? ` (unknown: ${bad.join(', ')})` : ''}` });
        return z.NEVER;
      }
      return list as (typeof DETECTORS)[number][];
    }),
    'probe,kured',
    'Where reboot evidence comes from: probe (host probe pods) and/or kured (kured node annotations).',
  ],
  sentinel: [
    z.string().regex(/^\/[A-Za-z0-9._/-]+$/, 'sentinel must be an absolute path of letters, digits, ".", "_", "-" and "/"'),
    '/var/run/reboot-required',
    "File whose presence means a reboot is required (kured's --reboot-sentinel); <sentinel>.pkgs lists the packages.",
  ],
  'sentinel-command': [z.string(), '', 'Shell command run in the probe pod instead of the file check; exit 0 means a reboot is required. The node\'s files are under $HOST_ROOT.'],
  'probe-image': [z.string().min(1), 'mcr.microsoft.com/azurelinux/busybox:1.36', 'Image for probe pods (needs sh, awk, sed, tr, ls, date, stat).'],
  'probe-namespace': [z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'probe-namespace must be a namespace name'), 'kube-system', 'Namespace for probe pods; must allow hostPath volumes (Pod Security "privileged").'],
  'probe-parallelism': [int('probe-parallelism', 1, 200), '10', 'Probe pods running at once.'],
  'probe-timeout': [int('probe-timeout', 5, 3600), '120', 'Seconds one probe may take, image pull included.'],
  'node-selector': [selector('node-selector'), '', 'Label selector: only matching nodes are considered.'],
  'blocking-pod-selector': [selector('blocking-pod-selector'), '', "Label selector: a matching pod on a node holds its reboot (kured's --blocking-pod-selector)."],
  order: [z.enum(['pool', 'risk', 'name']), 'pool', 'Node order: pool (pool by pool, fewest risks first), risk, or name.'],
  'delete-emptydir-data': [bool('delete-emptydir-data'), 'false', 'Evict pods with emptyDir volumes (their data is lost), as kubectl drain --delete-emptydir-data.'],
  force: [bool('force'), 'false', 'Evict pods that no controller recreates, as kubectl drain --force.'],
  'reboot-on-newer-kernel': [bool('reboot-on-newer-kernel'), 'false', 'A newer installed kernel than the running one counts as needing a reboot even without a sentinel (Azure Linux, RHEL family).'],
} as const;

type Spec = typeof PLAN_SETTINGS;
export type PlanSettings = { [K in keyof Spec]: z.output<Spec[K][0]> };

/** Validates raw string settings (missing ones take their defaults); throws one UserError listing every problem. */
export function parsePlanSettings(raw: Partial<Record<keyof Spec, string | undefined>>): PlanSettings {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, [schema, def]] of Object.entries(PLAN_SETTINGS) as [keyof Spec, Spec[keyof Spec]][]) {
    const value = raw[name] ?? def;
    const r = (schema as z.ZodType).safeParse(value);
    if (r.success) out[name] = r.data;
    else problems.push(...r.error.issues.map((i) => (i.message.includes(name) ? i.message : `${name}: ${i.message}`)));
  }
  if (problems.length) throw new UserError(`invalid settings: ${problems.join('; ')}`);
  return out as PlanSettings;
}
