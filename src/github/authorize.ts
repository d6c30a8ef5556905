// Who may command a plan, read through the API for each author (never from the event payload's
// author_association, which says nothing about the role): the collaborator-permission API's
// role_name, and team membership when an allowlist names teams. Anything unreadable fails closed.
import type { Octokit } from './octokit.ts';
import type { Authorization, Permission } from './decide.ts';
import { permissionOf } from './settings.ts';

const status = (e: unknown) => (e as { status?: number }).status;

export async function authorize(
  octokit: Octokit,
  repo: { owner: string; repo: string },
  login: string,
  allowTeams: string[],
): Promise<Authorization> {
  let permission: Permission = 'none';
  try {
    const r = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: login });
    // role_name is the built-in role, or a custom role's own name. A custom role's base role shows
    // in user.permissions (maintain, triage...), never in the legacy `permission` field, which
    // reads Maintain as write and Triage as read.
    permission = permissionOf(r.data.role_name);
    if (permission === 'none') permission = fromFlags(r.data.user?.permissions);
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

/** The highest role the collaborator object's permission flags grant. */
function fromFlags(
  p: { admin?: boolean; maintain?: boolean; push?: boolean; triage?: boolean; pull?: boolean } | undefined,
): Permission {
  if (!p) return 'none';
  return p.admin
    ? 'admin'
    : p.maintain
      ? 'maintain'
      : p.push
        ? 'write'
        : p.triage
          ? 'triage'
          : p.pull
            ? 'read'
            : 'none';
}
