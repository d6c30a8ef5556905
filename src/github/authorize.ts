// Who may command a plan, read through the API for each author (never from the event payload's
// author_association, which says nothing about the role): the collaborator-permission API's
// role_name, and team membership when an allowlist names teams. Anything unreadable fails closed.
import type { Octokit } from './octokit.ts';
import type { Authorization, Permission } from './decide.ts';
import { permissionOf } from './settings.ts';

const status = (error: unknown) => (error as { status?: number }).status;

export async function authorize(
  octokit: Octokit,
  repo: { owner: string; repo: string },
  login: string,
  allowTeams: string[],
): Promise<Authorization> {
  let permission: Permission = 'none';
  try {
    const found = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: login });
    // role_name is the built-in role, or a custom role's own name. A custom role's base role shows
    // in user.permissions (maintain, triage...), never in the legacy `permission` field, which
    // reads Maintain as write and Triage as read.
    permission = permissionOf(found.data.role_name);
    if (permission === 'none') permission = fromFlags(found.data.user?.permissions);
  } catch (error) {
    // 404: not a collaborator; anything else: unknown, so no permission.
    if (status(error) !== 404) throw error;
  }
  if (!allowTeams.length) return { permission, teams: [] };
  const teams: string[] = [];
  for (const team of allowTeams) {
    const [org, slug] = team.split('/') as [string, string];
    try {
      const membership = await octokit.rest.teams.getMembershipForUserInOrg({
        org,
        team_slug: slug,
        username: login,
      });
      if (membership.data.state === 'active') teams.push(team.toLowerCase());
    } catch (error) {
      if (status(error) === 404) continue;
      // 401/403: the token cannot read teams; the decision refuses everyone and says why.
      return { permission, teams: 'unavailable' };
    }
  }
  return { permission, teams };
}

type Flags = { admin?: boolean; maintain?: boolean; push?: boolean; triage?: boolean; pull?: boolean };

/** The collaborator object's permission flags, highest first, and the role each grants. */
const FLAG_ROLES: [keyof Flags, Permission][] = [
  ['admin', 'admin'],
  ['maintain', 'maintain'],
  ['push', 'write'],
  ['triage', 'triage'],
  ['pull', 'read'],
];

/** The highest role the collaborator object's permission flags grant. */
function fromFlags(flags: Flags | undefined): Permission {
  if (!flags) return 'none';
  return FLAG_ROLES.find(([flag]) => flags[flag])?.[1] ?? 'none';
}
