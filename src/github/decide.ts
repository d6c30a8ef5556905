// decide: (plan record, one comment, the author's permissions, options) -> what to do. Pure; the
// GitHub edge reads the comment and the permission through the API and applies the decision
// (reaction, reply, new record, next action).
import { parseComment, type Command } from './commands.ts';
import { md } from '../report/escape.ts';

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';
const RANK: Record<Permission, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

export type PlanState =
  | 'awaiting-approval'
  | 'approved'
  | 'executing'
  | 'paused'
  | 'rejected'
  | 'cancelled'
  | 'completed'
  | 'failed'
  | 'replan-requested';

export interface PlanRecord {
  planId: string;
  /** Bumped by every re-plan; approvals belong to one revision. */
  revision: number;
  createdAt: string;
  expiresAt: string;
  /** Who asked for this plan (workflow_dispatch actor), for prevent-self-approval. */
  requestedBy?: string;
  approvals: { login: string; at: string; commentId: number }[];
  state: PlanState;
  /** The state before a pause, to resume to. */
  pausedFrom?: PlanState;
  skipped: string[];
  /** The newest comment already decided on: nothing older is ever looked at again. */
  lastCommentId: number;
  /** Comments up to this ID were written before this revision existed (by ID: no clock skew). */
  afterCommentId?: number;
  /** Who asked for a new plan (/replan): the requester of the next revision. */
  replanBy?: string;
}

export interface IncomingComment {
  id: number;
  body: string;
  login: string;
  /** GitHub's user.type. */
  userType: string;
  createdAt: string;
  /** The event's action: only "created" comments are commands. */
  action: 'created' | 'edited' | 'deleted';
}

export interface Authorization {
  /** role_name from the collaborator-permission API, mapped to the built-in roles. */
  permission: Permission;
  /** The author's team slugs, or 'unavailable' when the token cannot read team membership. */
  teams: string[] | 'unavailable';
}

export interface DecideOptions {
  minPermission: Permission;
  allowUsers: string[];
  allowTeams: string[];
  requiredApprovals: number;
  preventSelfApproval: boolean;
  /** The action's own login: its comments are never commands. */
  selfLogin: string;
  nodes: string[];
  now: Date;
  /** The plan's execution ended (completed, failed...): only /status and /replan still apply. */
  finished?: string;
  /** An execution is under way: the plan cannot be replaced or rejected, only paused or cancelled. */
  executing?: boolean;
  /** An approved execution stopped by a gate (max-nodes, a window): /resume continues it. */
  runPaused?: boolean;
}

export type Next = 'none' | 'execute' | 'replan' | 'cancel' | 'pause' | 'resume' | 'status';

export interface Decision {
  reaction: '+1' | '-1' | 'rocket' | 'eyes' | 'confused';
  reply?: string;
  record: PlanRecord;
  next: Next;
}

const refuse = (record: PlanRecord, reply: string, id: number): Decision => ({
  reaction: 'confused',
  reply,
  record: { ...record, lastCommentId: Math.max(record.lastCommentId, id) },
  next: 'none',
});

/** Returns undefined for comments that are not for us (bots, ourselves, discussion). */
export function decide(
  record: PlanRecord,
  c: IncomingComment,
  auth: () => Authorization,
  o: DecideOptions,
): Decision | undefined {
  const login = c.login.toLowerCase();
  if (login === o.selfLogin.toLowerCase()) return undefined;
  const parsed = parseComment(c.body);
  if (parsed.kind === 'none') return undefined;
  // Another bot (or app) may post anything a workflow tells it to: it is never an approver.
  if (c.userType === 'Bot' || login.endsWith('[bot]'))
    return c.id <= record.lastCommentId
      ? undefined
      : refuse(record, `@${c.login}: bots cannot give commands.`, c.id);
  if (c.action !== 'created')
    return refuse(
      record,
      `@${c.login}: an edited comment is not a command (an approval it gave is withdrawn); write a new comment.`,
      c.id,
    );
  if (c.id <= record.lastCommentId) return undefined; // decided already (a re-run of the same event)
  if (c.id <= (record.afterCommentId ?? 0) || Date.parse(c.createdAt) < Date.parse(record.createdAt))
    return refuse(
      record,
      `@${c.login}: this comment is older than the current plan (revision ${record.revision}); write a new one.`,
      c.id,
    );
  if (parsed.kind === 'invalid') return refuse(record, `@${c.login}: ${parsed.reason}.`, c.id);
  const cmd = parsed.command;

  if (cmd.kind !== 'status') {
    const a = auth();
    if (RANK[a.permission] < RANK[o.minPermission])
      return refuse(
        record,
        `@${c.login}: /${cmd.kind} needs ${o.minPermission} permission on this repository; you have ${a.permission}.`,
        c.id,
      );
    if (o.allowUsers.length && !o.allowUsers.some((u) => u.toLowerCase() === login))
      return refuse(record, `@${c.login}: you are not in this workflow's approvers (allow-users).`, c.id);
    if (o.allowTeams.length) {
      if (a.teams === 'unavailable')
        return refuse(
          record,
          `@${c.login}: cannot check team membership with this token, so nobody is authorized (allow-teams needs a token that can read organization teams).`,
          c.id,
        );
      const teams = a.teams;
      if (!o.allowTeams.some((t) => teams.includes(t.toLowerCase())))
        return refuse(
          record,
          `@${c.login}: you are in none of the teams allowed to approve (${o.allowTeams.join(', ')}), as far as this token can see (a token without read:org sees no secret teams).`,
          c.id,
        );
    }
  }
  if (o.finished && cmd.kind !== 'status' && cmd.kind !== 'replan')
    return refuse(
      record,
      `@${c.login}: the plan's execution is already ${o.finished}; comment /replan for a new plan.`,
      c.id,
    );
  const base = { ...record, lastCommentId: c.id };
  return apply(base, cmd, c, o);
}

function apply(r: PlanRecord, cmd: Command, c: IncomingComment, o: DecideOptions): Decision {
  // Judged at the comment's time: replaying an approval later (mid-execution) never expires it.
  const expired = Date.parse(c.createdAt) > Date.parse(r.expiresAt);
  switch (cmd.kind) {
    case 'approve': {
      if (!r.planId.startsWith(cmd.planIdPrefix)) {
        return refuse(
          r,
          `@${c.login}: /approve ${cmd.planIdPrefix} does not name the current plan \`${r.planId.slice(0, 12)}\` (revision ${r.revision}); approvals name the plan they approve.`,
          c.id,
        );
      }
      if (r.state !== 'awaiting-approval')
        return refuse(
          r,
          r.state === 'replan-requested'
            ? `@${c.login}: a new plan was asked for; approve the new revision once it is posted.`
            : `@${c.login}: the plan is ${r.state}, not awaiting approval.`,
          c.id,
        );
      if (expired)
        return refuse(
          r,
          `@${c.login}: the plan expired at ${r.expiresAt}; comment /replan for a fresh one.`,
          c.id,
        );
      if (o.preventSelfApproval && r.requestedBy && r.requestedBy.toLowerCase() === c.login.toLowerCase())
        return refuse(
          r,
          `@${c.login}: you asked for this plan, and self-approval is not allowed here.`,
          c.id,
        );
      if (r.approvals.some((a) => a.login.toLowerCase() === c.login.toLowerCase()))
        return refuse(
          r,
          `@${c.login}: your approval is already counted (${r.approvals.length} of ${o.requiredApprovals}).`,
          c.id,
        );
      const approvals = [...r.approvals, { login: c.login, at: c.createdAt, commentId: c.id }];
      if (approvals.length >= o.requiredApprovals) {
        return {
          reaction: 'rocket',
          reply: `Approved by ${approvals.map((a) => `@${a.login}`).join(', ')}: executing plan \`${r.planId.slice(0, 12)}\`.`,
          record: { ...r, approvals, state: 'approved' },
          next: 'execute',
        };
      }
      return {
        reaction: '+1',
        reply: `Approval ${approvals.length} of ${o.requiredApprovals} counted.`,
        record: { ...r, approvals },
        next: 'none',
      };
    }
    case 'reject':
      if (o.executing)
        return refuse(r, `@${c.login}: the plan is executing; /cancel stops it before the next node.`, c.id);
      if (!['awaiting-approval', 'approved', 'paused', 'replan-requested'].includes(r.state))
        return refuse(r, `@${c.login}: the plan is ${r.state}; /cancel stops a running execution.`, c.id);
      return {
        reaction: '-1',
        reply: `Rejected by @${c.login}${cmd.reason ? `: ${md(cmd.reason)}` : ''}.`,
        record: { ...r, state: 'rejected' },
        next: 'none',
      };
    case 'cancel':
      if (['rejected', 'cancelled', 'completed', 'failed'].includes(r.state))
        return refuse(r, `@${c.login}: the plan is already ${r.state}.`, c.id);
      return {
        reaction: '+1',
        reply: `Cancelled by @${c.login}: no further node will be started.`,
        record: { ...r, state: 'cancelled' },
        next: 'cancel',
      };
    case 'pause':
      if (r.state !== 'approved' && r.state !== 'executing' && r.state !== 'awaiting-approval')
        return refuse(r, `@${c.login}: the plan is ${r.state}; nothing to pause.`, c.id);
      return {
        reaction: '+1',
        reply: `Paused by @${c.login}: the node in progress finishes, no further node starts until /resume.`,
        record: { ...r, state: 'paused', pausedFrom: r.state },
        next: 'pause',
      };
    case 'resume': {
      if (r.state === 'approved' && o.runPaused)
        return { reaction: '+1', reply: `Resumed by @${c.login}.`, record: r, next: 'resume' };
      if (r.state !== 'paused') return refuse(r, `@${c.login}: the plan is ${r.state}, not paused.`, c.id);
      const back = r.pausedFrom ?? 'awaiting-approval';
      const { pausedFrom: _, ...rest } = r;
      return {
        reaction: '+1',
        reply: `Resumed by @${c.login}.`,
        record: { ...rest, state: back },
        next: back === 'awaiting-approval' ? 'none' : 'resume',
      };
    }
    case 'replan':
      if (o.executing)
        return refuse(
          r,
          `@${c.login}: a plan cannot be replaced while it executes; /pause or /cancel first.`,
          c.id,
        );
      // A state, not just a reply: until the new revision exists nothing of this one may run.
      return {
        reaction: '+1',
        reply: `Re-planning for @${c.login}: earlier approvals are discarded.`,
        record: { ...r, approvals: [], state: 'replan-requested', replanBy: c.login },
        next: 'replan',
      };
    case 'skip':
      if (!o.nodes.includes(cmd.node))
        return refuse(r, `@${c.login}: ${cmd.node} is not in this plan.`, c.id);
      if (r.skipped.includes(cmd.node))
        return refuse(r, `@${c.login}: ${cmd.node} is already skipped.`, c.id);
      return {
        reaction: '+1',
        reply: `${cmd.node} will be skipped (by @${c.login}).`,
        record: { ...r, skipped: [...r.skipped, cmd.node] },
        next: 'none',
      };
    case 'status':
      return { reaction: 'eyes', record: r, next: 'status' };
  }
}

/** A new plan revision: approvals never carry over. */
export function replanned(r: PlanRecord, planId: string, createdAt: Date, ttlHours: number): PlanRecord {
  return {
    planId,
    revision: r.revision + 1,
    createdAt: createdAt.toISOString(),
    expiresAt: new Date(createdAt.getTime() + ttlHours * 3_600_000).toISOString(),
    ...(r.requestedBy ? { requestedBy: r.requestedBy } : {}),
    approvals: [],
    state: 'awaiting-approval',
    skipped: [],
    lastCommentId: r.lastCommentId,
  };
}
