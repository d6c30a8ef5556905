// Cold start of the bundled action: from the spawn of `node action/index.js` (as the runner
// starts it: INPUT_* variables, a schedule event, a github-token) to the first request a loopback
// HTTP server receives. The server stands in for both GitHub (GITHUB_API_URL) and the Kubernetes
// API server (the kubeconfig's server), so whichever the action calls first counts; the child is
// killed once the first request is in. For reference: the import of the bundle alone (in-process,
// see import-child.ts) and the spawn-to-exit of an empty `node -e 0`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ACTION = join(root, 'action', 'index.js');
const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

export interface BundleFile {
  path: string;
  bytes: number;
}

/** index.js and the chunks it imports statically (transitively): what Node loads before run(). */
export function bundleFiles(): { loaded: BundleFile[]; sha256: string } {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.{1,2}\/[^"']+)["']/g))
      visit(join(dirname(file), m[1]!));
  };
  visit(ACTION);
  const loaded = [...seen].map((f) => ({ path: relative(root, f), bytes: statSync(f).size }));
  return { loaded, sha256: createHash('sha256').update(readFileSync(ACTION)).digest('hex').slice(0, 12) };
}

export interface ColdStartRun {
  /** Spawn to the first request received. */
  firstRequestMs: number;
  firstRequest: string;
  /** In the child: Node's start (performance.timeOrigin) to the start of the import, and the import itself. */
  importMs: number;
  nodeStartMs: number;
  /** Spawn to exit of `node -e 0`. */
  emptyNodeMs: number;
}

function spawnToExit(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ ms: performance.now() - t0, stderr, code }));
  });
}

async function firstRequest(dir: string): Promise<{ ms: number; what: string }> {
  let resolveFirst: (v: { at: number; what: string }) => void = () => undefined;
  const first = new Promise<{ at: number; what: string }>((r) => (resolveFirst = r));
  const server = createServer((req, res) => {
    resolveFirst({
      at: performance.now(),
      what: `${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`,
    });
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"bench"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${url}\nusers:\n- name: u\n  user:\n    token: not-a-token\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n`,
  );
  writeFileSync(join(dir, 'event.json'), '{}');
  writeFileSync(join(dir, 'output'), '');
  writeFileSync(join(dir, 'summary'), '');
  const env = {
    ...process.env,
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_ACTOR: 'alice',
    GITHUB_API_URL: url,
    GITHUB_REPOSITORY: 'contoso/platform',
    GITHUB_RUN_ID: '4242',
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    RUNNER_TEMP: dir,
    INPUT_KUBECONFIG: kubeconfig,
    'INPUT_CLUSTER-NAME': 'aks-prod',
    'INPUT_GITHUB-TOKEN': 'ghs_not-a-real-token',
  };
  const t0 = performance.now();
  const child = spawn(process.execPath, [ACTION], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', r));
  try {
    const got = await Promise.race([
      first,
      closed.then((code) =>
        Promise.reject(new Error(`the action exited ${code} before any request:\n${out}`)),
      ),
    ]);
    return { ms: got.at - t0, what: got.what };
  } finally {
    child.kill('SIGKILL');
    await closed;
    await new Promise<void>((r) => server.close(() => r()));
  }
}

export async function benchColdStart(
  runs: number,
): Promise<{ runs: ColdStartRun[]; bundle: ReturnType<typeof bundleFiles> }> {
  const bundle = bundleFiles();
  const out: ColdStartRun[] = [];
  // Without GITHUB_EVENT_NAME (or any GITHUB_*/INPUT_*), run() stops at once: the import is the load alone.
  const bare = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(GITHUB_|INPUT_|RUNNER_)/.test(k)),
  );
  // One unmeasured round warms the page cache, as a runner's second step would find it.
  await firstRequest(mkdtempSync(join(tmpdir(), 'rp-bench-cold-')));
  for (let r = 0; r < runs; r++) {
    const fr = await firstRequest(mkdtempSync(join(tmpdir(), 'rp-bench-cold-')));
    const imp = await spawnToExit([join(root, 'tools/bench/import-child.ts'), ACTION], bare);
    const line = imp.stderr.split('\n').find((l) => l.startsWith('{"importMs"'));
    if (!line) throw new Error(`import child: ${imp.stderr}`);
    const { importMs, startMs } = JSON.parse(line) as { importMs: number; startMs: number };
    const empty = await spawnToExit(['-e', '0'], bare);
    out.push({
      firstRequestMs: fr.ms,
      firstRequest: fr.what,
      importMs,
      nodeStartMs: startMs,
      emptyNodeMs: empty.ms,
    });
    log(
      `cold start run ${r + 1}: first request (${fr.what}) after ${fr.ms.toFixed(0)} ms; import ${importMs.toFixed(0)} ms; empty node ${empty.ms.toFixed(0)} ms`,
    );
  }
  return { runs: out, bundle };
}
