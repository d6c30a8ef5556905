// Drains a node that the executor has already cordoned (it cordons and records the step in one
// patch, src/execute/progress.ts), with kubectl drain's semantics and without kured's hang: every round
// re-lists the node's pods, so a pod recreated or finished meanwhile is seen. Evictions go
// through the Eviction API (policy/v1) in parallel. Each round also reads the
// PodDisruptionBudgets, so a pod whose budget allows no disruption now is not sent a doomed
// eviction, and is evicted in the first round its budget allows one (kubectl retries blindly
// every 5 s). A 429 anyway (a stale budget, API throttling) is retried per pod with back-off.
// Refusals (emptyDir, no controller) stop the drain before anything is evicted, and so does a
// pod two budgets select (the eviction API refuses it), naming both; the whole drain has a deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { explainApiError, type KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { fromLabelSelector, matches, parseSelector } from '../kube/selector.ts';
import { classifyPod, isFinished, type DrainOptions } from './filters.ts';
import { listAll } from '../cluster/snapshot.ts';

export interface DrainSettings extends DrainOptions {
  /** Whole-drain deadline. */
  timeoutSeconds: number;
  /** Eviction grace period; -1 uses each pod's own terminationGracePeriodSeconds. */
  gracePeriodSeconds: number;
  /** Only pods matching this selector are evicted (kubectl drain --pod-selector). */
  podSelector: string;
  /** First back-off after a 429; doubles per refusal of the same pod, up to 30 s. */
  retryDelayMs: number;
  /** Evictions in flight at once. */
  concurrency: number;
  /** Read PodDisruptionBudgets each round and hold evictions they would refuse (default true). */
  budgetAware?: boolean;
}

export interface EvictedPod {
  namespace: string;
  name: string;
  uid: string;
  owner?: { kind: string; name: string };
}

export class DrainError extends UserError {
  readonly remaining: string[];
  constructor(message: string, remaining: string[]) {
    super(message);
    this.remaining = remaining;
  }
}

export type Log = (line: string) => void;
const ref = (p: k8s.V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

export async function podsOnNode(c: KubeClients, node: string): Promise<k8s.V1Pod[]> {
  try {
    return await listAll((page) =>
      c.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}`, ...page }),
    );
  } catch (e) {
    throw explainApiError(e, 'list', `pods on node ${node}`, c.server);
  }
}

/** Evicts every evictable pod from a (cordoned) node; returns what it evicted. */
export async function drainNode(
  c: KubeClients,
  node: string,
  s: DrainSettings,
  log: Log,
  abort?: AbortSignal,
): Promise<EvictedPod[]> {
  const selector = parseSelector(s.podSelector, 'pod selector');
  const deadline = Date.now() + s.timeoutSeconds * 1000;
  const evicted = new Map<string, EvictedPod>();
  const nextTry = new Map<string, { at: number; delay: number; why: string }>();
  const waitingOn = new Map<string, string>();
  let first = true;
  for (;;) {
    if (abort?.aborted) throw new DrainError(`drain of ${node} interrupted`, []);
    const pods = (await podsOnNode(c, node)).filter((p) => matches(selector, p.metadata?.labels));
    const pending: k8s.V1Pod[] = [];
    const refused: string[] = [];
    for (const p of pods) {
      const v = classifyPod(p, s);
      if (v.action === 'skip') continue;
      if (v.action === 'refuse')
        refused.push(
          `${ref(p)} (${v.reason === 'emptydir' ? 'uses emptyDir: set delete-emptydir-data' : 'has no controller: set force'})`,
        );
      else pending.push(p);
    }
    if (refused.length) {
      throw new DrainError(
        `cannot drain ${node}${first ? '' : ' (a pod appeared during the drain)'}: ${refused.join('; ')}`,
        refused,
      );
    }
    first = false;
    if (!pending.length) return [...evicted.values()];
    if (Date.now() > deadline) {
      const reason = (p: k8s.V1Pod) =>
        nextTry.get(p.metadata!.uid!)?.why ??
        waitingOn.get(p.metadata!.uid!) ??
        (p.metadata?.deletionTimestamp ? 'terminating' : '');
      const why = pending.map((p) => `${ref(p)}${reason(p) ? ` (${reason(p)})` : ''}`);
      throw new DrainError(
        `drain of ${node} timed out after ${s.timeoutSeconds}s; still on the node: ${why.join('; ')}`,
        pending.map(ref),
      );
    }
    const now = Date.now();
    const candidates = pending.filter(
      (p) => !p.metadata?.deletionTimestamp && (nextTry.get(p.metadata!.uid!)?.at ?? 0) <= now,
    );
    const budgets = candidates.length && s.budgetAware !== false ? await readBudgets(c) : [];
    const due: k8s.V1Pod[] = [];
    for (const p of candidates) {
      const mine = budgets.filter(
        (b) => b.namespace === p.metadata?.namespace && matches(b.selector, p.metadata?.labels),
      );
      if (mine.length > 1 && !isFinished(p)) throw overlapError(node, p, mine);
      const closed = mine.find((b) => b.allowed <= 0);
      if (closed) {
        const why = `PodDisruptionBudget ${closed.namespace}/${closed.name} allows no disruption now`;
        if (!waitingOn.has(p.metadata!.uid!)) log(`${ref(p)}: waiting, ${why}`);
        waitingOn.set(p.metadata!.uid!, why);
        continue;
      }
      for (const b of mine) b.allowed--;
      due.push(p);
    }
    // Bounded parallel evictions.
    for (let i = 0; i < due.length; i += s.concurrency) {
      await Promise.all(due.slice(i, i + s.concurrency).map((p) => evictOne(c, p, s, evicted, nextTry, log)));
    }
    // Soon after progress (replacements become healthy quickly), otherwise once a second.
    const soonest = Math.min(
      ...pending.map((p) => nextTry.get(p.metadata!.uid!)?.at ?? now + 1000),
      now + 1000,
    );
    await sleep(due.length ? 250 : Math.max(100, Math.min(1000, soonest - Date.now())));
  }
}

/**
 * Before the node is cordoned: a pod the drain would evict that two budgets select can never be
 * evicted (the eviction API answers 500), so the drain is refused with both budgets named.
 */
export async function checkBudgetOverlap(c: KubeClients, node: string, s: DrainSettings): Promise<void> {
  const selector = parseSelector(s.podSelector, 'pod selector');
  const pods = (await podsOnNode(c, node)).filter((p) => matches(selector, p.metadata?.labels));
  // A finished pod is deleted whatever its budgets say.
  const evictable = pods.filter((p) => classifyPod(p, s).action === 'evict' && !isFinished(p));
  if (!evictable.length) return;
  const budgets = await readBudgets(c);
  for (const p of evictable) {
    const ns = p.metadata?.namespace;
    const mine = budgets.filter((b) => b.namespace === ns && matches(b.selector, p.metadata?.labels));
    if (mine.length > 1) throw overlapError(node, p, mine);
  }
}

interface Budget {
  namespace: string;
  name: string;
  selector: ReturnType<typeof fromLabelSelector>;
  allowed: number;
}

/** Current budgets; one whose status is not yet computed for its spec allows nothing. */
async function readBudgets(c: KubeClients): Promise<Budget[]> {
  let pdbs: k8s.V1PodDisruptionBudget[];
  try {
    pdbs = await listAll((page) => c.policy.listPodDisruptionBudgetForAllNamespaces(page));
  } catch (e) {
    throw explainApiError(e, 'list', 'poddisruptionbudgets.policy', c.server);
  }
  return pdbs.map((p) => ({
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    selector: fromLabelSelector(p.spec?.selector),
    allowed:
      p.status?.observedGeneration === p.metadata?.generation ? (p.status?.disruptionsAllowed ?? 0) : 0,
  }));
}

async function evictOne(
  c: KubeClients,
  p: k8s.V1Pod,
  s: DrainSettings,
  evicted: Map<string, EvictedPod>,
  nextTry: Map<string, { at: number; delay: number; why: string }>,
  log: Log,
): Promise<void> {
  const uid = p.metadata!.uid!;
  const body: k8s.V1Eviction = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: p.metadata!.name!, namespace: p.metadata!.namespace! },
    // The UID precondition: never evict a same-named successor by accident.
    deleteOptions: {
      preconditions: { uid },
      ...(s.gracePeriodSeconds >= 0 ? { gracePeriodSeconds: s.gracePeriodSeconds } : {}),
    },
  };
  try {
    await c.core.createNamespacedPodEviction({
      name: p.metadata!.name!,
      namespace: p.metadata!.namespace!,
      body,
    });
    const owner = p.metadata?.ownerReferences?.find((o) => o.controller);
    evicted.set(uid, {
      namespace: p.metadata!.namespace!,
      name: p.metadata!.name!,
      uid,
      ...(owner ? { owner: { kind: owner.kind, name: owner.name } } : {}),
    });
    nextTry.delete(uid);
    log(`evicted ${ref(p)}`);
  } catch (e) {
    if (e instanceof k8s.ApiException) {
      if (e.code === 404 || e.code === 409) return; // gone, or a new pod with that name: re-listed next round
      if (e.code === 429 || (e.code === 403 && String(e.body).includes('terminating'))) {
        const prev = nextTry.get(uid);
        const delay = prev ? Math.min(prev.delay * 2, 30_000) : s.retryDelayMs;
        const why =
          e.code === 429
            ? `eviction refused: ${messageOf(e.body) || 'a PodDisruptionBudget allows no more disruptions'}`
            : 'namespace terminating';
        if (!prev) log(`${ref(p)}: ${why}; retrying with back-off`);
        nextTry.set(uid, { at: Date.now() + delay, delay, why });
        return;
      }
    }
    const overlap =
      e instanceof k8s.ApiException &&
      e.code === 500 &&
      /more than one PodDisruptionBudget/i.test(messageOf(e.body));
    if (overlap) {
      // Budgets read blind (or created since the last round): name them.
      const ns = p.metadata?.namespace;
      const mine = (await readBudgets(c)).filter(
        (b) => b.namespace === ns && matches(b.selector, p.metadata?.labels),
      );
      throw overlapError(p.spec?.nodeName ?? '', p, mine);
    }
    throw explainApiError(e, 'create', `pods/eviction ${ref(p)}`, c.server);
  }
}

/** The eviction API refuses (500) a pod two budgets select; a drain cannot proceed past it. */
function overlapError(node: string, p: k8s.V1Pod, budgets: Budget[]): DrainError {
  const names =
    budgets
      .map((b) => `${b.namespace}/${b.name}`)
      .sort()
      .join(' and ') || 'the budgets could not be read';
  return new DrainError(
    `cannot drain ${node}: ${ref(p)} is selected by more than one PodDisruptionBudget (${names}), ` +
      "and the eviction API refuses such pods; change the budgets' selectors so that each pod has at most one",
    [ref(p)],
  );
}

function messageOf(body: unknown): string {
  try {
    const b =
      typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string });
    return b?.message ?? '';
  } catch {
    return '';
  }
}
