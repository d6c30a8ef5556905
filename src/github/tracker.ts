// Where a cluster's plan is reviewed: one tracking issue, or one pull request whose branch holds
// the plan and the result (git history as the audit trail). Both are found by the body's hidden
// marker; comments, reactions and bodies go through the issues API either way (a PR is an issue).
// Who may command the item is asked of its repository through the tracker too.
import type { Octokit, Repo } from './octokit.ts';
import { UserError } from '../errors.ts';
import { authorize } from './authorize.ts';
import type { Authorization } from './decide.ts';
import { isTracking } from './body.ts';
import { fitMarkdown } from '../report/fit.ts';
import { GITHUB_BODY_LIMIT } from '../report/markdown.ts';

/**
 * GitHub's 422 for a body or title over its limit, as the documented message (the action keeps
 * its bodies under the limits; this names the cause if one ever is not).
 */
async function limited<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const refusal = error as {
      status?: number;
      response?: { data?: { errors?: { field?: string; message?: string }[] } };
    };
    const over =
      refusal.status === 422
        ? refusal.response?.data?.errors?.find((entry) => /too long/i.test(entry.message ?? ''))
        : undefined;
    if (!over) throw error;
    throw new UserError(
      `GitHub refused ${what}: its ${over.field ?? 'body'} is over GitHub's limit (65,536 characters ` +
        `for a body, 256 for a title). Reboot Pilot keeps within them, so please report this; ` +
        `the record in the cluster is unaffected`,
    );
  }
}

export const LABEL = 'reboot-pilot';

export interface TrackedItem {
  number: number;
  body: string;
  url: string;
  title?: string;
  /** Who opened it: the action's own identity, whose replies are recognised as answers. */
  author?: string;
}

export interface Comment {
  id: number;
  body: string;
  login: string;
  userId: number;
  userType: string;
  createdAt: string;
  updatedAt: string;
}

/** Files of one plan, relative to the cluster's directory (PR mode commits them). */
export type PlanFiles = Record<string, string>;

export type Ending = 'completed' | 'nothing-to-do' | 'cancelled' | 'rejected';

/** A revision of the item: what it shows, and what PR mode commits (with `message`). */
export interface ItemRevision {
  title: string;
  body: string;
  files: PlanFiles;
  message: string;
}

/** How the item ends: the closing `note`, and what PR mode commits and merges (with `message`). */
export interface ItemClosing {
  ending: Ending;
  note: string;
  files: PlanFiles;
  message: string;
}

export interface Tracker {
  readonly kind: 'issue' | 'pull-request';
  /** owner/name of the repository the items are in. */
  readonly repository: string;
  /** A commenter's role in the repository and, when `allowTeams` names teams, which of them they are in. */
  authorize(login: string, allowTeams: string[]): Promise<Authorization>;
  find(cluster: string): Promise<TrackedItem | undefined>;
  /** The item the ledger names, as it is on GitHub now, and when it was ever closed. */
  get(number: number): Promise<TrackedItem & { open: boolean; closings: { at: string; by: string }[] }>;
  /** Opens the item; PR mode commits `files` to the plan branch first. Returns its number. */
  open(cluster: string, revision: ItemRevision): Promise<TrackedItem>;
  /** A new plan revision on an open item: PR mode commits the new files. */
  revise(cluster: string, item: TrackedItem, revision: ItemRevision): Promise<void>;
  update(item: TrackedItem, body: string, title?: string): Promise<void>;
  /** The plan file of the item: PR mode reads it from the branch, issue mode from the state. */
  planPath(cluster: string): string | undefined;
  readFile(cluster: string, path: string): Promise<string>;
  /** Closes the item after `note`; PR mode commits `files` and merges or closes per the settings. */
  finish(cluster: string, item: TrackedItem, closing: ItemClosing): Promise<void>;
  comments(item: TrackedItem): Promise<Comment[]>;
  comment(item: TrackedItem, body: string): Promise<void>;
  react(commentId: number, content: '+1' | '-1' | 'rocket' | 'eyes' | 'confused'): Promise<void>;
}

/**
 * The one tracking item among candidates with the cluster's marker: only items opened by a bot
 * (the action's token: GITHUB_TOKEN or an app) count, so a user who copies the marker into an
 * issue of their own cannot become the action; two of ours is an error, never a guess.
 */
function ours<T extends { number: number; user?: { login: string; type?: string } | null }>(
  candidates: T[],
  cluster: string,
): T | undefined {
  const mine = candidates.filter((candidate) => candidate.user?.type === 'Bot');
  if (mine.length > 1) {
    const numbers = mine.map((candidate) => `#${candidate.number}`).join(', ');
    throw new UserError(
      `${mine.length} open tracking items for cluster ${cluster} (${numbers}): close all but one`,
    );
  }
  return mine[0];
}

/** An issue or pull request as GitHub returns it, as a tracked item. */
function itemOf(found: {
  number: number;
  body?: string | null;
  html_url: string;
  title: string;
  user?: { login: string } | null;
}): TrackedItem {
  return {
    number: found.number,
    body: found.body ?? '',
    url: found.html_url,
    title: found.title,
    ...(found.user ? { author: found.user.login } : {}),
  };
}

abstract class Base {
  protected readonly octokit: Octokit;
  protected readonly repo: Repo;
  constructor(octokit: Octokit, repo: Repo) {
    this.octokit = octokit;
    this.repo = repo;
  }

  get repository(): string {
    return `${this.repo.owner}/${this.repo.repo}`;
  }

  authorize(login: string, allowTeams: string[]): Promise<Authorization> {
    return authorize(this.octokit, this.repo, login, allowTeams);
  }

  /** Items opened with a personal token would never be found again (only bots' count): say so, close it. */
  protected async mustBeBot(
    number: number,
    user: { login: string; type?: string } | null | undefined,
  ): Promise<void> {
    if (user?.type === 'Bot') return;
    await this.octokit.rest.issues.update({
      ...this.repo,
      issue_number: number,
      state: 'closed',
      state_reason: 'not_planned',
    });
    throw new UserError(
      `github-token belongs to the user ${user?.login ?? 'unknown'}: tracking items must be opened by a ` +
        `bot identity (the workflow's GITHUB_TOKEN or a GitHub App token) so that nobody else can open ` +
        `one; #${number} was closed again`,
    );
  }

  async comments(item: TrackedItem): Promise<Comment[]> {
    const all = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
      ...this.repo,
      issue_number: item.number,
      per_page: 100,
    });
    return all.map((comment) => ({
      id: comment.id,
      body: comment.body ?? '',
      login: comment.user?.login ?? '',
      userId: comment.user?.id ?? 0,
      userType: comment.user?.type ?? 'User',
      createdAt: comment.created_at,
      updatedAt: comment.updated_at,
    }));
  }

  async get(
    number: number,
  ): Promise<TrackedItem & { open: boolean; closings: { at: string; by: string }[] }> {
    const issue = (await this.octokit.rest.issues.get({ ...this.repo, issue_number: number })).data;
    // Closed and reopened between two runs: only the item's events remember it.
    const events = await this.octokit.paginate(this.octokit.rest.issues.listEvents, {
      ...this.repo,
      issue_number: number,
      per_page: 100,
    });
    const closings = events
      .filter((event) => event.event === 'closed')
      .map((event) => {
        // A deleted account's events name no actor, whatever the types say.
        const actor = (event as { actor?: { login: string } | null }).actor;
        return { at: event.created_at, by: actor ? actor.login : 'unknown' };
      });
    return { ...itemOf(issue), number, open: issue.state === 'open', closings };
  }

  async comment(item: TrackedItem, body: string): Promise<void> {
    const fitted = fitMarkdown(
      body,
      GITHUB_BODY_LIMIT - 100,
      "_(cut to fit GitHub's 65,536-character comment limit; the full text is in the run's artifact, " +
        "or the pull request's files)_",
    );
    await limited(`a comment on #${item.number}`, () =>
      this.octokit.rest.issues.createComment({ ...this.repo, issue_number: item.number, body: fitted }),
    );
  }

  async react(commentId: number, content: '+1' | '-1' | 'rocket' | 'eyes' | 'confused'): Promise<void> {
    await this.octokit.rest.reactions.createForIssueComment({ ...this.repo, comment_id: commentId, content });
  }

  async update(item: TrackedItem, body: string, title?: string): Promise<void> {
    await limited(`the body of #${item.number}`, () =>
      this.octokit.rest.issues.update({
        ...this.repo,
        issue_number: item.number,
        body,
        ...(title ? { title } : {}),
      }),
    );
    item.body = body;
  }
}

export class IssueTracker extends Base implements Tracker {
  readonly kind = 'issue' as const;

  async find(cluster: string): Promise<TrackedItem | undefined> {
    const open = await this.octokit.paginate(this.octokit.rest.issues.listForRepo, {
      ...this.repo,
      state: 'open',
      labels: LABEL,
      per_page: 100,
    });
    const issue = ours(
      open.filter((candidate) => !candidate.pull_request && isTracking(candidate.body, cluster)),
      cluster,
    );
    return issue ? itemOf(issue) : undefined;
  }

  async open(_cluster: string, { title, body }: ItemRevision): Promise<TrackedItem> {
    const created = await this.octokit.rest.issues.create({ ...this.repo, title, body, labels: [LABEL] });
    await this.mustBeBot(created.data.number, created.data.user);
    return {
      number: created.data.number,
      body,
      url: created.data.html_url,
      ...(created.data.user ? { author: created.data.user.login } : {}),
    };
  }

  async revise(_cluster: string, item: TrackedItem, { title, body }: ItemRevision): Promise<void> {
    await this.update(item, body, title);
  }

  planPath(): undefined {
    return undefined;
  }

  readFile(): Promise<string> {
    return Promise.reject(new Error('issue mode keeps no files'));
  }

  async finish(_cluster: string, item: TrackedItem, { ending, note }: ItemClosing): Promise<void> {
    await this.comment(item, note);
    await this.octokit.rest.issues.update({
      ...this.repo,
      issue_number: item.number,
      state: 'closed',
      state_reason: ending === 'completed' || ending === 'nothing-to-do' ? 'completed' : 'not_planned',
    });
  }
}

export interface PullRequestOptions {
  base: string;
  branchPrefix: string;
  directory: string;
  onComplete: 'merge' | 'close';
  log: (line: string) => void;
}

const slug = (cluster: string) =>
  cluster.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'cluster';
const status = (error: unknown) => (error as { status?: number }).status;

export class PullRequestTracker extends Base implements Tracker {
  readonly kind = 'pull-request' as const;
  private baseBranch?: string;
  /** The head commit this action last wrote: a merge only ever merges that. */
  private head?: string;
  private readonly options: PullRequestOptions;

  constructor(octokit: Octokit, repo: Repo, options: PullRequestOptions) {
    super(octokit, repo);
    this.options = options;
  }

  branch(cluster: string): string {
    return `${this.options.branchPrefix}${slug(cluster)}`;
  }

  private dir(cluster: string): string {
    return [this.options.directory.replace(/\/+$/, ''), slug(cluster)].filter(Boolean).join('/');
  }

  planPath(cluster: string): string {
    return `${this.dir(cluster)}/plan.json`;
  }

  private async base(): Promise<string> {
    if (!this.baseBranch)
      this.baseBranch =
        this.options.base || (await this.octokit.rest.repos.get({ ...this.repo })).data.default_branch;
    return this.baseBranch;
  }

  async find(cluster: string): Promise<TrackedItem | undefined> {
    const open = await this.octokit.paginate(this.octokit.rest.pulls.list, {
      ...this.repo,
      state: 'open',
      head: `${this.repo.owner}:${this.branch(cluster)}`,
      per_page: 100,
    });
    const pull = ours(
      open.filter((candidate) => isTracking(candidate.body, cluster)),
      cluster,
    );
    return pull ? itemOf(pull) : undefined;
  }

  /** Commits each file to the plan branch (one commit per file, through the contents API). */
  private async commit(cluster: string, files: PlanFiles, message: string): Promise<void> {
    const branch = this.branch(cluster);
    for (const [name, text] of Object.entries(files)) {
      const path = `${this.dir(cluster)}/${name}`;
      let sha: string | undefined;
      try {
        const cur = await this.octokit.rest.repos.getContent({ ...this.repo, path, ref: branch });
        if (!Array.isArray(cur.data) && cur.data.type === 'file') sha = cur.data.sha;
      } catch (error) {
        if (status(error) !== 404) throw error;
      }
      const written = await this.octokit.rest.repos.createOrUpdateFileContents({
        ...this.repo,
        path,
        branch,
        message,
        content: Buffer.from(text).toString('base64'),
        ...(sha ? { sha } : {}),
      });
      this.head = written.data.commit.sha;
    }
  }

  async open(cluster: string, { title, body, files, message }: ItemRevision): Promise<TrackedItem> {
    const base = await this.base();
    const head = (await this.octokit.rest.git.getRef({ ...this.repo, ref: `heads/${base}` })).data.object.sha;
    const branch = this.branch(cluster);
    try {
      await this.octokit.rest.git.createRef({ ...this.repo, ref: `refs/heads/${branch}`, sha: head });
    } catch (error) {
      if (status(error) !== 422) throw error;
      // The branch of an earlier, closed plan: start it again from the base.
      await this.octokit.rest.git.updateRef({ ...this.repo, ref: `heads/${branch}`, sha: head, force: true });
    }
    await this.commit(cluster, files, message);
    const pr = await this.octokit.rest.pulls.create({ ...this.repo, title, body, head: branch, base });
    await this.mustBeBot(pr.data.number, pr.data.user);
    return { number: pr.data.number, body, url: pr.data.html_url, author: pr.data.user.login };
  }

  async revise(cluster: string, item: TrackedItem, revision: ItemRevision): Promise<void> {
    const { title, body, files, message } = revision;
    await this.commit(cluster, files, message);
    await this.update(item, body, title);
  }

  async readFile(cluster: string, path: string): Promise<string> {
    const found = await this.octokit.rest.repos.getContent({ ...this.repo, path, ref: this.branch(cluster) });
    if (Array.isArray(found.data) || found.data.type !== 'file' || !('content' in found.data))
      throw new Error(`${path} on ${this.branch(cluster)} is not a file`);
    return Buffer.from(found.data.content, 'base64').toString('utf8');
  }

  async finish(cluster: string, item: TrackedItem, closing: ItemClosing): Promise<void> {
    const { ending, note, files, message } = closing;
    if (Object.keys(files).length) await this.commit(cluster, files, message);
    await this.comment(item, note);
    if (ending === 'completed' && this.options.onComplete === 'merge')
      return this.merge(cluster, item, message);
    await this.octokit.rest.pulls.update({ ...this.repo, pull_number: item.number, state: 'closed' });
  }

  /** The files the pull request changes outside the cluster's directory (renames by both names). */
  private async foreignFiles(cluster: string, item: TrackedItem): Promise<string[]> {
    const files = await this.octokit.paginate(this.octokit.rest.pulls.listFiles, {
      ...this.repo,
      pull_number: item.number,
      per_page: 100,
    });
    const pull = await this.octokit.rest.pulls.get({ ...this.repo, pull_number: item.number });
    const total = pull.data.changed_files;
    // Renames count by both names (a file moved into the directory leaves the base branch too).
    const names = new Set(files.flatMap((file) => [file.filename, file.previous_filename ?? file.filename]));
    const outside = [...names].filter((name) => !name.startsWith(`${this.dir(cluster)}/`));
    if (files.length < total) outside.push(`(${total - files.length} files not listed)`);
    return outside;
  }

  /** Merges the completed plan's pull request; anything stopping the merge is said on it. */
  private async merge(cluster: string, item: TrackedItem, message: string): Promise<void> {
    // Only the plan's own files are merged: anything else pushed to the branch stops the merge.
    const outside = await this.foreignFiles(cluster, item);
    if (outside.length) {
      const shown = outside.slice(0, 5).map((name) => `\`${name.replace(/[`\r\n]/g, '')}\``);
      const more = outside.length > 5 ? ' and more' : '';
      await this.comment(
        item,
        `Not merging: the branch also changes ${shown.join(', ')}${more}, which are not Reboot Pilot's. ` +
          'The result is committed on the branch; merge or close it by hand.',
      );
      return;
    }
    try {
      // The title is the first line; the rest (who approved, which commands) is the commit message's body.
      const [title = message, ...rest] = message.split('\n');
      const body = rest.join('\n').trim();
      await this.octokit.rest.pulls.merge({
        ...this.repo,
        pull_number: item.number,
        merge_method: 'merge',
        commit_title: title,
        ...(body ? { commit_message: body } : {}),
        ...(this.head ? { sha: this.head } : {}),
      });
    } catch (error) {
      // Branch protection, a conflict: the result is committed on the branch either way; say so and
      // leave the pull request open.
      const why = (error as Error).message;
      this.options.log(`could not merge #${item.number}: ${why}`);
      await this.comment(
        item,
        `Could not merge this pull request (${why.slice(0, 300)}); the result is committed on the branch. ` +
          'Merge or close it by hand.',
      );
    }
  }
}
