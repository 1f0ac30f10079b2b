import { scopeAllowing, actionRankOf, type Action, type Scope } from '../resources/resource-filter.js';
import { ORGANIZATION_MANAGE, findCategory, type Permission, type PermissionCatalogue } from './catalogue.js';
import { roleRank } from './roles.js';
import { grantAllowing, permissionsAt, strongestGrant, type Grant, type ScopeContext } from './rights.js';

/**
 * What is asked of a credential: a `category:action` permission (at a project, or `organization:manage`
 * at the organization), or an action on a resource path.
 */
export type Ask =
  | { readonly kind: 'permission'; readonly permission: Permission }
  | { readonly kind: 'resource'; readonly action: Action; readonly resource: string };

/** Everything that bounds what a credential may do. */
export interface Subject {
  /** The credential's own grants (a key's bindings, or a person's roles). */
  readonly grants: readonly Grant[];
  /** For personal keys: the owner's current grants, which cap the key (the ceiling model). */
  readonly ownerGrants: readonly Grant[] | null;
  readonly ownerLabel?: string | undefined;
  readonly scopes: readonly Scope[];
  /** For access tokens issued with a narrower `scope`. */
  readonly tokenPermissions: readonly Permission[] | null;
  readonly restricted: boolean;
}

export type Decision =
  | { readonly allowed: true; readonly explanation: string }
  | { readonly allowed: false; readonly explanation: string };

function where(ctx: ScopeContext): string {
  return ctx.projectId ? `project ${ctx.projectId}` : 'the organization';
}

/** The action and resource path a permission ask is checked against a key's scopes as. */
export function scopeTargetOf(permission: Permission, ctx: ScopeContext): { action: Action; resource: string } {
  if (permission === ORGANIZATION_MANAGE) return { action: 'admin', resource: 'organization' };
  const [category, action] = permission.split(':') as [string, 'read' | 'write'];
  return { action, resource: ctx.projectId ? `projects/${ctx.projectId}/${category}` : category };
}

/** The catalogue category a resource path names, as in `projects/<projectId>/<category>/...`. */
export function categoryOfResource(catalogue: PermissionCatalogue, resource: string): string | null {
  const segments = resource.split('/');
  if (segments[0] !== 'projects' || segments.length < 3) return null;
  return findCategory(catalogue, segments[2]!) ? segments[2]! : null;
}

function deny(explanation: string): Decision {
  return { allowed: false, explanation };
}

function checkCategoryPermission(subject: Subject, permission: Permission, ctx: ScopeContext, reasons: string[]): Decision | null {
  const keyGrant = grantAllowing(subject.grants, ctx, permission);
  if (!keyGrant) {
    return deny(
      `${permission} on ${where(ctx)} is not granted by the credential${subject.restricted ? ' (restricted mode)' : ''}`,
    );
  }
  reasons.push(`${permission} granted by ${keyGrant.source}`);
  if (subject.tokenPermissions && !subject.tokenPermissions.includes(permission)) {
    return deny(`${permission} is outside the access token's scope`);
  }
  if (subject.ownerGrants) {
    const ownerGrant = grantAllowing(subject.ownerGrants, ctx, permission);
    if (!ownerGrant) {
      return deny(
        `capped by the owner's current rights: ${subject.ownerLabel ?? 'the owner'} has no ${permission} on ${where(ctx)}`,
      );
    }
    reasons.push(`within the owner's ${ownerGrant.source}`);
  }
  return null;
}

function checkGenericAction(subject: Subject, action: Action, ctx: ScopeContext, reasons: string[]): Decision | null {
  if (subject.restricted) return deny('a restricted key carries only catalogue permissions, not generic actions');
  if (subject.tokenPermissions) return deny('an access token issued with a scope carries only those permissions');
  const needed = actionRankOf(action);
  const keyGrant = strongestGrant(subject.grants, ctx);
  if (!keyGrant || roleRank[keyGrant.role] < needed) {
    return deny(`${action} on ${where(ctx)} needs a stronger role than the credential holds${keyGrant ? ` (${keyGrant.source})` : ''}`);
  }
  reasons.push(`${action} allowed by ${keyGrant.source}`);
  if (subject.ownerGrants) {
    const ownerGrant = strongestGrant(subject.ownerGrants, ctx);
    if (!ownerGrant || roleRank[ownerGrant.role] < needed) {
      return deny(
        `capped by the owner's current rights: ${subject.ownerLabel ?? 'the owner'} holds ${ownerGrant ? ownerGrant.source : 'no role'} on ${where(ctx)}`,
      );
    }
    reasons.push(`within the owner's ${ownerGrant.source}`);
  }
  return null;
}

/**
 * Decides an ask for a subject in a resolved context (the project, if any, already known to belong to
 * the subject's organization). The order: the key's scopes, then its grants, then the access token's
 * scope, then the owner's current rights. The explanation names what allowed it or what denied it.
 */
export function decide(catalogue: PermissionCatalogue, subject: Subject, ask: Ask, ctx: ScopeContext): Decision {
  const reasons: string[] = [];
  const target =
    ask.kind === 'permission' ? scopeTargetOf(ask.permission, ctx) : { action: ask.action, resource: ask.resource };
  if (subject.scopes.length > 0) {
    const scope = scopeAllowing(subject.scopes, target.action, target.resource);
    if (!scope) return deny(`no scope of the key allows ${target.action} on ${target.resource}`);
    reasons.push(`scope ${scope.action} on ${scope.resource}`);
  }
  let failure: Decision | null;
  if (ask.kind === 'permission') {
    failure = checkCategoryPermission(subject, ask.permission, ctx, reasons);
  } else {
    const category = categoryOfResource(catalogue, ask.resource);
    const action = ask.action;
    failure =
      category && action !== 'admin' && findCategory(catalogue, category)!.actions.includes(action)
        ? checkCategoryPermission(subject, `${category}:${action}`, ctx, reasons)
        : checkGenericAction(subject, action, ctx, reasons);
  }
  return failure ?? { allowed: true, explanation: `allowed: ${reasons.join('; ')}` };
}

/** The permissions a subject effectively holds in a context: grants ∩ owner's ∩ token scope. */
export function effectivePermissions(subject: Subject, ctx: ScopeContext, order: readonly Permission[]): Permission[] {
  const own = permissionsAt(subject.grants, ctx);
  const cap = subject.ownerGrants ? permissionsAt(subject.ownerGrants, ctx) : null;
  const token = subject.tokenPermissions ? new Set(subject.tokenPermissions) : null;
  return order.filter((p) => {
    if (!own.has(p) || (cap && !cap.has(p)) || (token && !token.has(p))) return false;
    if (subject.scopes.length === 0) return true;
    const target = scopeTargetOf(p, ctx);
    return scopeAllowing(subject.scopes, target.action, target.resource) !== undefined;
  });
}
