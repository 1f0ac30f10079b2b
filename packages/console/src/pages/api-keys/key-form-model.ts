import type { ApiKey, CreateApiKeyBody, OrgRole, UpdateApiKeyBody } from '@keyward/wire';
import { checkCidr } from '../../lib/cidr';
import { bindingRoleFor, canChangeCredits, expirationPresets } from '../../lib/keys';
import { resourceFilterProblem } from '../../lib/resource-filter';
import type { Session } from '../../lib/session';
import { creditsOf, creditsStateOf, limitErrorKey, rateLimitsOf, rowFromLimit, unlimitedCredits, validateLimits, type CreditsState, type RateLimitRow } from './limits-model';

export type ScopeKind = 'organization' | 'teams' | 'projects';
export type ExpirationChoice = 'keep' | 'custom' | (typeof expirationPresets)[number]['id'];
export type ScopeAction = 'read' | 'write' | 'admin' | '*';

export interface ScopeRow {
  readonly id: number;
  readonly action: ScopeAction;
  readonly resource: string;
}

export interface CidrRow {
  readonly id: number;
  readonly value: string;
}

/** The member a personal key is for, when an owner or admin creates it for someone else. */
export interface KeyOwner {
  readonly userId: string;
  readonly role: OrgRole;
  readonly label: string;
}

export interface KeyFormState {
  readonly keyType: ApiKey['keyType'];
  /** Personal keys: null for the person creating it. */
  readonly owner: KeyOwner | null;
  readonly projectId: string | null;
  readonly name: string;
  readonly description: string;
  readonly scopeKind: ScopeKind;
  readonly teamIds: readonly string[];
  readonly projectIds: readonly string[];
  readonly expiration: ExpirationChoice;
  readonly customDate: string;
  readonly permissionMode: 'all' | 'restricted';
  readonly permissions: readonly string[];
  readonly scopes: readonly ScopeRow[];
  readonly cidrs: readonly CidrRow[];
  readonly rateLimits: readonly RateLimitRow[];
  readonly credits: CreditsState;
}

let rowIds = 1;
export const nextRowId = () => rowIds++;

export function newKeyState(keyType: ApiKey['keyType'] = 'personal', projectId: string | null = null): KeyFormState {
  return {
    keyType,
    owner: null,
    projectId,
    name: '',
    description: '',
    scopeKind: 'organization',
    teamIds: [],
    projectIds: [],
    expiration: '90',
    customDate: '',
    permissionMode: 'all',
    permissions: [],
    scopes: [],
    cidrs: [],
    rateLimits: [],
    credits: unlimitedCredits,
  };
}

export function stateFromKey(key: ApiKey): KeyFormState {
  const kinds = new Set(key.bindings.map((b) => b.scopeType));
  const scopeKind: ScopeKind = kinds.has('ORGANIZATION') || kinds.size === 0 ? 'organization' : kinds.has('TEAM') ? 'teams' : 'projects';
  return {
    keyType: key.keyType,
    owner: null,
    projectId: key.projectId,
    name: key.name,
    description: key.description ?? '',
    scopeKind,
    teamIds: key.bindings.filter((b) => b.scopeType === 'TEAM').map((b) => b.scopeId),
    projectIds: key.bindings.filter((b) => b.scopeType === 'PROJECT').map((b) => b.scopeId),
    expiration: 'keep',
    customDate: '',
    permissionMode: key.permissionMode,
    permissions: key.permissions,
    scopes: key.scopes.map((s) => ({ id: nextRowId(), action: s.action, resource: s.resource === '*' ? '' : s.resource })),
    cidrs: key.allowedCidrs.map((value) => ({ id: nextRowId(), value })),
    rateLimits: key.rateLimits.map((limit) => rowFromLimit(nextRowId(), limit)),
    credits: creditsStateOf(key.credits),
  };
}

/** The local date `yyyy-mm-dd` of a Date, for date inputs. */
export function dateInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * The expiry the form asks for: undefined to keep the current one (edit), null for none. A custom date
 * means the end of that day, local time.
 */
export function expiresAtOf(state: KeyFormState, now = new Date()): Date | null | undefined {
  if (state.expiration === 'keep') return undefined;
  if (state.expiration === 'custom') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(state.customDate)) return undefined;
    const [y, m, d] = state.customDate.split('-').map(Number);
    return new Date(y!, m! - 1, d!, 23, 59, 59);
  }
  const preset = expirationPresets.find((p) => p.id === state.expiration);
  if (!preset || preset.days === null) return null;
  return new Date(now.getTime() + preset.days * 86_400_000);
}

function filledScopes(state: KeyFormState): ScopeRow[] {
  return state.scopes.filter((s) => s.resource.trim() !== '' || s.action !== 'read');
}

function filledCidrs(state: KeyFormState): CidrRow[] {
  return state.cidrs.filter((c) => c.value.trim() !== '');
}

/** Client-side checks, keyed like the server's 422 reasons. */
export function validateKeyForm(state: KeyFormState, mode: 'create' | 'edit'): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!state.name.trim()) errors.name = 'Give the key a name, such as "CI pipeline" or "Local dev".';
  else if (state.name.trim().length > 100) errors.name = 'Use at most 100 characters.';
  if (state.description.length > 1000) errors.description = 'Use at most 1000 characters.';
  if (state.keyType !== 'project') {
    if (state.scopeKind === 'teams' && state.teamIds.length === 0) errors.bindings = 'Choose at least one team, or scope the key to the organization.';
    if (state.scopeKind === 'projects' && state.projectIds.length === 0) errors.bindings = 'Choose at least one project, or scope the key to the organization.';
  }
  if (state.permissionMode === 'restricted' && state.permissions.length === 0) errors.permissions = 'Pick at least one permission, or choose All.';
  if (state.expiration === 'custom') {
    const at = expiresAtOf(state);
    if (!at) errors.expiresAt = 'Pick a date.';
    else if (at.getTime() <= Date.now()) errors.expiresAt = 'Pick a date in the future.';
  }
  state.scopes.forEach((scope) => {
    const problem = resourceFilterProblem(scope.resource.trim());
    if (problem) errors[`scope:${scope.id}`] = problem;
  });
  state.cidrs.forEach((cidr) => {
    if (cidr.value.trim() === '') return;
    const check = checkCidr(cidr.value);
    if (!check.ok) errors[`cidr:${cidr.id}`] = check.message;
  });
  Object.assign(errors, validateLimits(state.rateLimits, state.credits));
  void mode;
  return errors;
}

/** Maps a server reason path (`allowedCidrs[1]`, `scopes[0].resource`) to the row it is about. */
export function mapServerErrors(state: KeyFormState, reasons: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const scopes = filledScopes(state);
  const cidrs = filledCidrs(state);
  for (const [path, message] of Object.entries(reasons)) {
    const limit = limitErrorKey(state.rateLimits, path);
    if (limit) {
      out[limit] = message;
      continue;
    }
    const cidr = /^allowedCidrs\[(\d+)\]/.exec(path);
    const scope = /^scopes\[(\d+)\]/.exec(path);
    if (cidr && cidrs[Number(cidr[1])]) out[`cidr:${cidrs[Number(cidr[1])]!.id}`] = message;
    else if (scope && scopes[Number(scope[1])]) out[`scope:${scopes[Number(scope[1])]!.id}`] = message;
    else if (path.startsWith('permissions')) out.permissions = message;
    else if (path.startsWith('bindings') || path.startsWith('projectIds')) out.bindings = message;
    else out[path.split('[')[0]!.split('.')[0]!] = message;
  }
  return out;
}

/** Is the personal key for someone other than the person creating it? */
export function assignedOwner(state: KeyFormState, session: Session): KeyOwner | null {
  return state.keyType === 'personal' && state.owner && state.owner.userId !== session.user.id ? state.owner : null;
}

function bindingsOf(state: KeyFormState, session: Session): NonNullable<CreateApiKeyBody['bindings']> {
  // A personal key's bindings carry its owner's role (never more than theirs).
  const role = state.keyType === 'service' ? 'ADMIN' : bindingRoleFor(assignedOwner(state, session)?.role ?? session.role);
  if (state.scopeKind === 'teams') return state.teamIds.map((id) => ({ role, scopeType: 'TEAM' as const, scopeId: id }));
  if (state.scopeKind === 'projects') return state.projectIds.map((id) => ({ role, scopeType: 'PROJECT' as const, scopeId: id }));
  return [{ role, scopeType: 'ORGANIZATION' as const, scopeId: session.organization.id }];
}

function accessOf(state: KeyFormState) {
  return {
    permissionMode: state.permissionMode,
    permissions: state.permissionMode === 'restricted' ? [...state.permissions] : [],
    scopes: filledScopes(state).map((s) => ({ action: s.action, resource: s.resource.trim() || '*' })),
    allowedCidrs: filledCidrs(state).map((c) => c.value.trim()),
  };
}

export function toCreateBody(state: KeyFormState, session: Session): CreateApiKeyBody {
  const expiresAt = expiresAtOf(state);
  const access = accessOf(state);
  const body: CreateApiKeyBody = {
    name: state.name.trim(),
    keyType: state.keyType,
    permissionMode: access.permissionMode,
    ...(access.permissionMode === 'restricted' ? { permissions: access.permissions } : {}),
    ...(access.scopes.length ? { scopes: access.scopes } : {}),
    ...(access.allowedCidrs.length ? { allowedCidrs: access.allowedCidrs } : {}),
    ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
    ...(state.rateLimits.length ? { rateLimits: rateLimitsOf(state.rateLimits) } : {}),
  };
  // Only owners and admins may set credits (the API answers 403 to anyone else).
  const credits = creditsOf(state.credits);
  if (credits && canChangeCredits(session)) body.credits = credits;
  if (state.description.trim()) body.description = state.description.trim();
  const owner = assignedOwner(state, session);
  if (owner) body.assignedToUserId = owner.userId;
  if (state.keyType === 'project') body.projectId = state.projectId ?? undefined;
  else if (state.keyType === 'service' && state.scopeKind === 'projects') body.projectIds = [...state.projectIds];
  else if (state.scopeKind !== 'organization') body.bindings = bindingsOf(state, session);
  return body;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Only what changed, so an untouched field is never re-checked (or re-sent) needlessly. */
export function toPatchBody(state: KeyFormState, key: ApiKey, session: Session): UpdateApiKeyBody {
  const body: UpdateApiKeyBody = {};
  const access = accessOf(state);
  if (state.name.trim() !== key.name) body.name = state.name.trim();
  const description = state.description.trim() || null;
  if (description !== (key.description ?? null)) body.description = description;
  const expiresAt = expiresAtOf(state);
  if (expiresAt !== undefined) body.expiresAt = expiresAt ? expiresAt.toISOString() : null;
  if (access.permissionMode !== key.permissionMode || !same([...access.permissions].sort(), [...key.permissions].sort())) {
    body.permissionMode = access.permissionMode;
    if (access.permissionMode === 'restricted') body.permissions = access.permissions;
  }
  if (!same(access.scopes, key.scopes)) body.scopes = access.scopes;
  if (!same(access.allowedCidrs, key.allowedCidrs)) body.allowedCidrs = access.allowedCidrs;
  const rateLimits = rateLimitsOf(state.rateLimits);
  if (!same(rateLimits, key.rateLimits)) body.rateLimits = rateLimits;
  const credits = creditsOf(state.credits);
  if (canChangeCredits(session) && !same(credits, creditsOf(creditsStateOf(key.credits)))) body.credits = credits;
  if (key.keyType !== 'project') {
    const initial = stateFromKey(key);
    const scopeChanged =
      state.scopeKind !== initial.scopeKind || !same([...state.teamIds].sort(), [...initial.teamIds].sort()) || !same([...state.projectIds].sort(), [...initial.projectIds].sort());
    if (scopeChanged) {
      const role = key.bindings[0]?.role && key.bindings[0].role !== 'CUSTOM' ? key.bindings[0].role : state.keyType === 'service' ? 'ADMIN' : bindingRoleFor(session.role);
      body.bindings = bindingsOf(state, session).map((b) => ({ ...b, role }));
    }
  }
  return body;
}

/** Does the edit touch the key's access (and so may break callers at once)? */
export function changesAccess(body: UpdateApiKeyBody): boolean {
  return ['expiresAt', 'permissionMode', 'permissions', 'scopes', 'allowedCidrs', 'bindings', 'rateLimits', 'credits'].some((field) => field in body);
}
