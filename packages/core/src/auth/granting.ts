import { DomainError } from '../errors.js';
import type { OrgId, ProjectId } from '../ids.js';
import { allPermissions, type PermissionCatalogue } from '../permissions/catalogue.js';
import { decide, type Subject } from '../permissions/decide.js';
import type { ScopeContext } from '../permissions/rights.js';
import type { Repositories } from '../ports.js';
import { actionAllows, type Action, type Scope } from '../resources/resource-filter.js';

/**
 * The one rule for granting: whatever creates, edits or rolls a credential (a session, an API key, an
 * access token) may hand out only rights it holds itself at that moment. "Rights" are everything
 * `decide` can allow: each catalogue permission and each generic action, at every place of the
 * organization, and the resource paths the scopes let through.
 *
 * Checking every place of an organization one by one would not end, so places are taken by class:
 * a grant covers the organization, one team, or one project, so two projects that no grant of either
 * side names (or that sit in the same named team and are not named themselves) are decided alike. The
 * classes are the organization itself, each named project (with its team), each named team (a project
 * of it that no grant names), and a project that nothing names.
 *
 * Scopes narrow by resource path, which no enumeration covers: a granter with scopes may grant only
 * scopes that each lie within one of its own (every path the new scope lets through, one of the
 * granter's lets through too, for at least the same actions). Rights without scopes and scopes are
 * compared apart; `decide` asks both in turn, so together they bound it.
 */

/** A project id no grant names: a place standing for every project that nothing names. */
const UNNAMED_PROJECT = 'proj_unnamed';
const GENERIC_ACTIONS: readonly Action[] = ['read', 'write', 'admin'];
/** A resource that is no catalogue category: asks about it are decided by role rank (generic actions). */
const GENERIC_RESOURCE = 'resource';

export interface Place {
  readonly ctx: ScopeContext;
  readonly label: string;
}

/** What a granted credential could do that its granter cannot, in words, for the error and the audit. */
export type Excess = string[];

function withoutScopes(subject: Subject): Subject {
  return subject.scopes.length === 0 ? subject : { ...subject, scopes: [] };
}

/** True if every resource path `inner` matches is matched by `outer` (segment-wise, `*` a whole segment). */
export function filterCovers(outer: string, inner: string): boolean {
  if (outer === '*') return true;
  if (inner === '*') return false;
  const o = outer.split('/');
  const i = inner.split('/');
  if (o.length > i.length) return false;
  return o.every((segment, index) => segment === '*' || (i[index] !== '*' && segment === i[index]));
}

/** True if the scope `outer` allows every action on every resource that `inner` allows. */
export function scopeCovers(outer: Scope, inner: Scope): boolean {
  const innerActions: readonly Action[] = inner.action === '*' ? GENERIC_ACTIONS : [inner.action];
  return innerActions.every((action) => actionAllows(outer.action, action)) && filterCovers(outer.resource, inner.resource);
}

/**
 * The places at which two subjects' rights can differ (see above). `teamOf` gives a named project's
 * team (null when it has none or does not exist).
 */
export function placesFor(subjects: readonly Subject[], teamOf: ReadonlyMap<string, string | null>): Place[] {
  const teams = new Set<string>();
  const projects = new Set<string>();
  for (const subject of subjects) {
    for (const grant of [...subject.grants, ...(subject.ownerGrants ?? [])]) {
      if (grant.scopeType === 'TEAM') teams.add(grant.scopeId);
      if (grant.scopeType === 'PROJECT') projects.add(grant.scopeId);
    }
  }
  for (const projectId of projects) {
    const team = teamOf.get(projectId);
    if (team) teams.add(team);
  }
  const places: Place[] = [
    { ctx: {}, label: 'the organization' },
    { ctx: { projectId: UNNAMED_PROJECT, teamId: null }, label: 'any project' },
  ];
  for (const teamId of teams) {
    places.push({ ctx: { teamId }, label: `team ${teamId}` });
    places.push({ ctx: { projectId: UNNAMED_PROJECT, teamId }, label: `the projects of team ${teamId}` });
  }
  for (const projectId of projects) places.push({ ctx: { projectId, teamId: teamOf.get(projectId) ?? null }, label: `project ${projectId}` });
  return places;
}

/**
 * What `granted` could do that `granter` cannot, at the given places; empty when `granted` lies
 * within `granter`. Pure: the caller resolves the places (`placesFor`, or `loadPlaces` from a store).
 */
export function rightsBeyond(catalogue: PermissionCatalogue, granter: Subject, granted: Subject, places: readonly Place[]): Excess {
  const excess: Excess = [];
  const outer = withoutScopes(granter);
  const inner = withoutScopes(granted);
  const permissions = allPermissions(catalogue);
  for (const { ctx, label } of places) {
    for (const permission of permissions) {
      const ask = { kind: 'permission', permission } as const;
      if (decide(catalogue, inner, ask, ctx).allowed && !decide(catalogue, outer, ask, ctx).allowed) {
        excess.push(`${permission} on ${label}`);
      }
    }
    for (const action of GENERIC_ACTIONS) {
      const ask = { kind: 'resource', action, resource: GENERIC_RESOURCE } as const;
      if (decide(catalogue, inner, ask, ctx).allowed && !decide(catalogue, outer, ask, ctx).allowed) {
        excess.push(`${action} on any resource of ${label}`);
      }
    }
  }
  if (granter.scopes.length > 0) {
    if (granted.scopes.length === 0) {
      excess.push(`every resource path (the caller is limited to its scopes: ${granter.scopes.map((s) => `${s.action} on ${s.resource}`).join(', ')})`);
    }
    for (const scope of granted.scopes) {
      if (!granter.scopes.some((own) => scopeCovers(own, scope))) excess.push(`scope ${scope.action} on ${scope.resource}`);
    }
  }
  return excess;
}

/** The places for two subjects, with named projects' teams read from the store. */
export async function loadPlaces(
  tx: Pick<Repositories, 'projects'>,
  orgId: OrgId,
  subjects: readonly Subject[],
): Promise<Place[]> {
  const teamOf = new Map<string, string | null>();
  for (const subject of subjects) {
    for (const grant of [...subject.grants, ...(subject.ownerGrants ?? [])]) {
      if (grant.scopeType !== 'PROJECT' || teamOf.has(grant.scopeId)) continue;
      const project = await tx.projects.findById(orgId, grant.scopeId as ProjectId);
      teamOf.set(grant.scopeId, project?.teamId ?? null);
    }
  }
  return placesFor(subjects, teamOf);
}

/**
 * Refuses (403, never clamped) a grant beyond the granter's current rights: `api_key_scope_violation`
 * for keys, `insufficient_permissions` for roles. `what` names the granted thing for the message.
 */
export async function assertGrantWithin(
  tx: Pick<Repositories, 'projects'>,
  catalogue: PermissionCatalogue,
  orgId: OrgId,
  granter: Subject,
  granted: Subject,
  what: string,
  code: 'api_key_scope_violation' | 'insufficient_permissions' = 'api_key_scope_violation',
): Promise<void> {
  const places = await loadPlaces(tx, orgId, [granter, granted]);
  const excess = rightsBeyond(catalogue, granter, granted, places);
  if (excess.length === 0) return;
  throw new DomainError(
    code,
    `You may grant only rights you hold yourself: ${what} would have ${excess.slice(0, 5).join('; ')}${excess.length > 5 ? `; and ${excess.length - 5} more` : ''}.`,
    { beyond: excess.slice(0, 50) },
  );
}
