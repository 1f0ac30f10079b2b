import { hash } from 'node:crypto';
import { keyGrants, soleProjectOf, userGrants } from '../auth/grants.js';
import type { KeyId, OrgId, ProjectId } from '../ids.js';
import { IpAllowlist } from '../network/cidr.js';
import { ORGANIZATION_MANAGE, allPermissions, isKnownPermission, type Permission, type PermissionCatalogue } from '../permissions/catalogue.js';
import { decide, effectivePermissions, type Ask, type Subject } from '../permissions/decide.js';
import type { Grant, ScopeContext } from '../permissions/rights.js';
import type { Clock } from '../ports.js';
import { isAction, resourcePathProblem } from '../resources/resource-filter.js';
import { lookupIdFromKeyId, type ApiKeyRecord } from './api-key.js';
import { digestsEqual, type PepperRing } from './key-digest.js';
import { CHECKSUM_LENGTH, LOOKUP_ID_LENGTH, SECRET_LENGTH, type KeyFormat, type ParsedToken } from './key-format.js';
import type { Project } from '../projects/project.js';
import type { MeterReading } from '../limits/key-meter.js';
import { verdictAnswer, type VerdictAnswer } from './verdict-answer.js';
import { CachedKey, CachedKeyFactory } from './cached-key.js';
import { keyCacheName, projectCacheName, type OwnerState, type VerdictSource } from './verdict-source.js';

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
  'USAGE_EXCEEDED',
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
  /** What the request spends from the key's rate limits and credits (default 1; 0 checks only). */
  readonly cost?: number | undefined;
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
  | ({
      readonly valid: true;
      readonly code: 'VALID';
      readonly explanation: string;
      readonly metering?: MeterReading;
      /** For a metered verdict: the (memoized) verdict it adds metering to. */
      readonly unmetered?: KeyVerdict;
    } & VerifiedKey)
  | {
      readonly valid: false;
      readonly code: Exclude<VerdictCode, 'VALID'>;
      readonly explanation: string;
      /** Present once the key was identified (for usage counts and for the operator's explanation). */
      readonly key?: ApiKeyRecord;
      /** For a key with rate limits or credits, once every other check passed: what metering found. */
      readonly metering?: MeterReading;
    };

export interface KeyVerifierDeps {
  readonly source: VerdictSource;
  readonly clock: Clock;
  readonly peppers: PepperRing;
  readonly keyFormat: KeyFormat;
  readonly catalogue: PermissionCatalogue;
}

const DUMMY_DIGEST = Buffer.alloc(32, 0x5a);
/** Distinct asks whose decisions are memoized per profile, owner and project before that memo starts over. */
const ASKS_PER_CONTEXT = 256;

function askName(ask: Ask | null): string {
  if (!ask) return '';
  return ask.kind === 'permission' ? ask.permission : `r:${ask.action}:${ask.resource}`;
}
const NO_OWNER: Grant[] = [];
/** Where decisions about no project (organization level) are memoized. */
const NO_PROJECT = {};
/** A cached key's owner not yet found in the cache in the current stamp. */
const OWNER_UNKNOWN = {};
/**
 * Tokens remembered apart from their keys (a rolled key's old secret, legacy project keys), at most
 * (by a SHA-256 of the token, never the token), unless told (`createKeyVerification` gives the cache's
 * size): each holds its cached key, so this bounds memory as the cache's size does.
 */
const VERIFIED_TOKENS_MAX = 100_000;

/**
 * How long a cache lookup seen current stays current while no invalidation reached the source (its
 * generation is unchanged): past this the entry is looked up again, so the source's own age bound and
 * evictions still apply, at most this much later.
 */
const RECHECK_MS = 1_000;
/** Stamps are unique across verifiers, so a cached key stamped by one is never taken as current by another. */
let lastStamp = 0;

/**
 * A verdict but its key: shared by every key of one access profile, owner, project and ask (issue 13).
 * A verification makes its verdict from it and the key, a small object the young generation collects.
 */
type Decided =
  | (Omit<Extract<KeyVerdict, { valid: true }>, 'key' | 'metering' | 'unmetered'> & { readonly valid: true })
  | { readonly valid: false; readonly code: Exclude<VerdictCode, 'VALID'>; readonly explanation: string };

/** The decisions of one profile for one owner (or none): the subject, and memoized decisions by project and ask. */
interface OwnerContext {
  readonly subject: Subject;
  readonly byProject: WeakMap<object, Map<string, Decided>>;
}

/** What a verifier derives from one access profile, once for all the keys that share it. */
interface ProfileState {
  readonly verifier: KeyVerifier;
  readonly grants: Grant[];
  readonly allowlist: IpAllowlist | null;
  /** The project a request without one is about: the key's only project, if it has exactly one. */
  readonly soleProject: string | null;
  readonly soleProjectName: string | null;
  /** That project as last read from the cache, and the stamp it was read in. */
  projectStamp: number;
  projectState: Project | null;
  readonly contexts: WeakMap<Grant[], OwnerContext>;
  /** The last decision made or found for this profile and what it was for: most keys are asked the same thing every time. */
  last: { readonly owned: Grant[]; readonly where: object; readonly ask: string; readonly decided: Decided } | null;
}

/** A remembered token that is not simply its cached key's current secret under the key's id. */
interface RememberedToken {
  readonly key: CachedKey;
  readonly name: string;
  readonly viaPrevious: boolean;
}

function verdictOf(decided: Decided, key: CachedKey): KeyVerdict {
  if (!decided.valid) return { valid: false, code: decided.code, explanation: decided.explanation, key };
  const { explanation, grants, ownerGrants, subject, projectId, permissions } = decided;
  return { valid: true, code: 'VALID', explanation, key, grants, ownerGrants, subject, projectId, permissions };
}

/** Distinct explanations of memoized decisions that are shared, at most (the oldest go first). */
const SHARED_EXPLANATIONS_MAX = 10_000;
const explanations = new Map<string, string>();

/** One string per distinct explanation of a decision, shared by profiles decided alike. */
function sharedExplanation(text: string): string {
  const known = explanations.get(text);
  if (known !== undefined) return known;
  if (explanations.size >= SHARED_EXPLANATIONS_MAX) explanations.delete(explanations.keys().next().value!);
  explanations.set(text, text);
  return text;
}

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
 *
 * The hot path (issue 13): a token that already matched a key still in the source's cache is found by
 * a SHA-256 of the whole token, so the format check, the checksum and the peppered HMAC run once per
 * token and cache entry, not per verification. What a key's access implies (grants, allowlist, sole
 * project, decisions per owner, project and ask) is derived once per `AccessProfile`, shared by every
 * key with the same access; per key, only the cached key itself and its remembered token are kept, and
 * a verdict is made per verification from the shared decision and the key. An invalidation drops the
 * key from the source's cache, which ends all of it for that key: the next verification goes the
 * whole way again.
 *
 * Freshness of what is remembered: a stamp changes whenever the source's generation changes (an
 * invalidation) and at least every RECHECK_MS; a cached key, its owner and its profile's project
 * are looked up in the cache again on their first use in a new stamp.
 */
export class KeyVerifier {
  private readonly order: Permission[];
  private readonly grantsByOwner = new WeakMap<OwnerState, Grant[]>();
  /** Keys read from a source without a cache, in the form the verifier works on. */
  private readonly uncachedKeys = new CachedKeyFactory();
  /** Remembered tokens that are not a key's current secret under its id (see `knownToken`). */
  private readonly otherTokens = new Map<string, RememberedToken>();
  private readonly verifiedTokensMax: number;
  private readonly lookupTokenLength: number;
  private readonly asks = new Map<string, Ask>();
  private stamp = 0;
  private stampGeneration: number | undefined = undefined;
  private stampStartMs = 0;
  /** Verifications whose token was found in memory (no cache lookup, format check or HMAC). */
  rememberedHits = 0;
  /** Effective permissions, per key grants, owner grants and project: the same inputs give the same list. */
  private readonly permissionLists = new WeakMap<Grant[], WeakMap<Grant[] | typeof NO_OWNER, Map<string, Permission[]>>>();

  constructor(private readonly deps: KeyVerifierDeps & { readonly verifiedTokensMax?: number }) {
    this.order = allPermissions(deps.catalogue);
    this.verifiedTokensMax = deps.verifiedTokensMax ?? VERIFIED_TOKENS_MAX;
    this.lookupTokenLength = deps.keyFormat.prefix.length + LOOKUP_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;
  }

  /** Checks the ask's shape; throws `InvalidAskError` for a malformed one. */
  parseAsk(request: Pick<VerifyRequest, 'permission' | 'action' | 'resource'>): Ask | null {
    if (request.permission !== undefined) {
      if (request.action !== undefined || request.resource !== undefined) {
        throw new InvalidAskError('permission', 'Ask for a permission, or for an action on a resource, not both.');
      }
      const known = this.asks.get(request.permission);
      if (known) return known;
      if (!isKnownPermission(this.deps.catalogue, request.permission)) {
        throw new UnknownPermissionError(request.permission, closestPermission(this.order, request.permission));
      }
      const ask: Ask = { kind: 'permission', permission: request.permission };
      this.asks.set(request.permission, ask);
      return ask;
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
    return this.check(request);
  }

  /**
   * As `verify`, but the verdict itself, without a promise, when everything it needs is in memory (a
   * remembered token whose key, owner and project are cached): the fast lanes answer such a request
   * synchronously. A malformed ask throws here, synchronously. `nowMs`: the clock's reading, when the
   * caller just read it.
   */
  check(request: VerifyRequest, nowMs: number = this.deps.clock.now().getTime()): KeyVerdict | Promise<KeyVerdict> {
    const ask = this.parseAsk(request);
    const key = this.knownToken(request.token, nowMs);
    if (key) {
      if (request.orgId && key.orgId !== request.orgId) return NOT_FOUND;
      return this.checkedNow(key, request, ask, nowMs) ?? this.verifyIdentified(key, request, ask, null);
    }
    // A malformed key (format or checksum) is refused here, with no I/O and no promise.
    const parsed = this.deps.keyFormat.parse(request.token);
    if (!parsed) return MALFORMED;
    // So is a key whose lookup id no key has, when the source can tell at once (decision 0004); a key
    // it finds goes on to `identify` as found, not looked up again.
    const found = parsed.kind === 'lookup' ? this.deps.source.keyByLookupIdNow?.(parsed.lookupId) : undefined;
    if (found === null) return NOT_FOUND;
    return this.identifyThenVerify(request, ask, parsed, found);
  }

  private async identifyThenVerify(request: VerifyRequest, ask: Ask | null, parsed: ParsedToken, found: ApiKeyRecord | undefined): Promise<KeyVerdict> {
    const identified = await this.identify(request, parsed, found);
    if (!identified.valid) return identified;
    return this.verifyIdentified(identified.key, request, ask, null);
  }

  /**
   * The answer for a verdict (`verdictAnswer`). For an access token, `tokenExpiresAt` (its `exp`) is
   * when the credential stops working, unless the key expires sooner. Made per verification: nothing
   * per key is memoized beyond the cached key (issue 13).
   */
  answer(verdict: KeyVerdict, tokenExpiresAt: Date | null = null): VerdictAnswer {
    return verdictAnswer(verdict, tokenExpiresAt);
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
    if (!lookupId) return NOT_FOUND;
    const { source } = this.deps;
    const peeked = source.peekKeyByLookupId?.(lookupId);
    const key = peeked !== undefined ? peeked : await source.keyByLookupId(lookupId);
    if (!key || key.id !== keyId || (request.orgId && key.orgId !== request.orgId)) return NOT_FOUND;
    return this.verifyIdentified(key, request, ask, binding);
  }

  /**
   * The stamp of now: a new one when an invalidation reached the source (its generation changed), when
   * RECHECK_MS passed since this one began, or when the clock went back; undefined while the source's
   * cache is not trusted.
   */
  private currentStamp(nowMs: number): number | undefined {
    const generation = this.deps.source.peekGeneration?.();
    if (generation === undefined) return undefined;
    if (generation !== this.stampGeneration || nowMs - this.stampStartMs > RECHECK_MS || nowMs < this.stampStartMs) {
      this.stamp = ++lastStamp;
      this.stampGeneration = generation;
      this.stampStartMs = nowMs;
    }
    return this.stamp;
  }

  /**
   * The verdict from cached inputs alone, when the owner and the project it needs are cached; undefined
   * when something must be read first (`verifyIdentified` reads it). `key` was seen current in this stamp.
   */
  private checkedNow(key: CachedKey, request: Omit<VerifyRequest, 'token'>, ask: Ask | null, nowMs: number): KeyVerdict | undefined {
    const refused = this.stateVerdict(key, null, nowMs);
    if (refused) return refused;
    const profile = this.profileOf(key);
    const requested = this.requestedProject(request, ask, profile.soleProject);
    const { source } = this.deps;
    if (key.ownerState === OWNER_UNKNOWN) {
      const peeked = source.peekOwner?.(key.orgId, key.ownerUserId!);
      if (peeked === undefined) return undefined;
      key.ownerState = peeked;
    }
    let project: Project | null = null;
    if (typeof requested === 'string' && requested) {
      if (requested === profile.soleProject) {
        if (profile.projectStamp !== key.stamp) {
          const peeked = source.peekProject?.(key.orgId, requested as ProjectId, profile.soleProjectName!);
          if (peeked === undefined) return undefined;
          profile.projectState = peeked;
          profile.projectStamp = key.stamp;
        }
        project = profile.projectState;
      } else {
        const peeked = source.peekProject?.(key.orgId, requested as ProjectId);
        if (peeked === undefined) return undefined;
        project = peeked;
      }
    }
    return this.decideFor(key, profile, request, ask, key.ownerState as OwnerState | null, requested, project);
  }

  /** State, binding, owner, IP allowlist, then the permission: everything after the key is known. */
  private async verifyIdentified(
    record: ApiKeyRecord,
    request: Omit<VerifyRequest, 'token'>,
    ask: Ask | null,
    binding: ((key: ApiKeyRecord) => string | null) | null,
  ): Promise<KeyVerdict> {
    const key = record instanceof CachedKey ? record : this.uncachedKeys.make(record);
    const refused = this.stateVerdict(key, binding, this.deps.clock.now().getTime());
    if (refused) return refused;
    const { source } = this.deps;
    let owner: OwnerState | null = null;
    if (key.keyType === 'personal' && key.ownerUserId) {
      owner = source.peekOwner?.(key.orgId, key.ownerUserId) ?? (await source.owner(key.orgId, key.ownerUserId));
    }
    const profile = this.profileOf(key);
    const projectId = this.requestedProject(request, ask, profile.soleProject);
    let project: Project | null = null;
    if (typeof projectId === 'string' && projectId) {
      const peeked = source.peekProject?.(key.orgId, projectId as ProjectId);
      project = peeked !== undefined ? peeked : await source.project(key.orgId, projectId as ProjectId);
    }
    return this.decideFor(key, profile, request, ask, owner, projectId, project);
  }

  /** Revoked, disabled, expired, or refused by the token's binding; null when none of these. */
  private stateVerdict(key: CachedKey, binding: ((key: ApiKeyRecord) => string | null) | null, nowMs: number): KeyVerdict | null {
    if (key.isRevoked) return { valid: false, code: 'REVOKED', explanation: `revoked at ${key.revokedAt!.toISOString()}`, key };
    if (key.isDisabled) return { valid: false, code: 'DISABLED', explanation: 'disabled: its owner left the organization', key };
    if (key.expiresMs !== null && key.expiresMs <= nowMs) return { valid: false, code: 'EXPIRED', explanation: `expired at ${new Date(key.expiresMs).toISOString()}`, key };
    const unbound = binding?.(key);
    if (unbound) return { valid: false, code: 'EXPIRED', explanation: unbound, key };
    return null;
  }

  /**
   * The project the request is about: asked for, named by the resource, or the key's only one; null
   * for none; a verdict when the request contradicts itself or the key. Reads nothing.
   */
  private requestedProject(request: Omit<VerifyRequest, 'token'>, ask: Ask | null, soleProject: string | null): string | null | KeyVerdict {
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
    if (projectId === null) return soleProject;
    if (projectId !== soleProject && !/^proj_[0-9A-Za-z]{1,64}$/.test(projectId)) {
      return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `project ${projectId} is not in the key's organization` };
    }
    return projectId;
  }

  /** Owner, IP allowlist, project, then the permission (memoized per profile), from inputs already read. */
  private decideFor(
    key: CachedKey,
    profile: ProfileState,
    request: Omit<VerifyRequest, 'token'>,
    ask: Ask | null,
    owner: OwnerState | null,
    requested: string | null | KeyVerdict,
    project: Project | null,
  ): KeyVerdict {
    let ownerGrants: Grant[] | null = null;
    if (key.keyType === 'personal') {
      if (!owner || !owner.membership || owner.membership.status !== 'active' || owner.userDisabled) {
        return { valid: false, code: 'DISABLED', explanation: 'disabled: its owner is no longer an active member', key };
      }
      ownerGrants = this.ownerGrants(key.orgId, owner);
    }
    if (profile.allowlist && !profile.allowlist.allows(request.ip)) {
      return {
        valid: false,
        code: 'IP_NOT_ALLOWED',
        explanation: request.ip ? `${request.ip} is outside the key's allowed ranges` : 'the key has an IP allowlist and no client address was given',
        key,
      };
    }
    if (requested !== null && typeof requested === 'object') return { ...requested, key } as KeyVerdict;
    if (key.keyType === 'project' && requested && requested !== key.projectId) {
      return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `this project key is bound to project ${key.projectId}`, key };
    }
    let ctx: ScopeContext;
    let orgLevel = false;
    if (!requested) {
      // A category permission without a project is asked of the whole organization (issue 12): a
      // key whose rights reach only some projects or teams is then told to name one.
      orgLevel = ask?.kind === 'permission' && ask.permission !== ORGANIZATION_MANAGE;
      ctx = {};
    } else if (!project) {
      return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `project ${requested} is not in the key's organization`, key };
    } else if (project.archivedAt) {
      return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `project ${requested} is archived`, key };
    } else {
      ctx = { projectId: project.id, teamId: project.teamId };
    }

    const tokenPermissions = request.tokenPermissions ?? null;
    if (tokenPermissions) {
      // Narrowed by an access token's scope: decided per verification, never memoized.
      const subject: Subject = { ...this.ownerContext(profile, key, ownerGrants).subject, tokenPermissions };
      return verdictOf(this.decision(subject, ask, ctx, orgLevel), key);
    }
    // Decisions follow the project's record: a changed project is a new record (and a new memo).
    const where = project ?? NO_PROJECT;
    const name = askName(ask);
    const owned = ownerGrants ?? NO_OWNER;
    const last = profile.last;
    if (last !== null && last.ask === name && last.where === where && last.owned === owned) return verdictOf(last.decided, key);
    const context = this.ownerContext(profile, key, ownerGrants);
    let byAsk = context.byProject.get(where);
    let decided = byAsk?.get(name);
    if (!decided) {
      decided = this.decision(context.subject, ask, ctx, orgLevel);
      if (!byAsk) context.byProject.set(where, (byAsk = new Map()));
      else if (byAsk.size >= ASKS_PER_CONTEXT) byAsk.clear(); // asks are the caller's: bound the memo
      byAsk.set(name, decided);
    }
    profile.last = { owned, where, ask: name, decided };
    return verdictOf(decided, key);
  }

  /** The decision for a subject, an ask and a scope, without the key (see `Decided`). */
  private decision(subject: Subject, ask: Ask | null, ctx: ScopeContext, orgLevel: boolean): Decided {
    const { grants, ownerGrants } = subject;
    const permissions = this.permissionsFor(subject, grants as Grant[], ownerGrants as Grant[] | null, ctx);
    const projectId = ctx.projectId ?? null;
    const valid = (explanation: string): Decided => ({ valid: true, code: 'VALID', explanation, grants: grants as Grant[], ownerGrants, subject, projectId, permissions });
    if (!ask) return valid('valid key; no permission asked');
    const decision = decide(this.deps.catalogue, subject, ask, ctx);
    if (decision.allowed) return valid(sharedExplanation(orgLevel ? `at organization scope, ${decision.explanation}` : decision.explanation));
    if (orgLevel && reachesSomeProjects(grants, ownerGrants)) {
      return {
        valid: false,
        code: 'PROJECT_REQUIRED',
        explanation: sharedExplanation(
          `not granted at organization scope (${decision.explanation}); the key's rights reach some projects or teams: name one (projectId / X-Project-Id)`,
        ),
      };
    }
    return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: sharedExplanation(decision.explanation) };
  }

  /** The subject and memoized decisions of a profile for one owner's grants (or none). */
  private ownerContext(profile: ProfileState, key: CachedKey, ownerGrants: Grant[] | null): OwnerContext {
    const owned = ownerGrants ?? NO_OWNER;
    let context = profile.contexts.get(owned);
    if (!context) {
      const subject: Subject = {
        grants: profile.grants,
        ownerGrants,
        // Owner grants are one owner's (per owner state): the label is that owner's.
        ownerLabel: ownerGrants && key.ownerUserId ? `owner ${key.ownerUserId}` : undefined,
        scopes: key.scopes,
        tokenPermissions: null,
        restricted: key.permissionMode === 'restricted',
      };
      profile.contexts.set(owned, (context = { subject, byProject: new WeakMap() }));
    }
    return context;
  }

  /** What this verifier derives from a key's access profile, made once per profile. */
  private profileOf(key: CachedKey): ProfileState {
    const access = key.access;
    const known = access.verifierState as ProfileState | null;
    if (known?.verifier === this) return known;
    const soleProject = soleProjectOf(key);
    const state: ProfileState = {
      verifier: this,
      grants: keyGrants(this.deps.catalogue, access),
      allowlist: access.allowedCidrs.length > 0 ? new IpAllowlist(access.allowedCidrs) : null,
      soleProject,
      soleProjectName: soleProject ? projectCacheName(access.orgId, soleProject) : null,
      projectStamp: -1,
      projectState: null,
      contexts: new WeakMap(),
      last: null,
    };
    access.verifierState = state;
    return state;
  }

  /**
   * The key a token belongs to when its format, checksum and secret are right (a rolled key's old
   * secret counts inside its overlap), whatever the key's state; null otherwise, after the same work.
   * A plain record: the caller may copy or spread it.
   */
  async identifyKey(token: string): Promise<ApiKeyRecord | null> {
    const known = this.knownToken(token, this.deps.clock.now().getTime());
    if (known) return known.toRecord();
    const identified = await this.identify({ token });
    return identified.valid ? identified.key.toRecord() : null;
  }

  /**
   * The cached key a token already matched, if that key is still the source's current one (an
   * invalidation drops it) and, for a rolled key's old secret, its overlap still runs. No format
   * check, checksum or HMAC: equal SHA-256 digests mean the same token. A key's current secret is
   * remembered on the cached key itself (`fingerprint`), found under the name the token's lookup id
   * gives: no table per token. Other tokens (a rolled key's old secret, legacy project keys found by
   * digest) are remembered in `otherTokens`.
   */
  private knownToken(token: string, nowMs: number): CachedKey | null {
    const { source } = this.deps;
    if (!source.peekKey || typeof token !== 'string') return null;
    const stamp = this.currentStamp(nowMs);
    if (stamp === undefined) return null;
    const name = this.lookupNameOf(token);
    let fingerprint: string | undefined;
    if (name !== null) {
      // The cache's own lookup: a key it holds now is current (an invalidation drops it). It is marked
      // recently used once per stamp, as a lookup of the source would.
      const key = source.peekKeyQuietly ? source.peekKeyQuietly(name) : source.peekKey(name);
      if (!key) return null;
      if (key instanceof CachedKey && key.fingerprint !== null && key.fingerprint === (fingerprint = tokenFingerprint(token))) {
        if (key.stamp !== stamp) {
          if (source.peekKeyQuietly) source.peekKey(name);
          this.restamp(key, stamp);
        }
        this.rememberedHits++;
        return key;
      }
      if (this.otherTokens.size === 0) return null;
    }
    const known = this.otherTokens.get(fingerprint ?? tokenFingerprint(token));
    if (known === undefined) return null;
    const { key } = known;
    if (key.stamp !== stamp) {
      if (source.peekKey(known.name) !== key) return null;
      this.restamp(key, stamp);
    }
    if (known.viaPrevious && !(key.previousSecretExpiresAt && key.previousSecretExpiresAt.getTime() > nowMs)) return null;
    this.rememberedHits++;
    return key;
  }

  /** Marks a cached key seen current in this stamp, its owner (a personal key's) looked up with it; a miss is read on the way. */
  private restamp(key: CachedKey, stamp: number): void {
    key.ownerState = key.keyType === 'personal' && key.ownerUserId ? (this.deps.source.peekOwner?.(key.orgId, key.ownerUserId) ?? OWNER_UNKNOWN) : null;
    key.stamp = stamp;
  }

  /** The cache name of the key a token names by its lookup id (`key_<lookupId>`), from its shape alone; null for another shape. */
  private lookupNameOf(token: string): string | null {
    const { prefix } = this.deps.keyFormat;
    if (token.length !== this.lookupTokenLength || token.charCodeAt(prefix.length + LOOKUP_ID_LENGTH) !== 95 /* _ */ || !token.startsWith(prefix)) return null;
    return keyCacheName.lookup(token.slice(prefix.length, prefix.length + LOOKUP_ID_LENGTH));
  }

  private rememberToken(token: string, key: CachedKey, name: string, viaPrevious: boolean): void {
    const { source } = this.deps;
    if (!source.peekKey || !source.peekGeneration) return;
    // Only a key the cache holds now can be checked later: an uncached read is not remembered.
    if (source.peekGeneration() === undefined || source.peekKey(name) !== key) return;
    // Most tokens are their key's current secret, found under the key's id: the key remembers it.
    if (!viaPrevious && name === key.id && this.lookupNameOf(token) === name) {
      key.fingerprint = tokenFingerprint(token);
      return;
    }
    const tokens = this.otherTokens;
    if (tokens.size >= this.verifiedTokensMax) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = tokens.keys().next();
      if (!oldest.done) tokens.delete(oldest.value);
    }
    tokens.set(tokenFingerprint(token), { key, name, viaPrevious });
  }

  /** Format, lookup and secret. Anything that fails here is NOT_FOUND, whatever the reason. */
  private async identify(
    request: VerifyRequest,
    parsed: ParsedToken | null = this.deps.keyFormat.parse(request.token),
    /** The key of a lookup token, when the caller found it already. */
    found?: ApiKeyRecord,
  ): Promise<{ valid: true; key: CachedKey } | Extract<KeyVerdict, { valid: false }>> {
    if (!parsed) return MALFORMED;
    const { peppers } = this.deps;
    let record: ApiKeyRecord | null;
    let presented: Buffer;
    let name: string;
    if (parsed.kind === 'lookup') {
      const { source } = this.deps;
      const peeked = found ?? source.peekKeyByLookupId?.(parsed.lookupId);
      record = peeked !== undefined ? peeked : await source.keyByLookupId(parsed.lookupId);
      // No key has this lookup id: NOT_FOUND at once, without the HMAC. The lookup id is public (it is
      // the key's id), so the time this takes tells nothing that the id does not; the secret of a key
      // that exists is always compared in constant time (docs/decisions/0004-unknown-keys-fast.md).
      if (!record) return NOT_FOUND;
      const version = record instanceof CachedKey ? record.pepperVersion : record.secret.pepperVersion;
      presented = peppers.digest(parsed.secret, peppers.has(version) ? version : peppers.current.version);
      name = keyCacheName.lookup(parsed.lookupId);
    } else {
      record = null;
      presented = DUMMY_DIGEST;
      name = '';
      for (const version of peppers.versions) {
        presented = peppers.digest(parsed.secret, version);
        const hex = presented.toString('hex');
        record = await this.deps.source.keyByDigest(hex);
        if (record) {
          name = keyCacheName.digest(hex);
          break;
        }
      }
      if (!record) return NOT_FOUND;
    }
    const key = record instanceof CachedKey ? record : this.uncachedKeys.make(record);
    const matched = this.secretMatches(key, parsed.secret, presented);
    if (!matched) return NOT_FOUND;
    this.rememberToken(request.token, key, name, matched === 'previous');
    if (request.orgId && key.orgId !== request.orgId) return NOT_FOUND;
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

  private secretMatches(key: CachedKey, secret: string, presented: Buffer): 'current' | 'previous' | null {
    const { peppers } = this.deps;
    // Made per call: this runs once per token and cache entry (a remembered token skips it).
    if (digestsEqual(presented, Buffer.from(key.digestBytes, 'latin1'))) return 'current';
    const previous = key.previousSecret;
    if (!previous || !key.previousSecretExpiresAt || key.previousSecretExpiresAt.getTime() <= this.deps.clock.now().getTime()) {
      return null;
    }
    if (!peppers.has(previous.pepperVersion)) return null;
    const digest = previous.pepperVersion === key.pepperVersion ? presented : peppers.digest(secret, previous.pepperVersion);
    return digestsEqual(digest, Buffer.from(previous.digest, 'hex')) ? 'previous' : null;
  }

  private ownerGrants(orgId: OrgId, owner: OwnerState): Grant[] {
    let grants = this.grantsByOwner.get(owner);
    if (!grants) this.grantsByOwner.set(owner, (grants = userGrants(this.deps.catalogue, orgId, owner.membership, owner.bindings)));
    return grants;
  }
}

const NOT_FOUND = Object.freeze({ valid: false, code: 'NOT_FOUND', explanation: 'no such key' } as const);
const MALFORMED = Object.freeze({ valid: false, code: 'NOT_FOUND', explanation: 'not a well-formed key (format or checksum)' } as const);

/** The name a verified token is remembered by: its SHA-256 as 32 latin1 characters, so no token is ever kept. */
function tokenFingerprint(token: string): string {
  // 'binary' is latin1: one character per byte.
  return hash('sha256', token, 'binary');
}
