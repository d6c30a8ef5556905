// Settings shared by the action (inputs) and the CLI (flags): one kebab-case name each, one
// schema, one set of defaults. Values arrive as strings from either side and are validated
// here, so bad input fails with a message naming the setting before anything touches a cluster.
import { z } from 'zod';
import { UserError } from './errors.ts';
import { parseSelector } from './kube/selector.ts';

export const bool = (name: string) =>
  z.string().transform((v, ctx) => {
    const t = v.trim().toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(t)) return true;
    if (['false', 'no', '0', 'off', ''].includes(t)) return false;
    ctx.addIssue({ code: 'custom', message: `${name} must be true or false, not "${v}"` });
    return z.NEVER;
  });

export const int = (name: string, min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const n = Number(v.trim());
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be a whole number from ${min} to ${max}, not "${v}"`,
      });
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

const labels = (name: string) =>
  z.string().transform((v, ctx) => {
    const out: Record<string, string> = {};
    for (const part of v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const m = part.match(/^([A-Za-z0-9][-A-Za-z0-9_./]*)=([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/);
      if (!m) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be key=value pairs separated by commas, not "${part}"`,
        });
        return z.NEVER;
      }
      out[m[1]!] = m[2] ?? '';
    }
    return out;
  });

const regexp = (name: string) =>
  z.string().transform((v, ctx) => {
    if (!v) return undefined;
    try {
      return new RegExp(v);
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} is not a valid regular expression: ${(e as Error).message}`,
      });
      return z.NEVER;
    }
  });

const url = (name: string) =>
  z.string().refine((v) => v === '' || /^https?:\/\/[^\s]+$/.test(v), `${name} must be an http(s) URL`);

export const DETECTORS = ['probe', 'kured'] as const;

/** Every plan setting: name -> [schema, default, description]. README and action.yml list the same. */
export const PLAN_SETTINGS = {
  kubeconfig: [z.string(), '', 'Path to a kubeconfig file; empty uses KUBECONFIG or ~/.kube/config.'],
  context: [z.string(), '', 'Kubeconfig context; empty uses the current context.'],
  'cluster-name': [
    z.string().max(100),
    '',
    'Name shown in reports and used to find the tracking issue; empty uses the kubeconfig cluster name.',
  ],
  detectors: [
    z.string().transform((v, ctx) => {
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = list.filter((d) => !(DETECTORS as readonly string[]).includes(d));
      if (!list.length || bad.length) {
        ctx.addIssue({
          code: 'custom',
          message:
            `detectors must be a comma-separated list of ${DETECTORS.join(', ')}` +
            (bad.length ? ` (unknown: ${bad.join(', ')})` : ''),
        });
        return z.NEVER;
      }
      return list as (typeof DETECTORS)[number][];
    }),
    'probe,kured',
    'Where reboot evidence comes from: probe (host probe pods) and/or kured (kured node annotations).',
  ],
  sentinel: [
    z
      .string()
      .regex(
        /^\/[A-Za-z0-9._/-]+$/,
        'sentinel must be an absolute path of letters, digits, ".", "_", "-" and "/"',
      ),
    '/var/run/reboot-required',
    "File whose presence means a reboot is required (kured's --reboot-sentinel); <sentinel>.pkgs lists the packages.",
  ],
  'sentinel-command': [
    z.string(),
    '',
    "Shell command run in the probe pod instead of the file check; exit 0 means a reboot is required. The node's files are under $HOST_ROOT.",
  ],
  image: [
    z.string().min(1),
    'mcr.microsoft.com/azurelinux/busybox:1.36',
    'Image for probe and reboot pods (needs sh, awk, sed, tr, ls, date, stat; nsenter for the default reboot command).',
  ],
  namespace: [
    z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'namespace must be a namespace name'),
    'kube-system',
    'Namespace for probe and reboot pods, the run lock and the ledger (ConfigMap reboot-pilot-ledger); must allow privileged pods and hostPath volumes.',
  ],
  'probe-parallelism': [int('probe-parallelism', 1, 200), '10', 'Probe pods running at once.'],
  'probe-timeout': [int('probe-timeout', 5, 3600), '120', 'Seconds one probe may take, image pull included.'],
  'node-selector': [selector('node-selector'), '', 'Label selector: only matching nodes are considered.'],
  'blocking-pod-selector': [
    selector('blocking-pod-selector'),
    '',
    "Label selector: a matching pod on a node holds its reboot (kured's --blocking-pod-selector).",
  ],
  order: [
    z.enum(['pool', 'risk', 'name']),
    'pool',
    'Node order: pool (pool by pool, fewest risks first), risk, or name.',
  ],
  'delete-emptydir-data': [
    bool('delete-emptydir-data'),
    'false',
    'Evict pods with emptyDir volumes (their data is lost), as kubectl drain --delete-emptydir-data.',
  ],
  force: [bool('force'), 'false', 'Evict pods that no controller recreates, as kubectl drain --force.'],
  'reboot-on-newer-kernel': [
    bool('reboot-on-newer-kernel'),
    'false',
    'A newer installed kernel than the running one counts as needing a reboot even without a sentinel (Azure Linux, RHEL family).',
  ],
} as const;

/** Settings that only execution reads. */
export const EXECUTE_SETTINGS = {
  'drain-timeout': [
    int('drain-timeout', 10, 86_400),
    '900',
    "Seconds a node's drain may take before the run stops (PDB-blocked evictions are retried until then).",
  ],
  'drain-grace-period': [
    int('drain-grace-period', -1, 86_400),
    '-1',
    "Grace period for evicted pods in seconds; -1 uses each pod's own.",
  ],
  'drain-pod-selector': [
    selector('drain-pod-selector'),
    '',
    'Label selector: only matching pods are evicted (kubectl drain --pod-selector).',
  ],
  'drain-retry-delay': [
    int('drain-retry-delay', 0, 300),
    '5',
    'Seconds before retrying an eviction refused with 429; doubles per refusal up to 30.',
  ],
  'reboot-method': [
    z.enum(['pod', 'signal', 'azure-vmss']),
    'pod',
    "pod: a privileged pod runs reboot-command on the node; signal: SIGRTMIN+5 to PID 1 (needs only CAP_KILL); azure-vmss: restart the Azure VMSS instance (or VM) named by the node's providerID (needs the Azure settings).",
  ],
  'reboot-command': [
    z.string().min(1),
    'nsenter -m/proc/1/ns/mnt -- /bin/systemctl reboot',
    'Command the reboot pod runs (reboot-method pod).',
  ],
  'reboot-timeout': [
    int('reboot-timeout', 10, 86_400),
    '900',
    'Seconds for a node to come back Ready with a new boot ID.',
  ],
  'reboot-delay': [int('reboot-delay', 0, 86_400), '0', 'Seconds to wait between the drain and the reboot.'],
  'workload-timeout': [
    int('workload-timeout', 0, 86_400),
    '600',
    'Seconds to wait after uncordon for the evicted workloads to be available again.',
  ],
  soak: [
    int('soak', 0, 86_400),
    '60',
    'Seconds to wait after a node is back and its workloads are available, before the next node.',
  ],
  'lock-ttl': [
    int('lock-ttl', 5, 3600),
    '120',
    "Seconds after its last renewal that a dead run's lock may be taken over.",
  ],
  'kured-daemonset': [
    z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, 'kured-daemonset must be namespace/name'),
    'kube-system/kured',
    "kured's DaemonSet (namespace/name): no run starts while kured holds its lock.",
  ],
  'take-kured-lock': [
    bool('take-kured-lock'),
    'false',
    "Hold kured's lock for the run, so kured cannot reboot a node meanwhile.",
  ],
  'max-nodes': [int('max-nodes', 0, 100_000), '0', 'Nodes to patch in one run at most; 0 means all.'],
  'reboot-days': [
    z
      .string()
      .regex(
        /^\s*[a-zA-Z]{3}[a-zA-Z]*(\s*,\s*[a-zA-Z]{3}[a-zA-Z]*)*\s*$/,
        'reboot-days must list days like mon,tue,...,sun',
      ),
    'mon,tue,wed,thu,fri,sat,sun',
    "Days a node may start (kured's --reboot-days).",
  ],
  'start-time': [
    z.string().regex(/^\d{1,2}:\d{2}(:\d{2})?$/, 'start-time must be a time of day like 22:00'),
    '0:00',
    "Time of day from which a node may start (kured's --start-time).",
  ],
  'end-time': [
    z.string().regex(/^\d{1,2}:\d{2}(:\d{2})?$/, 'end-time must be a time of day like 06:00'),
    '23:59:59',
    'Time of day until which a node may start; before start-time means the window spans midnight.',
  ],
  'time-zone': [z.string().min(1), 'UTC', 'IANA time zone of reboot-days, start-time and end-time.'],
  'alerts-url': [
    url('alerts-url'),
    '',
    'Prometheus or Alertmanager URL: while matching alerts are active, no node starts (unreachable counts as active).',
  ],
  'alerts-include': [
    regexp('alerts-include'),
    '',
    'Regular expression: only alerts whose name matches hold reboots (empty: all).',
  ],
  'alerts-exclude': [
    regexp('alerts-exclude'),
    '',
    'Regular expression: alerts whose name matches never hold reboots.',
  ],
  'alerts-firing-only': [
    bool('alerts-firing-only'),
    'true',
    'Only firing alerts hold reboots (pending ones do not).',
  ],
  'pre-reboot-node-labels': [
    labels('pre-reboot-node-labels'),
    '',
    'Labels (k=v,...) set on a node before it is cordoned.',
  ],
  'post-reboot-node-labels': [
    labels('post-reboot-node-labels'),
    '',
    'Labels (k=v,...) set on a node after it is back and uncordoned.',
  ],
  'prefer-no-schedule-taint': [
    bool('prefer-no-schedule-taint'),
    'true',
    'Taint the nodes still waiting for their reboot PreferNoSchedule while a plan executes, so evicted pods prefer nodes already done (each pod moves once); removed as each node is done and when the run ends.',
  ],
  'force-reboot': [
    bool('force-reboot'),
    'false',
    'Reboot a node whose drain timed out anyway (evicting what remains is then up to the reboot).',
  ],
  'notify-url': [
    url('notify-url'),
    '',
    'Slack or Microsoft Teams webhook for drain, reboot and uncordon messages (keep it in a secret).',
  ],
  'notify-format': [
    z.enum(['auto', 'slack', 'teams']),
    'auto',
    "Message format for notify-url; auto decides by the URL's host.",
  ],
  'notify-template-drain': [
    z.string().min(1),
    'Draining node %s',
    'Message at drain: %s or {{node}} is the node, {{plan}} the plan ID, {{cluster}} the cluster.',
  ],
  'notify-template-reboot': [
    z.string().min(1),
    'Rebooting node %s',
    'Message at reboot (same placeholders).',
  ],
  'notify-template-uncordon': [
    z.string().min(1),
    'Node %s rebooted and uncordoned',
    'Message at uncordon (same placeholders).',
  ],
} as const;

export type Spec = Record<string, readonly [z.ZodType, string, string]>;
/** `drain-timeout` -> `drainTimeout`: settings are named in kebab-case outside, camelCase in code. */
export type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;
export const camelCase = (name: string): string =>
  name.replace(/-([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
/** A group of settings once validated: camelCase keys, typed values; all that code below the edge sees. */
export type Parsed<S extends Spec> = {
  -readonly [K in keyof S as CamelCase<K & string>]: z.output<S[K][0]>;
};
export type PlanSettings = Parsed<typeof PLAN_SETTINGS>;
export type ExecuteSettings = Parsed<typeof EXECUTE_SETTINGS>;

/** Validates raw settings of one group (missing ones take their defaults); one UserError names all. */
export function parseSettings<S extends Spec>(
  spec: S,
  raw: Partial<Record<string, string | undefined>>,
): Parsed<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, [schema, def]] of Object.entries(spec)) {
    const r = schema.safeParse(raw[name] ?? def);
    if (r.success) out[camelCase(name)] = r.data;
    else
      problems.push(
        ...r.error.issues.map((i) => (i.message.includes(name) ? i.message : `${name}: ${i.message}`)),
      );
  }
  if (problems.length) throw new UserError(`invalid settings: ${problems.join('; ')}`);
  return out as Parsed<S>;
}

/** Validates raw settings (missing ones take their defaults); throws one UserError listing all problems. */
export const parsePlanSettings = (raw: Partial<Record<string, string | undefined>>): PlanSettings =>
  parseSettings(PLAN_SETTINGS, raw);
export const parseExecuteSettings = (raw: Partial<Record<string, string | undefined>>): ExecuteSettings =>
  parseSettings(EXECUTE_SETTINGS, raw);
