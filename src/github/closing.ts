// The end of a tracking item: closed on a /reject or /cancel (recorded in the ledger first, so a
// crash in between never leaves it open there), and a closing by hand noticed and recorded, even
// one undone since: the ledger then keeps the item closed.
import { shortId } from '../plan/canonical.ts';
import { md } from '../report/escape.ts';
import { runFinished } from '../ledger/record.ts';
import { auditLines } from '../ledger/audit.ts';
import type { TrackedItem } from './tracker.ts';
import {
  closedLedger,
  currentTime,
  nodeCounts,
  updateLedger,
  type SessionContext,
  type SessionResult,
} from './context.ts';

type Closings = { at: string; by: string }[];

/** The ledger's open item as GitHub has it now; a closing by hand (even one undone since) is recorded. */
export async function currentItem(context: SessionContext): Promise<TrackedItem | undefined> {
  const recorded = context.snapshot?.ledger.item;
  if (!recorded || recorded.closed) return undefined;
  const found = await context.deps.tracker.get(recorded.number).catch((error: unknown) => {
    // Deleted (admins can delete issues): as closed as it gets.
    if ((error as { status?: number }).status === 404) return { open: false, closings: [] as Closings };
    throw error;
  });
  const closing = found.closings.find((entry) => Date.parse(entry.at) >= Date.parse(recorded.openedAt));
  if (found.open && !closing && 'number' in found) return found;
  const at = closing?.at ?? currentTime(context.deps).toISOString();
  const by = closing?.by ?? 'someone';
  const reopened = found.open ? ' and reopened since' : '';
  context.deps.log(
    `#${recorded.number} was closed by ${by} at ${at}${reopened}: the ledger records it closed`,
  );
  await updateLedger(context, (ledger) => ({
    ...closedLedger(ledger, { at, by, how: 'closed by hand' }),
    ...(ledger.run && !runFinished(ledger.run)
      ? {
          run: {
            ...ledger.run,
            state: 'cancelled' as const,
            message: `the tracking item was closed by ${by}`,
          },
        }
      : {}),
  }));
  return undefined;
}

/** The item is closed: recorded in the ledger first, so a crash in between never leaves it open there. */
export async function closeItem(
  context: SessionContext,
  item: TrackedItem,
  ending: 'rejected' | 'cancelled',
): Promise<SessionResult> {
  const { deps } = context;
  const at = currentTime(deps).toISOString();
  const ledger = await updateLedger(context, (current) =>
    closedLedger(
      {
        ...current,
        ...(current.run && !runFinished(current.run)
          ? { run: { ...current.run, state: 'cancelled' as const, at, message: `${ending} by a comment` } }
          : {}),
      },
      { at, by: 'reboot-pilot', how: ending },
    ),
  );
  const planId = ledger.plan!.id;
  const audit = auditLines(ledger).join('\n');
  const note =
    `Plan \`${shortId(planId)}\` ${ending}: nothing more will be done for it. ` +
    `The next scheduled run makes a new plan.`;
  const message = `Reboot plan ${shortId(planId)} ${ending}\n\n${audit}`;
  await deps.tracker.finish(context.cluster, item, {
    ending,
    note: `${note}\n\n${audit}`,
    files: {},
    message,
  });
  return {
    outcome: 'closed',
    state: ending,
    planId,
    number: item.number,
    ...nodeCounts(ledger),
    summary: `Reboot Pilot: plan \`${shortId(planId)}\` for ${md(context.cluster)} ${ending}.\n`,
  };
}
