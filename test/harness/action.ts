// Runs the bundled action the way the GitHub runner starts it: `node action/index.js` (Node 24)
// with INPUT_* variables, the event in a file at GITHUB_EVENT_PATH, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files; returns its exit code, log and outputs. Used by the tests, the
// benchmarks and the demo.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ACTION = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'action', 'index.js');

/** Execution settings that keep a test's run short: no soak, quick retries, short timeouts. */
export const FAST_EXECUTE_SETTINGS: Readonly<Record<string, string>> = {
  soak: '0',
  'drain-retry-delay': '1',
  'lock-ttl': '5',
  'reboot-timeout': '30',
  'workload-timeout': '60',
};

/** The action inputs the GitHub tests run with (the kubeconfig is each file's own). */
export const FAST_ACTION_INPUTS: Readonly<Record<string, string>> = {
  'cluster-name': 'aks-prod',
  'github-token': 'ghs_not-a-real-token',
  'probe-timeout': '20',
  ...FAST_EXECUTE_SETTINGS,
  'progress-interval': '1',
};

export interface ActionEvent {
  name: string;
  payload?: object;
  actor?: string;
}

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  wallMs: number;
}

let serial = 0;

export async function runAction(o: {
  dir: string;
  event: ActionEvent;
  env?: Record<string, string>;
  inputs?: Record<string, string>;
  onOutput?: (chunk: string) => void;
  signal?: AbortSignal;
}): Promise<ActionRun> {
  const n = `${process.pid}-${++serial}`;
  const out = join(o.dir, `output-${n}`);
  const eventPath = join(o.dir, `event-${n}.json`);
  const summary = join(o.dir, 'summary.md');
  writeFileSync(out, '');
  writeFileSync(summary, '', { flag: 'a' });
  writeFileSync(eventPath, JSON.stringify(o.event.payload ?? {}));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    GITHUB_EVENT_NAME: o.event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_ACTOR: o.event.actor ?? 'alice',
    GITHUB_OUTPUT: out,
    GITHUB_STEP_SUMMARY: summary,
    RUNNER_TEMP: o.dir,
    ...o.env,
  };
  for (const [k, v] of Object.entries(o.inputs ?? {})) env[`INPUT_${k.toUpperCase()}`] = v;
  const t0 = performance.now();
  // `signal` kills the job as a cancelled runner or an OOM would: SIGKILL, no cleanup.
  const child = spawn(process.execPath, [ACTION], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    ...(o.signal ? { signal: o.signal, killSignal: 'SIGKILL' as const } : {}),
  });
  child.on('error', () => undefined);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    o.onOutput?.(d.toString());
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    o.onOutput?.(d.toString());
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const wallMs = performance.now() - t0;
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(out, 'utf8').matchAll(
    /^([a-z-]+)<<(ghadelimiter_[0-9a-f-]+)\n([\s\S]*?)\n\2$/gm,
  ))
    outputs[m[1]!] = m[3]!;
  return { code, stdout, stderr, outputs, wallMs };
}
