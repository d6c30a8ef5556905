// GitHub API requests of the bundled action, run as the runner runs it (node action/index.js,
// INPUT_* variables, GITHUB_EVENT_PATH) against the fake GitHub of test/harness/github.ts and the
// real local control plane with KWOK nodes. The fake records every request it answers; they are
// counted by method and route template (GitHub's OpenAPI description), per action run:
//  - a scheduled plan run that opens the tracking issue,
//  - a second scheduled run with the cluster unchanged,
//  - an approval comment that executes 3 nodes, and one that executes 1 node (the per-node slope
//    is their difference / 2), with the default progress-interval (15) and with 1.
import { writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FakeGitHub } from '../../test/harness/github.ts';
import { markRebootRequired, restoreNodes, startActionTestBed } from '../../test/harness/fixtures.ts';
import { shownPlan } from '../../src/github/body.ts';
import {
  FAST_EXECUTE_SETTINGS,
  runAction as runShared,
  type ActionEvent,
  type ActionRun,
} from '../../test/harness/action.ts';

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** Inputs the action runs with besides the defaults (those of test/integration/github.test.ts, without its progress-interval 1). */
export const GITHUB_INPUTS: Record<string, string> = {
  'cluster-name': 'aks-prod',
  'probe-timeout': '20',
  ...FAST_EXECUTE_SETTINGS,
};

// ---------- route templates from GitHub's description ----------

let routes:
  { method: string; template: string; regex: RegExp; greedy: boolean; params: number }[] | undefined;

/** `GET /repos/{owner}/{repo}/issues` for `GET /repos/contoso/platform/issues`, matched as the fake matches. */
export function routeOf(method: string, path: string): string {
  if (!routes) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    const spec = JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    routes = [];
    for (const [template, methods] of Object.entries(spec.paths)) {
      const greedy = /\{(path|ref)\}$/.test(template);
      const count = (template.match(/\{/g) ?? []).length;
      let i = 0;
      const regex = new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, () => (++i === count && greedy ? '(.+)' : '([^/]+)'))}$`,
      );
      for (const m of Object.keys(methods))
        routes.push({ method: m.toUpperCase(), template, regex, greedy, params: count });
    }
    routes.sort((a, b) => Number(a.greedy) - Number(b.greedy) || a.params - b.params);
  }
  return `${method} ${routes.find((r) => r.method === method && r.regex.test(path))?.template ?? `${path} (no such route)`}`;
}

// ---------- one action run ----------

/** One action run against the fake GitHub (test/harness/action.ts starts it as the runner does). */
function runAction(
  dir: string,
  api: string,
  kubeconfig: string,
  event: ActionEvent,
  inputs: Record<string, string>,
): Promise<ActionRun> {
  return runShared({
    dir,
    event,
    env: { GITHUB_API_URL: api, GITHUB_REPOSITORY: 'contoso/platform', GITHUB_RUN_ID: '4242' },
    inputs: { kubeconfig, 'github-token': 'ghs_not-a-real-token', ...inputs },
  });
}

// ---------- the benchmark ----------

export type Phase = 'open' | 'unchanged' | 'exec1' | 'exec3';
export interface PhaseSample {
  /** `METHOD /template` (with ` → status` when not 2xx) → count. */
  routes: Map<string, number>;
  total: number;
  /** Kubernetes requests for the ledger (the action logs them). */
  ledger: number;
  wallMs: number;
  /** Lines of the tracking issue's body that the run changed (the unchanged run: what its PATCH rewrote). */
  bodyLinesChanged?: string[];
}
/** One round: a fresh fake GitHub, the four action runs, at one progress-interval. */
export interface GitHubRound {
  interval: number;
  phases: Record<Phase, PhaseSample>;
  violations: string[];
}

const USERS = [
  { login: 'alice', role: 'admin' as const },
  { login: 'bob', role: 'write' as const },
];

export async function benchGitHub(
  runs: number,
  intervals: number[],
): Promise<{ rounds: GitHubRound[]; nodes: number }> {
  const {
    cluster,
    simulator: sim,
    core,
    directory: dir,
    kubeconfig,
    nodes: names,
  } = await startActionTestBed({
    directoryPrefix: 'rp-bench-github-',
    cluster: { users: [{ name: 'reboot-pilot' }] },
    rebootDownMs: 1000,
    nodeCount: 3,
  });
  const rounds: GitHubRound[] = [];
  try {
    writeFileSync(join(dir, 'summary'), '');

    let kernelSerial = 1200;
    const pend = (...ns: string[]) => {
      markRebootRequired(sim, `5.15.0-${++kernelSerial}-azure`, ns);
    };
    const reset = () => restoreNodes(sim, core, names);

    for (let r = 0; r < runs; r++) {
      for (const interval of intervals) {
        // A fresh repository: the cluster's ledger of the previous round is not its record.
        await core
          .deleteNamespacedConfigMap({ name: 'reboot-pilot-ledger', namespace: 'kube-system' })
          .catch(() => undefined);
        const gh = new FakeGitHub({ users: USERS });
        const api = await gh.start();
        const inputs = {
          ...GITHUB_INPUTS,
          ...(interval === 15 ? {} : { 'progress-interval': String(interval) }),
        };
        const measured = async (
          what: string,
          f: () => Promise<ActionRun>,
          check: (a: ActionRun) => boolean,
        ): Promise<PhaseSample> => {
          const from = gh.requests.length;
          const comments = gh.comments.size;
          const a = await f();
          log(
            `${what}: the action commented ${JSON.stringify(
              [...gh.comments.values()].slice(comments + (what.startsWith('approval') ? 1 : 0)).map((c) =>
                String(c.body)
                  .split('\n')
                  .filter((l) => !l.startsWith('<!--') && !l.startsWith('|') && l.trim())
                  .slice(0, 2)
                  .join(' / ')
                  .slice(0, 120),
              ),
            )}`,
          );
          if (a.code !== 0 || !check(a))
            throw new Error(
              `${what}: exit ${a.code}, outputs ${JSON.stringify(a.outputs)}\n${a.stdout}\n${a.stderr}`,
            );
          const routes = new Map<string, number>();
          const reqs = gh.requests.slice(from);
          for (const q of reqs) {
            const key = `${routeOf(q.method, q.path)}${q.status >= 300 ? ` → ${q.status}` : ''}`;
            routes.set(key, (routes.get(key) ?? 0) + 1);
          }
          const ledger = Number(a.stdout.match(/ledger [\w/-]+: (\d+) Kubernetes requests/)?.[1] ?? NaN);
          return { routes, total: reqs.length, ledger, wallMs: a.wallMs };
        };
        const schedule = () => runAction(dir, api, kubeconfig, { name: 'schedule' }, inputs);
        const approve = async (number: number) => {
          const body = `/approve ${shownPlan(gh.issues.get(number)!.body as string)!.planId.slice(0, 12)}`;
          const c = gh.comment(number, 'bob', body) as { id: number };
          return runAction(
            dir,
            api,
            kubeconfig,
            {
              name: 'issue_comment',
              actor: 'bob',
              payload: {
                action: 'created',
                issue: { number },
                comment: { id: c.id, body, user: { login: 'bob' } },
              },
            },
            inputs,
          );
        };
        try {
          pend(...names);
          const open = await measured(
            'first schedule',
            schedule,
            (a) => a.outputs['issue-number'] === '1' && a.outputs.state === 'awaiting-approval',
          );
          const before = String(gh.issues.get(1)!.body).split('\n');
          const unchanged = await measured(
            'second schedule',
            schedule,
            (a) =>
              a.outputs['issue-number'] === '1' &&
              a.outputs.state === 'awaiting-approval' &&
              /tracking issue: refreshed/.test(a.stdout),
          );
          const after = String(gh.issues.get(1)!.body).split('\n');
          unchanged.bodyLinesChanged = after
            .filter((l, i) => l !== before[i])
            .concat(after.length !== before.length ? [`(${before.length} → ${after.length} lines)`] : []);
          const exec3 = await measured(
            'approval of 3 nodes',
            () => approve(1),
            (a) => a.outputs.state === 'completed' && a.outputs['nodes-rebooted'] === '3',
          );
          await reset();
          pend(names[0]!);
          const one = await schedule();
          const number = Number(one.outputs['issue-number']);
          if (one.code !== 0 || !(number > 1))
            throw new Error(`schedule of 1 node: ${one.stdout}\n${one.stderr}`);
          const exec1 = await measured(
            'approval of 1 node',
            () => approve(number),
            (a) => a.outputs.state === 'completed' && a.outputs['nodes-rebooted'] === '1',
          );
          await reset();
          const phases = { open, unchanged, exec1, exec3 };
          rounds.push({ interval, phases, violations: [...gh.violations] });
          log(
            `github run ${r + 1}, progress-interval ${interval}: ${(Object.keys(phases) as Phase[]).map((p) => `${p} ${phases[p].total} requests (${(phases[p].wallMs / 1000).toFixed(1)} s)`).join(', ')}; ${gh.violations.length} violations`,
          );
        } finally {
          await gh.stop();
        }
      }
    }
    return { rounds, nodes: names.length };
  } finally {
    await sim.stop();
    await cluster.stop();
  }
}
