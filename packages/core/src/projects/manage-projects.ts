import { recordAudit } from '../audit/record-audit.js';
import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { ProjectId, TeamId } from '../ids.js';
import type { Page, PageRequest } from '../ports.js';
import type { Project } from './project.js';

export type ProjectDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue' | 'bus'>;

export function listProjects(
  deps: Pick<CoreDeps, 'store'>,
  actor: Actor,
  filter: { includeArchived: boolean; teamId?: TeamId | undefined },
  page: PageRequest,
): Promise<Page<Project>> {
  return deps.store.projects.list(actor.orgId, filter, page);
}

export async function getProject(deps: Pick<CoreDeps, 'store'>, actor: Actor, projectId: ProjectId): Promise<Project> {
  const project = await deps.store.projects.findById(actor.orgId, projectId);
  if (!project) throw notFound.project();
  return project;
}

export async function createProject(deps: ProjectDeps, actor: Actor, input: { name: string; teamId?: string | null | undefined }): Promise<Project> {
  assertCanManageOrganization(deps.catalogue, actor);
  return deps.store.transaction(async (tx) => {
    let teamId: TeamId | null = null;
    if (input.teamId) {
      const team = await tx.teams.findById(actor.orgId, input.teamId as TeamId);
      if (!team) throw notFound.team();
      teamId = team.id;
    }
    const now = deps.clock.now();
    const project: Project = { id: deps.ids.next('proj'), orgId: actor.orgId, teamId, name: input.name, archivedAt: null, createdAt: now };
    await tx.projects.insert(project);
    await recordAudit(tx, deps.ids, actor, now, { action: 'project.created', targetType: 'project', targetId: project.id, details: { name: project.name, teamId } });
    return project;
  });
}

/**
 * Renames, moves between teams, archives or restores a project. Moving or archiving changes what keys
 * reach, so every verifier cache of the organization is dropped before this answers.
 */
export async function updateProject(
  deps: ProjectDeps,
  actor: Actor,
  projectId: ProjectId,
  input: { name?: string | undefined; teamId?: string | null | undefined; archived?: boolean | undefined },
): Promise<Project> {
  assertCanManageOrganization(deps.catalogue, actor);
  const updated = await deps.store.transaction(async (tx) => {
    const project = await tx.projects.findById(actor.orgId, projectId);
    if (!project) throw notFound.project();
    const now = deps.clock.now();
    const patch: { name?: string; teamId?: TeamId | null; archivedAt?: Date | null } = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.teamId !== undefined) {
      if (input.teamId !== null && !(await tx.teams.findById(actor.orgId, input.teamId as TeamId))) throw notFound.team();
      patch.teamId = input.teamId as TeamId | null;
    }
    if (input.archived !== undefined && input.archived !== (project.archivedAt !== null)) {
      patch.archivedAt = input.archived ? now : null;
    }
    await tx.projects.update(actor.orgId, projectId, patch);
    const action = patch.archivedAt !== undefined ? (patch.archivedAt ? 'project.archived' : 'project.restored') : 'project.updated';
    await recordAudit(tx, deps.ids, actor, now, { action, targetType: 'project', targetId: projectId, details: { ...patch } });
    await tx.invalidations.append({ type: 'org', orgId: actor.orgId }, now);
    return { ...project, ...patch };
  });
  await deps.bus.publish({ type: 'org', orgId: actor.orgId });
  return updated;
}
