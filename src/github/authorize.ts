// Who may command a plan, read through the API for each author (never from the event payload's
// author_association, which says nothing about the role): the collaborator-permission API's
// role_name, and team membership when an allowlist names teams. Anything unreadable fails closed.
import type { Octokit } from './octokit.ts';
import type { Authorization, Permission } from './decide.ts';
import { permissionOf } from './options.ts';

const status = (e: unknown) => (e as { status?: number }).status;

export async function authorize(octokit: Octokit, repo: { owner: string; repo: string }, login: string, allowTeams: string[]): Promise<Authorization> {
  let permission: Permission = 'none';
  try {
    const r = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: login });
    // role_name is the fine-grained role (custom roles included); custom roles fall back to the
    // base permission they inherit.
    permission = permissionOf(r.data.role_name);
    if (permission === 'none') permission = permissionOf(r.data.permission);
  } catch (e) {
    // 404: not a collaborator; anything else: unknown, so no permission.
    if (status(e) !== 404) throw e;
  }
  if (!allowTeams.length) return { permission, teams: [] };
  const teams: string[] = [];
  for (const t of allowTeams) {
    const [org, slug] = t.split('/') as [string, string];
    try {
      const m = await octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
      if (m.data.state === 'active') teams.push(t.toLowerCase());
    } catch (e) {
      if (status(e) === 404) continue;
      // 401/403: the token cannot read teams; the decision refuses everyone and says why.
      return { permission, teams: 'unavailable' };
    }
  }
  return { permission, teams };
}
