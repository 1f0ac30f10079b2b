import { keyGrants, soleProjectOf, userGrants } from '../auth/grants.js';
import type { KeyId, OrgId, ProjectId } from '../ids.js';
import { IpAllowlist } from '../network/cidr.js';
import { ORGANIZATION_MANAGE, allPermissions, isKnownPermission, type Permission, type PermissionCatalogue } from '../permissions/catalogue.js';
import { decide, effectivePermissions, type Ask, type Subject } from '../permissions/decide.js';
import type { Grant, ScopeContext } from '../permissions/rights.js';
import type { Clock } from '../ports.js';
import { isAction, resourcePathProblem } from '../resources/resource-filter.js';
import { keyStatus, lookupIdFromKeyId, type ApiKeyRecord } from './api-key.js';
import { digestsEqual, type PepperRing } from './key-digest.js';
import type { KeyFormat } from './key-format.js';
import type { OwnerState, VerdictSource } from './verdict-source.js';

export const verdictCodes = [
  'VALID',
  'NOT_FOUND',
  'EXPIRED',
  'REVOKED',
  'DISABLED',
  'IP_NOT_ALLOWED',
  'INSUFFICIENT_PERMISSIONS',
  'PROJECT_REQUIRED',
  'RATE_LIMITED',
] as const;
export type VerdictCode = (typeof verdictCodes)[number];

export interface VerifyRequest {
  /** The presented key, as sent. */
  readonly token: string;
  readonly projectId?: string | undefined;
  readonly permission?: string | undefined;
  readonly action?: string | undefined;
  readonly resource?: string | undefined;
  /** The client's address (unmapped or not); omitted means the allowlist cannot be satisfied if set. */
  readonly ip?: string | undefined;
  /** Only keys of this organization exist for this call (a verifier scoped to one organization). */
  readonly orgId?: OrgId | null | undefined;
  /** Narrows the key further: the scope of an access token minted from it. */
  readonly tokenPermissions?: readonly Permission[] | null | undefined;
}

/** Everything known about a key that passed format, lookup, secret and state checks. */
export interface VerifiedKey {
  readonly key: ApiKeyRecord;
  readonly grants: readonly Grant[];
  readonly ownerGrants: readonly Grant[] | null;
  readonly subject: Subject;
  /** The project of the request: asked for, or the only one the key is bound to. */
  readonly projectId: string | null;
  readonly permissions: Permission[];
}

export type KeyVerdict =
  | ({ readonly valid: true; readonly code: 'VALID'; readonly explanation: string } & VerifiedKey)
  | {
      readonly valid: false;
      readonly code: Exclude<VerdictCode, 'VALID'>;
      readonly explanation: string;
      /** Present once the key was identified (for usage counts and for the operator's explanation). */
      readonly key?: ApiKeyRecord;
    };

export interface KeyVerifierDeps {
  readonly source: VerdictSource;
  readonly clock: Clock;
  readonly peppers: PepperRing;
  readonly keyFormat: KeyFormat;
  readonly catalogue: PermissionCatalogue;
}

const DUMMY_DIGEST = Buffer.alloc(32, 0x5a);
/** Distinct (project, ask) verdicts memoized per key before its memo starts over. */
const MEMO_PER_KEY = 64;

function askName(ask: Ask | null): string {
  if (!ask) return '';
  return ask.kind === 'permission' ? `p:${ask.permission}` : `r:${ask.action}:${ask.resource}`;
}
const NO_OWNER: Grant[] = [];

/** Levenshtein distance, for suggestions only (short strings). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The catalogue permission nearest to an unknown one: a close spelling, else the same category's action. */
export function closestPermission(known: readonly string[], asked: string): string | null {
  const lowered = asked.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const permission of known) {
    const distance = editDistance(lowered, permission.toLowerCase());
    if (distance < bestDistance) {
      best = permission;
      bestDistance = distance;
    }
  }
  if (best && bestDistance <= Math.max(2, Math.floor(asked.length / 4))) return best;
  const category = lowered.split(':')[0];
  return known.find((p) => p.startsWith(`${category}:`)) ?? null;
}

/** Whether a key's grants, or its owner's, reach a team or a project (rather than only the organization). */
function reachesSomeProjects(grants: readonly Grant[], ownerGrants: readonly Grant[] | null): boolean {
  return grants.some((g) => g.scopeType !== 'ORGANIZATION') || (ownerGrants ?? []).some((g) => g.scopeType !== 'ORGANIZATION');
}

/** Thrown for an ask that is malformed (not a verdict): an unknown permission, a bad resource path. */
export class InvalidAskError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** A permission that is not in the deployment's catalogue (422 `unknown_permission`), with the nearest one. */
export class UnknownPermissionError extends InvalidAskError {
  constructor(
    readonly permission: string,
    readonly didYouMean: string | null,
  ) {
    super('permission', `"${permission}" is not a permission of this deployment's catalogue${didYouMean ? `; did you mean "${didYouMean}"?` : '.'}`);
  }
}

/**
 * The one verifier: every credential that is an API key goes through it, the management API's
 * included. Order: format and checksum (no I/O at all for a mistyped or forged key), lookup, constant-
 * time secret comparison (an unknown id costs the same work as a wrong secret), state, IP allowlist,
 * then the permission under the ceiling model. Each verdict carries a stable code and an explanation.
 */
export class KeyVerifier {
  private readonly order: Permission[];
  private readonly allowlists = new WeakMap<ApiKeyRecord, IpAllowlist>();
  private readonly grantsByKey = new WeakMap<ApiKeyRecord, Grant[]>();
  private readonly grantsByOwner = new WeakMap<OwnerState, Grant[]>();
  private readonly digestBuffers = new WeakMap<ApiKeyRecord, Buffer>();
  /**
   * Valid and refused verdicts of the permission step, per key grants, owner grants, project and ask:
   * the same inputs give the same verdict (tokens narrowed by scope are not memoized).
   */
  private readonly memo = new WeakMap<Grant[], WeakMap<Grant[] | typeof NO_OWNER, Map<string, KeyVerdict>>>();
  /** Effective permissions, per key grants, owner grants and project: the same inputs give the same list. */
  private readonly permissionLists = new WeakMap<Grant[], WeakMap<Grant[] | typeof NO_OWNER, Map<string, Permission[]>>>();

  constructor(private readonly deps: KeyVerifierDeps) {
    this.order = allPermissions(deps.catalogue);
  }

  /** Checks the ask's shape; throws `InvalidAskError` for a malformed one. */
  parseAsk(request: Pick<VerifyRequest, 'permission' | 'action' | 'resource'>): Ask | null {
    if (request.permission !== undefined) {
      if (request.action !== undefined || request.resource !== undefined) {
        throw new InvalidAskError('permission', 'Ask for a permission, or for an action on a resource, not both.');
      }
      if (!isKnownPermission(this.deps.catalogue, request.permission)) {
        throw new UnknownPermissionError(request.permission, closestPermission(this.order, request.permission));
      }
      return { kind: 'permission', permission: request.permission };
    }
    if (request.action === undefined && request.resource === undefined) return null;
    const action = request.action ?? 'read';
    if (!isAction(action)) throw new InvalidAskError('action', 'The action must be read, write or admin.');
    const resource = request.resource ?? '*';
    const problem = resource === '*' ? null : resourcePathProblem(resource);
    if (problem) throw new InvalidAskError('resource', `The resource ${problem}.`);
    return { kind: 'resource', action, resource };
  }

  async verify(request: VerifyRequest): Promise<KeyVerdict> {
    const ask = this.parseAsk(request);
    const identified = await this.identify(request);
    if (!identified.valid) return identified;
    return this.verifyIdentified(identified.key, request, ask, null);
  }

  /**
   * Verifies the key behind an access token, found by its id (the token's `client_id`; only keys
   * with a lookup id get tokens), with the same state, owner, IP and permission checks as `verify`.
   * `binding` checks the token against the key once its state is known (the secret it was issued
   * with): a reason string refuses it as EXPIRED, like an old secret past its overlap.
   */
  async verifyKeyOfToken(
    keyId: KeyId,
    request: Omit<VerifyRequest, 'token'>,
    binding: (key: ApiKeyRecord) => string | null,
  ): Promise<KeyVerdict> {
    const ask = this.parseAsk(request);
    const lookupId = lookupIdFromKeyId(keyId);
    if (!lookupId) return { valid: false, code: 'NOT_FOUND', explanation: 'no such key' };
    const { source } = this.deps;
    const peeked = source.peekKeyByLookupId?.(lookupId);
    const key = peeked !== undefined ? peeked : await source.keyByLookupId(lookupId);
    if (!key || key.id !== keyId || (request.orgId && key.orgId !== request.orgId)) return { valid: false, code: 'NOT_FOUND', explanation: 'no such key' };
    return this.verifyIdentified(key, request, ask, binding);
  }

  /** State, binding, owner, IP allowlist, then the permission: everything after the key is known. */
  private async verifyIdentified(
    key: ApiKeyRecord,
    request: Omit<VerifyRequest, 'token'>,
    ask: Ask | null,
    binding: ((key: ApiKeyRecord) => string | null) | null,
  ): Promise<KeyVerdict> {
    const now = this.deps.clock.now();
    const status = keyStatus(key, now);
    if (status === 'revoked') return { valid: false, code: 'REVOKED', explanation: `revoked at ${key.revokedAt!.toISOString()}`, key };
    if (status === 'disabled') return { valid: false, code: 'DISABLED', explanation: 'disabled: its owner left the organization', key };
    if (status === 'expired') return { valid: false, code: 'EXPIRED', explanation: `expired at ${key.expiresAt!.toISOString()}`, key };
    const unbound = binding?.(key);
    if (unbound) return { valid: false, code: 'EXPIRED', explanation: unbound, key };

    let ownerGrants: Grant[] | null = null;
    if (key.keyType === 'personal') {
      const { source } = this.deps;
      const owner = key.ownerUserId ? (source.peekOwner?.(key.orgId, key.ownerUserId) ?? (await source.owner(key.orgId, key.ownerUserId))) : null;
      if (!owner || !owner.membership || owner.membership.status !== 'active' || owner.userDisabled) {
        return { valid: false, code: 'DISABLED', explanation: 'disabled: its owner is no longer an active member', key };
      }
      ownerGrants = this.ownerGrants(key.orgId, owner);
    }

    if (key.allowedCidrs.length > 0 && !this.allowlist(key).allows(request.ip)) {
      return {
        valid: false,
        code: 'IP_NOT_ALLOWED',
        explanation: request.ip ? `${request.ip} is outside the key's allowed ranges` : 'the key has an IP allowlist and no client address was given',
        key,
      };
    }

    const grants = this.keyGrants(key);
    const resolved = await this.resolveContext(key, request, ask);
    if ('code' in resolved) return { ...resolved, key };
    const { ctx } = resolved;
    const tokenPermissions = request.tokenPermissions ?? null;
    let memo: Map<string, KeyVerdict> | undefined;
    const memoName = `${ctx.projectId ?? ''}|${ctx.teamId ?? ''}|${askName(ask)}`;
    if (!tokenPermissions) {
      let byOwner = this.memo.get(grants);
      if (!byOwner) this.memo.set(grants, (byOwner = new WeakMap()));
      memo = byOwner.get(ownerGrants ?? NO_OWNER);
      if (!memo) byOwner.set(ownerGrants ?? NO_OWNER, (memo = new Map()));
      const known = memo.get(memoName);
      if (known) return known;
      // Asks are the caller's: bound what one key's memo holds.
      if (memo.size >= MEMO_PER_KEY) memo.clear();
    }
    const subject: Subject = {
      grants,
      ownerGrants,
      ownerLabel: key.ownerUserId ? `owner ${key.ownerUserId}` : undefined,
      scopes: key.scopes,
      tokenPermissions,
      restricted: key.permissionMode === 'restricted',
    };
    const permissions = this.permissionsFor(subject, grants, ownerGrants, ctx);
    const verified = { key, grants, ownerGrants, subject, projectId: ctx.projectId ?? null, permissions };
    let verdict: KeyVerdict;
    if (!ask) verdict = { valid: true, code: 'VALID', explanation: 'valid key; no permission asked', ...verified };
    else {
      const decision = decide(this.deps.catalogue, subject, ask, ctx);
      if (decision.allowed) {
        const explanation = resolved.orgLevel ? `at organization scope, ${decision.explanation}` : decision.explanation;
        verdict = { valid: true, code: 'VALID', explanation, ...verified };
      } else if (resolved.orgLevel && reachesSomeProjects(grants, ownerGrants)) {
        verdict = {
          valid: false,
          code: 'PROJECT_REQUIRED',
          explanation: `not granted at organization scope (${decision.explanation}); the key's rights reach some projects or teams: name one (projectId / X-Project-Id)`,
          key,
        };
      } else {
        verdict = { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: decision.explanation, key };
      }
    }
    memo?.set(memoName, verdict);
    return verdict;
  }

  /**
   * The key a token belongs to when its format, checksum and secret are right (a rolled key's old
   * secret counts inside its overlap), whatever the key's state; null otherwise, after the same work.
   */
  async identifyKey(token: string): Promise<ApiKeyRecord | null> {
    const identified = await this.identify({ token });
    return identified.valid ? identified.key : null;
  }

  /** Format, lookup and secret. Anything that fails here is NOT_FOUND, whatever the reason. */
  private async identify(request: VerifyRequest): Promise<{ valid: true; key: ApiKeyRecord } | Extract<KeyVerdict, { valid: false }>> {
    const notFound = { valid: false, code: 'NOT_FOUND', explanation: 'no such key' } as const;
    const parsed = this.deps.keyFormat.parse(request.token);
    if (!parsed) return { ...notFound, explanation: 'not a well-formed key (format or checksum)' };
    const { peppers } = this.deps;
    let key: ApiKeyRecord | null;
    let presented: Buffer;
    if (parsed.kind === 'lookup') {
      const { source } = this.deps;
      const peeked = source.peekKeyByLookupId?.(parsed.lookupId);
      key = peeked !== undefined ? peeked : await source.keyByLookupId(parsed.lookupId);
      presented = peppers.digest(parsed.secret, key && peppers.has(key.secret.pepperVersion) ? key.secret.pepperVersion : peppers.current.version);
      if (!key) {
        digestsEqual(presented, DUMMY_DIGEST);
        return notFound;
      }
    } else {
      key = null;
      presented = DUMMY_DIGEST;
      for (const version of peppers.versions) {
        presented = peppers.digest(parsed.secret, version);
        key = await this.deps.source.keyByDigest(presented.toString('hex'));
        if (key) break;
      }
      if (!key) return notFound;
    }
    if (!this.secretMatches(key, parsed.secret, presented)) return notFound;
    if (request.orgId && key.orgId !== request.orgId) return notFound;
    return { valid: true, key };
  }

  private permissionsFor(subject: Subject, grants: Grant[], ownerGrants: Grant[] | null, ctx: ScopeContext): Permission[] {
    if (subject.tokenPermissions) return effectivePermissions(subject, ctx, this.order);
    let byOwner = this.permissionLists.get(grants);
    if (!byOwner) this.permissionLists.set(grants, (byOwner = new WeakMap()));
    let byContext = byOwner.get(ownerGrants ?? NO_OWNER);
    if (!byContext) byOwner.set(ownerGrants ?? NO_OWNER, (byContext = new Map()));
    const name = `${ctx.projectId ?? ''}|${ctx.teamId ?? ''}`;
    let list = byContext.get(name);
    if (!list) byContext.set(name, (list = Object.freeze(effectivePermissions(subject, ctx, this.order)) as Permission[]));
    return list;
  }

  private secretMatches(key: ApiKeyRecord, secret: string, presented: Buffer): boolean {
    const { peppers } = this.deps;
    let stored = this.digestBuffers.get(key);
    if (!stored) this.digestBuffers.set(key, (stored = Buffer.from(key.secret.digest, 'hex')));
    if (digestsEqual(presented, stored)) return true;
    const previous = key.previousSecret;
    if (!previous || !key.previousSecretExpiresAt || key.previousSecretExpiresAt.getTime() <= this.deps.clock.now().getTime()) {
      return false;
    }
    if (!peppers.has(previous.pepperVersion)) return false;
    const digest = previous.pepperVersion === key.secret.pepperVersion ? presented : peppers.digest(secret, previous.pepperVersion);
    return digestsEqual(digest, Buffer.from(previous.digest, 'hex'));
  }

  private async resolveContext(
    key: ApiKeyRecord,
    request: Omit<VerifyRequest, 'token'>,
    ask: Ask | null,
  ): Promise<{ ctx: ScopeContext; orgLevel?: true } | { valid: false; code: 'INSUFFICIENT_PERMISSIONS'; explanation: string }> {
    let projectId: string | null = request.projectId ?? null;
    if (ask?.kind === 'resource') {
      const segments = ask.resource.split('/');
      if (segments[0] === 'projects' && segments[1]) {
        if (projectId && projectId !== segments[1]) {
          return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `the resource is in project ${segments[1]}, not ${projectId}` };
        }
        projectId = segments[1];
      }
    }
    const sole = soleProjectOf(key);
    if (key.keyType === 'project' && projectId && projectId !== key.projectId) {
      return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `this project key is bound to project ${key.projectId}` };
    }
    projectId ??= sole;
    if (!projectId) {
      // A category permission without a project is asked of the whole organization (issue 12): a
      // key whose rights reach only some projects or teams is then told to name one.
      const orgLevel = ask?.kind === 'permission' && ask.permission !== ORGANIZATION_MANAGE;
      return orgLevel ? { ctx: {}, orgLevel } : { ctx: {} };
    }
    if (!/^proj_[0-9A-Za-z]{1,64}$/.test(projectId)) {
      return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `project ${projectId} is not in the key's organization` };
    }
    const { source } = this.deps;
    const peeked = source.peekProject?.(key.orgId, projectId as ProjectId);
    const project = peeked !== undefined ? peeked : await source.project(key.orgId, projectId as ProjectId);
    if (!project) return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `project ${projectId} is not in the key's organization` };
    if (project.archivedAt) return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `project ${projectId} is archived` };
    return { ctx: { projectId: project.id, teamId: project.teamId } };
  }

  private allowlist(key: ApiKeyRecord): IpAllowlist {
    let list = this.allowlists.get(key);
    if (!list) this.allowlists.set(key, (list = new IpAllowlist(key.allowedCidrs)));
    return list;
  }

  private keyGrants(key: ApiKeyRecord): Grant[] {
    let grants = this.grantsByKey.get(key);
    if (!grants) this.grantsByKey.set(key, (grants = keyGrants(this.deps.catalogue, key)));
    return grants;
  }

  private ownerGrants(orgId: OrgId, owner: OwnerState): Grant[] {
    let grants = this.grantsByOwner.get(owner);
    if (!grants) this.grantsByOwner.set(owner, (grants = userGrants(this.deps.catalogue, orgId, owner.membership, owner.bindings)));
    return grants;
  }
}
