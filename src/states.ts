// The action's `state` output: every value the action can report, with what it means. The session's
// result is typed with it, so the compiler refuses a state missing here; action.yml's description
// is generated from it (tools/action-yml.ts), so the documented values are the returned ones.
export const ACTION_STATES = {
  planned: 'a plan was made without tracking, as without github-token',
  'up-to-date': 'nothing needs a reboot',
  'awaiting-approval': 'the plan waits for /approve',
  approved: 'approved and not started, an execute job runs it',
  executing: 'an execution started and has not ended: it runs, or its job died and a later run continues it',
  paused: 'paused by /pause or by a gate: reboot window, alerts, max-nodes',
  expired: 'approved but not started before plan-ttl-hours ran out, /replan',
  'replan-requested': '/replan was asked for, the next job in the concurrency group re-plans',
  rejected: 'rejected by /reject, the item is closed',
  cancelled: 'cancelled by /cancel, the item is closed',
  completed: 'every planned node was rebooted, upgraded or skipped',
  failed: 'a node failed and the run stopped',
  stale: 'the plan no longer matches the cluster, a node rebooted or was replaced',
  ignored:
    'a comment on another issue, not the plan named by expect-plan-id, ' +
    'or another run of the cluster is opening its tracking item',
  none: 'decide or execute mode found no open tracking item for the cluster',
  answered:
    'decide mode answered a comment that starts nothing ' +
    '(only the approval or /resume that starts an execution outputs approved)',
  closed: 'the tracking item is closed in the record (by hand, or after its plan ended)',
} as const;

export type ActionState = keyof typeof ACTION_STATES;
