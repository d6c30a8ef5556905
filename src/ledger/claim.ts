// Two jobs at once on one ledger (two schedules, a schedule beside a comment run, a re-run): the
// claims that keep them from doing the same thing twice. Opening a tracking item is claimed in the
// ledger first, at the version read (optimistic concurrency), so of two planning jobs one opens
// it and the other sees the claim or the item. Executions are kept apart by the run lock (a
// Lease); a job refused the lock while the ledger shows this plan executing leaves it to that job.
import { setTimeout as sleep } from 'node:timers/promises';
import { runFinished, type Ledger } from './record.ts';
import type { LedgerSnapshot, LedgerStore } from './store.ts';

/** A claim older than this was left by a job that died before it opened the item: it lapses. */
export const OPENING_TTL_MS = 10 * 60_000;

export type OpeningClaim =
  | { granted: true; snapshot: LedgerSnapshot }
  | { granted: false; snapshot: LedgerSnapshot | undefined; why: string };

/**
 * Claims the opening of a new tracking item for job `by`, or says who has it: an open item the
 * ledger names now, or another job's claim younger than OPENING_TTL_MS. `fresh` is the ledger to
 * start from when there is none yet (the first plan of a cluster).
 */
export async function claimOpening(
  store: LedgerStore,
  first: LedgerSnapshot | undefined,
  request: { by: string; now: Date; kind: string; cluster: string; fresh: () => Ledger },
): Promise<OpeningClaim> {
  let why = '';
  const r = await store.update((s) => {
    const l = s?.ledger ?? request.fresh();
    if (l.item && !l.item.closed) {
      why =
        `another run opened the tracking ${request.kind} for ${request.cluster} ` +
        `meanwhile (#${l.item.number})`;
      return undefined;
    }
    const claim = l.opening;
    if (claim && claim.by !== request.by && request.now.getTime() - Date.parse(claim.at) < OPENING_TTL_MS) {
      why =
        `another run is opening the tracking ${request.kind} for ${request.cluster} ` +
        `(claimed in the ledger at ${claim.at})`;
      return undefined;
    }
    why = '';
    return { ledger: { ...l, opening: { by: request.by, at: request.now.toISOString() } }, out: true };
  }, first ?? 'none');
  return r.out && r.snapshot
    ? { granted: true, snapshot: r.snapshot }
    : { granted: false, snapshot: r.snapshot, why };
}

/** Withdraws this job's claim (opening the item failed), unless another job's replaced it. */
export async function releaseOpening(store: LedgerStore, by: string): Promise<void> {
  await store.update((s) => {
    if (s?.ledger.opening?.by !== by) return undefined;
    const { opening: _, ...rest } = s.ledger;
    return { ledger: rest, out: true };
  });
}

/**
 * After this job was refused the run lock: whether the ledger shows another job executing this
 * plan revision (or finished with it since `since`), looked at for up to `waitMs` (the other job
 * writes "executing" at its first step, a moment after it took the lock).
 */
export async function otherExecution(
  store: LedgerStore,
  query: { planId: string; revision: number; since: Date; waitMs: number },
): Promise<Ledger['run'] | undefined> {
  const deadline = Date.now() + query.waitMs;
  for (;;) {
    const l = (await store.read())?.ledger;
    const run = l?.plan?.id === query.planId && l.plan.revision === query.revision ? l.run : undefined;
    if (run?.state === 'executing') return run;
    if (run && runFinished(run) && Date.parse(run.at) >= query.since.getTime()) return run;
    if (Date.now() >= deadline) return undefined;
    await sleep(250);
  }
}
