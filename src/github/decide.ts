// decide: (plan record, one comment, the author's permissions, options) -> what to do. Pure; the
// GitHub edge reads the comment and the permission through the API and applies the decision
// (reaction, reply, new record, next action).
import { parseComment, type Command } from './commands.ts';
import { md } from '../report/escape.ts';
import { shortId } from '../plan/canonical.ts';

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

const refuse = (record: PlanRecord, reply: string, commentId: number): Decision => ({
  reaction: 'confused',
  reply,
  record: { ...record, lastCommentId: Math.max(record.lastCommentId, commentId) },
  next: 'none',
});

const accept = (record: PlanRecord, reply: string, next: Next = 'none'): Decision => ({
  reaction: '+1',
  reply,
  record,
  next,
});

const sameLogin = (login: string, other: string) => login.toLowerCase() === other.toLowerCase();
const mentions = (logins: string[]) => logins.map((login) => `@${login}`).join(', ');

/** Returns undefined for comments that are not for us (bots, ourselves, discussion). */
export function decide(
  record: PlanRecord,
  comment: IncomingComment,
  authorization: () => Authorization,
  options: DecideOptions,
): Decision | undefined {
  const login = comment.login.toLowerCase();
  if (login === options.selfLogin.toLowerCase()) return undefined;
  const parsed = parseComment(comment.body);
  if (parsed.kind === 'none') return undefined;
  const author = `@${comment.login}`;
  // Another bot (or app) may post anything a workflow tells it to: it is never an approver.
  if (comment.userType === 'Bot' || login.endsWith('[bot]'))
    return comment.id <= record.lastCommentId
      ? undefined
      : refuse(record, `${author}: bots cannot give commands.`, comment.id);
  if (comment.action !== 'created')
    return refuse(
      record,
      `${author}: an edited comment is not a command (an approval it gave is withdrawn); ` +
        'write a new comment.',
      comment.id,
    );
  if (comment.id <= record.lastCommentId) return undefined; // decided already (a re-run of the same event)
  const older =
    comment.id <= (record.afterCommentId ?? 0) ||
    Date.parse(comment.createdAt) < Date.parse(record.createdAt);
  if (older)
    return refuse(
      record,
      `${author}: this comment is older than the current plan (revision ${record.revision}); ` +
        'write a new one.',
      comment.id,
    );
  if (parsed.kind === 'invalid') return refuse(record, `${author}: ${parsed.reason}.`, comment.id);
  const command = parsed.command;
  const refusal =
    command.kind === 'status' ? undefined : unauthorized(command, comment, authorization, options);
  if (refusal) return refuse(record, `${author}: ${refusal}`, comment.id);
  if (options.finished && command.kind !== 'status' && command.kind !== 'replan')
    return refuse(
      record,
      `${author}: the plan's execution is already ${options.finished}; comment /replan for a new plan.`,
      comment.id,
    );
  return apply({ ...record, lastCommentId: comment.id }, command, comment, options);
}

/** Why the author may not give this command (role, allow-users, allow-teams), or undefined. */
function unauthorized(
  command: Command,
  comment: IncomingComment,
  authorization: () => Authorization,
  options: DecideOptions,
): string | undefined {
  const { permission, teams } = authorization();
  if (RANK[permission] < RANK[options.minPermission])
    return (
      `/${command.kind} needs ${options.minPermission} permission on this repository; ` +
      `you have ${permission}.`
    );
  if (options.allowUsers.length && !options.allowUsers.some((user) => sameLogin(user, comment.login)))
    return "you are not in this workflow's approvers (allow-users).";
  if (!options.allowTeams.length) return undefined;
  if (teams === 'unavailable')
    return (
      'cannot check team membership with this token, so nobody is authorized ' +
      '(allow-teams needs a token that can read organization teams).'
    );
  if (!options.allowTeams.some((team) => teams.includes(team.toLowerCase())))
    return (
      `you are in none of the teams allowed to approve (${options.allowTeams.join(', ')}), ` +
      'as far as this token can see (a token without read:org sees no secret teams).'
    );
  return undefined;
}

/** The decision on an authorized command, by its kind. */
function apply(
  record: PlanRecord,
  command: Command,
  comment: IncomingComment,
  options: DecideOptions,
): Decision {
  const author = `@${comment.login}`;
  const refused = (reply: string) => refuse(record, `${author}: ${reply}`, comment.id);
  switch (command.kind) {
    case 'approve':
      return approve(record, command.planId, comment, options);
    case 'reject':
      if (options.executing) return refused('the plan is executing; /cancel stops it before the next node.');
      if (!['awaiting-approval', 'approved', 'paused', 'replan-requested'].includes(record.state))
        return refused(`the plan is ${record.state}; /cancel stops a running execution.`);
      return {
        reaction: '-1',
        reply: `Rejected by ${author}${command.reason ? `: ${md(command.reason)}` : ''}.`,
        record: { ...record, state: 'rejected' },
        next: 'none',
      };
    case 'cancel':
      if (['rejected', 'cancelled', 'completed', 'failed'].includes(record.state))
        return refused(`the plan is already ${record.state}.`);
      return accept(
        { ...record, state: 'cancelled' },
        `Cancelled by ${author}: no further node will be started.`,
        'cancel',
      );
    case 'pause':
      if (record.state !== 'approved' && record.state !== 'executing' && record.state !== 'awaiting-approval')
        return refused(`the plan is ${record.state}; nothing to pause.`);
      return accept(
        { ...record, state: 'paused', pausedFrom: record.state },
        `Paused by ${author}: the node in progress finishes, no further node starts until /resume.`,
        'pause',
      );
    case 'resume':
      return resume(record, comment, options);
    case 'replan':
      if (options.executing)
        return refused('a plan cannot be replaced while it executes; /pause or /cancel first.');
      // A state, not just a reply: until the new revision exists nothing of this one may run.
      return accept(
        { ...record, approvals: [], state: 'replan-requested', replanBy: comment.login },
        `Re-planning for ${author}: earlier approvals are discarded.`,
        'replan',
      );
    case 'skip':
      if (!options.nodes.includes(command.node)) return refused(`${command.node} is not in this plan.`);
      if (record.skipped.includes(command.node)) return refused(`${command.node} is already skipped.`);
      return accept(
        { ...record, skipped: [...record.skipped, command.node] },
        `${command.node} will be skipped (by ${author}).`,
      );
    case 'status':
      return { reaction: 'eyes', record, next: 'status' };
  }
}

/** An approval: it must name this plan, while it awaits approval, unexpired, from someone new. */
function approve(
  record: PlanRecord,
  planId: string,
  comment: IncomingComment,
  options: DecideOptions,
): Decision {
  const author = `@${comment.login}`;
  const refused = (reply: string) => refuse(record, `${author}: ${reply}`, comment.id);
  // Judged at the comment's time: replaying an approval later (mid-execution) never expires it.
  const expired = Date.parse(comment.createdAt) > Date.parse(record.expiresAt);
  if (!record.planId.startsWith(planId))
    return refused(
      `/approve ${planId} does not name the current plan \`${shortId(record.planId)}\` ` +
        `(revision ${record.revision}); approvals name the plan they approve.`,
    );
  if (record.state === 'replan-requested')
    return refused('a new plan was asked for; approve the new revision once it is posted.');
  if (record.state !== 'awaiting-approval')
    return refused(`the plan is ${record.state}, not awaiting approval.`);
  if (expired) return refused(`the plan expired at ${record.expiresAt}; comment /replan for a fresh one.`);
  if (options.preventSelfApproval && record.requestedBy && sameLogin(record.requestedBy, comment.login))
    return refused('you asked for this plan, and self-approval is not allowed here.');
  if (record.approvals.some((approval) => sameLogin(approval.login, comment.login)))
    return refused(
      `your approval is already counted (${record.approvals.length} of ${options.requiredApprovals}).`,
    );
  const approvals = [
    ...record.approvals,
    { login: comment.login, at: comment.createdAt, commentId: comment.id },
  ];
  if (approvals.length < options.requiredApprovals)
    return accept(
      { ...record, approvals },
      `Approval ${approvals.length} of ${options.requiredApprovals} counted.`,
    );
  return {
    reaction: 'rocket',
    reply:
      `Approved by ${mentions(approvals.map((approval) => approval.login))}: ` +
      `executing plan \`${shortId(record.planId)}\`.`,
    record: { ...record, approvals, state: 'approved' },
    next: 'execute',
  };
}

/** /resume: a paused plan goes back to where it was; an approved run stopped by a gate continues. */
function resume(record: PlanRecord, comment: IncomingComment, options: DecideOptions): Decision {
  const reply = `Resumed by @${comment.login}.`;
  if (record.state === 'approved' && options.runPaused) return accept(record, reply, 'resume');
  if (record.state !== 'paused')
    return refuse(record, `@${comment.login}: the plan is ${record.state}, not paused.`, comment.id);
  const back = record.pausedFrom ?? 'awaiting-approval';
  const { pausedFrom: _pausedFrom, ...rest } = record;
  return accept({ ...rest, state: back }, reply, back === 'awaiting-approval' ? 'none' : 'resume');
}

/** A new plan revision: approvals never carry over. */
export function replanned(record: PlanRecord, planId: string, createdAt: Date, ttlHours: number): PlanRecord {
  return {
    planId,
    revision: record.revision + 1,
    createdAt: createdAt.toISOString(),
    expiresAt: new Date(createdAt.getTime() + ttlHours * 3_600_000).toISOString(),
    ...(record.requestedBy ? { requestedBy: record.requestedBy } : {}),
    approvals: [],
    state: 'awaiting-approval',
    skipped: [],
    lastCommentId: record.lastCommentId,
  };
}
