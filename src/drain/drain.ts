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
const ref = (pod: k8s.V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
const uidOf = (pod: k8s.V1Pod) => pod.metadata!.uid!;

export async function podsOnNode(kube: KubeClients, node: string): Promise<k8s.V1Pod[]> {
  try {
    return await listAll((page) =>
      kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}`, ...page }),
    );
  } catch (e) {
    throw explainApiError(e, 'list', `pods on node ${node}`, kube.server);
  }
}

/** A pod refused a 429 (or in a terminating namespace): when to try again, and why. */
interface Retry {
  at: number;
  delay: number;
  why: string;
}

/** One drain: its settings and what it learnt so far, by pod UID. */
interface DrainRun {
  kube: KubeClients;
  node: string;
  settings: DrainSettings;
  log: Log;
  evicted: Map<string, EvictedPod>;
  nextTry: Map<string, Retry>;
  /** Pods held back because their budget allows no disruption now, and that budget. */
  waitingOn: Map<string, string>;
}

/** Evicts every evictable pod from a (cordoned) node; returns what it evicted. */
export async function drainNode(
  kube: KubeClients,
  node: string,
  settings: DrainSettings,
  log: Log,
  abort?: AbortSignal,
): Promise<EvictedPod[]> {
  const selector = parseSelector(settings.podSelector, 'pod selector');
  const deadline = Date.now() + settings.timeoutSeconds * 1000;
  const run: DrainRun = {
    kube,
    node,
    settings,
    log,
    evicted: new Map(),
    nextTry: new Map(),
    waitingOn: new Map(),
  };
  for (let first = true; ; first = false) {
    if (abort?.aborted) throw new DrainError(`drain of ${node} interrupted`, []);
    const pods = (await podsOnNode(kube, node)).filter((p) => matches(selector, p.metadata?.labels));
    const pending = podsToEvict(run, pods, first);
    if (!pending.length) return [...run.evicted.values()];
    if (Date.now() > deadline) throw timeoutError(run, pending);
    const now = Date.now();
    const candidates = pending.filter(
      (p) => !p.metadata?.deletionTimestamp && (run.nextTry.get(uidOf(p))?.at ?? 0) <= now,
    );
    const due = await duePods(run, candidates);
    // Bounded parallel evictions.
    const { concurrency } = settings;
    for (let i = 0; i < due.length; i += concurrency) {
      await Promise.all(due.slice(i, i + concurrency).map((p) => evictOne(run, p)));
    }
    // Soon after progress (replacements become healthy quickly), otherwise once a second.
    const soonest = Math.min(...pending.map((p) => run.nextTry.get(uidOf(p))?.at ?? now + 1000), now + 1000);
    await sleep(due.length ? 250 : Math.max(100, Math.min(1000, soonest - Date.now())));
  }
}

/** The pods still to evict; throws, naming them all, when the drain refuses any pod. */
function podsToEvict(run: DrainRun, pods: k8s.V1Pod[], first: boolean): k8s.V1Pod[] {
  const pending: k8s.V1Pod[] = [];
  const refused: string[] = [];
  for (const pod of pods) {
    const verdict = classifyPod(pod, run.settings);
    if (verdict.action === 'skip') continue;
    if (verdict.action === 'refuse') refused.push(`${ref(pod)} (${refusalHint(verdict.reason)})`);
    else pending.push(pod);
  }
  if (refused.length) {
    const appeared = first ? '' : ' (a pod appeared during the drain)';
    throw new DrainError(`cannot drain ${run.node}${appeared}: ${refused.join('; ')}`, refused);
  }
  return pending;
}

function refusalHint(reason: string): string {
  return reason === 'emptydir' ? 'uses emptyDir: set delete-emptydir-data' : 'has no controller: set force';
}

/** The deadline passed: names every pod still on the node, with what it waits for. */
function timeoutError(run: DrainRun, pending: k8s.V1Pod[]): DrainError {
  const reason = (pod: k8s.V1Pod) =>
    run.nextTry.get(uidOf(pod))?.why ??
    run.waitingOn.get(uidOf(pod)) ??
    (pod.metadata?.deletionTimestamp ? 'terminating' : '');
  const why = pending.map((p) => `${ref(p)}${reason(p) ? ` (${reason(p)})` : ''}`);
  const after = `${run.settings.timeoutSeconds}s`;
  return new DrainError(
    `drain of ${run.node} timed out after ${after}; still on the node: ${why.join('; ')}`,
    pending.map(ref),
  );
}

/** The candidates whose budgets allow their eviction now (each eviction uses up one disruption). */
async function duePods(run: DrainRun, candidates: k8s.V1Pod[]): Promise<k8s.V1Pod[]> {
  const aware = candidates.length && run.settings.budgetAware !== false;
  const budgets = aware ? await readBudgets(run.kube) : [];
  const due: k8s.V1Pod[] = [];
  for (const pod of candidates) {
    const mine = budgetsOf(pod, budgets);
    if (mine.length > 1 && !isFinished(pod)) throw overlapError(run.node, pod, mine);
    const closed = mine.find((b) => b.allowed <= 0);
    if (closed) {
      const why = `PodDisruptionBudget ${closed.namespace}/${closed.name} allows no disruption now`;
      if (!run.waitingOn.has(uidOf(pod))) run.log(`${ref(pod)}: waiting, ${why}`);
      run.waitingOn.set(uidOf(pod), why);
      continue;
    }
    for (const budget of mine) budget.allowed--;
    due.push(pod);
  }
  return due;
}

/** The budgets that select a pod (those of its namespace whose selector matches its labels). */
function budgetsOf(pod: k8s.V1Pod, budgets: Budget[]): Budget[] {
  const namespace = pod.metadata?.namespace;
  return budgets.filter((b) => b.namespace === namespace && matches(b.selector, pod.metadata?.labels));
}

/**
 * Before the node is cordoned: a pod the drain would evict that two budgets select can never be
 * evicted (the eviction API answers 500), so the drain is refused with both budgets named.
 */
export async function checkBudgetOverlap(
  kube: KubeClients,
  node: string,
  settings: DrainSettings,
): Promise<void> {
  const selector = parseSelector(settings.podSelector, 'pod selector');
  const pods = (await podsOnNode(kube, node)).filter((p) => matches(selector, p.metadata?.labels));
  // A finished pod is deleted whatever its budgets say.
  const evictable = pods.filter((p) => classifyPod(p, settings).action === 'evict' && !isFinished(p));
  if (!evictable.length) return;
  const budgets = await readBudgets(kube);
  for (const pod of evictable) {
    const mine = budgetsOf(pod, budgets);
    if (mine.length > 1) throw overlapError(node, pod, mine);
  }
}

interface Budget {
  namespace: string;
  name: string;
  selector: ReturnType<typeof fromLabelSelector>;
  allowed: number;
}

/** Current budgets; one whose status is not yet computed for its spec allows nothing. */
async function readBudgets(kube: KubeClients): Promise<Budget[]> {
  let pdbs: k8s.V1PodDisruptionBudget[];
  try {
    pdbs = await listAll((page) => kube.policy.listPodDisruptionBudgetForAllNamespaces(page));
  } catch (e) {
    throw explainApiError(e, 'list', 'poddisruptionbudgets.policy', kube.server);
  }
  return pdbs.map((pdb) => ({
    namespace: pdb.metadata?.namespace ?? '',
    name: pdb.metadata?.name ?? '',
    selector: fromLabelSelector(pdb.spec?.selector),
    allowed:
      pdb.status?.observedGeneration === pdb.metadata?.generation ? (pdb.status?.disruptionsAllowed ?? 0) : 0,
  }));
}

async function evictOne(run: DrainRun, pod: k8s.V1Pod): Promise<void> {
  const uid = uidOf(pod);
  const { name, namespace } = pod.metadata as { name: string; namespace: string };
  const grace = run.settings.gracePeriodSeconds;
  const body: k8s.V1Eviction = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace },
    // The UID precondition: never evict a same-named successor by accident.
    deleteOptions: { preconditions: { uid }, ...(grace >= 0 ? { gracePeriodSeconds: grace } : {}) },
  };
  try {
    await run.kube.core.createNamespacedPodEviction({ name, namespace, body });
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
    run.evicted.set(uid, {
      namespace,
      name,
      uid,
      ...(owner ? { owner: { kind: owner.kind, name: owner.name } } : {}),
    });
    run.nextTry.delete(uid);
    run.log(`evicted ${ref(pod)}`);
  } catch (e) {
    if (e instanceof k8s.ApiException && retried(run, pod, e)) return;
    if (e instanceof k8s.ApiException && e.code === 500 && isOverlapRefusal(e.body)) {
      // Budgets read blind (or created since the last round): name them.
      const mine = budgetsOf(pod, await readBudgets(run.kube));
      throw overlapError(pod.spec?.nodeName ?? '', pod, mine);
    }
    throw explainApiError(e, 'create', `pods/eviction ${ref(pod)}`, run.kube.server);
  }
}

function isOverlapRefusal(body: unknown): boolean {
  return /more than one PodDisruptionBudget/i.test(messageOf(body));
}

/**
 * Whether a refused eviction is left for a later round: a pod gone or replaced (404, 409; the next
 * round re-lists), or refused for now (429, a terminating namespace) with a doubling back-off.
 */
function retried(run: DrainRun, pod: k8s.V1Pod, error: k8s.ApiException<unknown>): boolean {
  if (error.code === 404 || error.code === 409) return true;
  const terminating = error.code === 403 && String(error.body).includes('terminating');
  if (error.code !== 429 && !terminating) return false;
  const uid = uidOf(pod);
  const previous = run.nextTry.get(uid);
  const delay = previous ? Math.min(previous.delay * 2, 30_000) : run.settings.retryDelayMs;
  const why =
    error.code === 429
      ? `eviction refused: ${messageOf(error.body) || 'a PodDisruptionBudget allows no more disruptions'}`
      : 'namespace terminating';
  if (!previous) run.log(`${ref(pod)}: ${why}; retrying with back-off`);
  run.nextTry.set(uid, { at: Date.now() + delay, delay, why });
  return true;
}

/** The eviction API refuses (500) a pod two budgets select; a drain cannot proceed past it. */
function overlapError(node: string, pod: k8s.V1Pod, budgets: Budget[]): DrainError {
  const names =
    budgets
      .map((b) => `${b.namespace}/${b.name}`)
      .sort()
      .join(' and ') || 'the budgets could not be read';
  return new DrainError(
    `cannot drain ${node}: ${ref(pod)} is selected by more than one PodDisruptionBudget (${names}), ` +
      "and the eviction API refuses such pods; change the budgets' selectors so that each pod has at " +
      'most one',
    [ref(pod)],
  );
}

function messageOf(body: unknown): string {
  try {
    // A Status object, as text or parsed; anything else has no message.
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | null;
    return parsed?.message ?? '';
  } catch {
    return '';
  }
}
