import { recordAudit } from '../audit/record-audit.js';
import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { TeamId } from '../ids.js';
import type { Page, PageRequest } from '../ports.js';
import type { Team } from './team.js';

export type TeamDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue' | 'bus'>;

export function listTeams(deps: Pick<CoreDeps, 'store'>, actor: Actor, page: PageRequest): Promise<Page<Team>> {
  return deps.store.teams.list(actor.orgId, page);
}

export async function getTeam(deps: Pick<CoreDeps, 'store'>, actor: Actor, teamId: TeamId): Promise<Team> {
  const team = await deps.store.teams.findById(actor.orgId, teamId);
  if (!team) throw notFound.team();
  return team;
}

export async function createTeam(deps: TeamDeps, actor: Actor, input: { name: string }): Promise<Team> {
  assertCanManageOrganization(deps.catalogue, actor);
  return deps.store.transaction(async (tx) => {
    const now = deps.clock.now();
    const team: Team = { id: deps.ids.next('team'), orgId: actor.orgId, name: input.name, createdAt: now };
    await tx.teams.insert(team);
    await recordAudit(tx, deps.ids, actor, now, { action: 'team.created', targetType: 'team', targetId: team.id, details: { name: team.name } });
    return team;
  });
}

export async function renameTeam(deps: TeamDeps, actor: Actor, teamId: TeamId, input: { name: string }): Promise<Team> {
  assertCanManageOrganization(deps.catalogue, actor);
  return deps.store.transaction(async (tx) => {
    const team = await tx.teams.findById(actor.orgId, teamId);
    if (!team) throw notFound.team();
    const now = deps.clock.now();
    await tx.teams.update(actor.orgId, teamId, { name: input.name });
    await recordAudit(tx, deps.ids, actor, now, { action: 'team.updated', targetType: 'team', targetId: teamId, details: { from: team.name, to: input.name } });
    return { ...team, name: input.name };
  });
}
