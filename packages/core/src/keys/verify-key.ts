import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
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
import type { KeyFormat, ParsedToken } from './key-format.js';
import type { Project } from '../projects/project.js';
import type { MeterReading } from '../limits/key-meter.js';
import { meteringFields, verdictAnswer, type VerdictAnswer } from './verdict-answer.js';
import { keyCacheName, ownerCacheName, projectCacheName, type OwnerState, type VerdictSource } from './verdict-source.js';

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
/** Distinct (project, ask) verdicts memoized per key before its memo starts over. */
const MEMO_PER_KEY = 64;

function askName(ask: Ask | null): string {
  if (!ask) return '';
  return ask.kind === 'permission' ? ask.permission : `r:${ask.action}:${ask.resource}`;
}
const NO_OWNER: Grant[] = [];
/**
 * Tokens known to match a cached key, remembered at most (by a SHA-256 of the token, never the
 * token), unless told (`createKeyVerification` gives the cache's size): each holds its key's record,
 * so this bounds memory as the cache's size does.
 */
const VERIFIED_TOKENS_MAX = 100_000;

/**
 * What verification derives from one cached key record, computed once per record: a record is
 * replaced, never changed, when its key changes, so these stay true for as long as it is cached.
 */
interface KeyFacts {
  /** Revoked or disabled: final for this record. */
  readonly status: 'revoked' | 'disabled' | null;
  /** When it expires, in ms since the epoch (Infinity: never). */
  readonly expiresMs: number;
  readonly grants: Grant[];
  readonly allowlist: IpAllowlist | null;
  /** The project a request without one is about: the key's only project, if it has exactly one. */
  readonly soleProject: string | null;
  /** The cache name of that project and of the owner, made once. */
  readonly soleProjectName: string | null;
  readonly ownerName: string | null;
  /** Memoized verdicts: owner grants (or NO_OWNER) → project → ask; null while `last` is the only one. */
  memo: Map<Grant[], Map<string, Map<string, KeyVerdict>>> | null;
  memoSize: number;
  /** The last memoized verdict and what it was for: most keys are asked the same thing every time. */
  last: { ownerGrants: Grant[]; project: string; ask: string; verdict: KeyVerdict } | null;
  /** The owner and the project last read from the cache for it, and when (see `RECHECK_MS`). */
  inputs: { generation: number; checkedAtMs: number; owner: OwnerState | null; project: string; projectState: Project | null } | null;
}

/** Distinct explanations of memoized verdicts that are shared, at most (the oldest go first). */
const SHARED_EXPLANATIONS_MAX = 10_000;
const explanations = new Map<string, string>();

/**
 * One string per distinct explanation of a decision: a memoized verdict lives as long as its key's
 * cache entry, and keys decided alike (most of them) then share one string instead of each holding a
 * tree of concatenated pieces.
 */
function sharedExplanation(text: string): string {
  const known = explanations.get(text);
  if (known !== undefined) return known;
  if (explanations.size >= SHARED_EXPLANATIONS_MAX) explanations.delete(explanations.keys().next().value!);
  explanations.set(text, text);
  return text;
}

/** Where a memoized verdict keeps its answer, made once. */
const ANSWER = Symbol('answer');
type Memoized = KeyVerdict & { [ANSWER]?: VerdictAnswer };

/**
 * A token that matched a cached key: which cache entry it matched, whether through the previous
 * secret, and when the entry was last seen current (the source's generation, and the time).
 */
interface VerifiedToken {
  readonly key: ApiKeyRecord;
  readonly facts: KeyFacts;
  readonly name: string;
  readonly viaPrevious: boolean;
  generation: number;
  checkedAtMs: number;
}

/**
 * How long a cache lookup seen current stays current while no invalidation reached the source (its
 * generation is unchanged): past this the entry is looked up again, so the source's own age bound and
 * evictions still apply, at most this much later.
 */
const RECHECK_MS = 1_000;

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
 * token and cache entry, not per verification; what a record implies (state, expiry, grants,
 * allowlist, project) is derived once per record; verdicts are memoized per owner, project and ask
 * and their answers (`answer`) with them. An invalidation drops the record from the source's cache,
 * which ends all of it for that key: the next verification goes the whole way again.
 */
export class KeyVerifier {
  private readonly order: Permission[];
  private readonly facts = new WeakMap<ApiKeyRecord, KeyFacts>();
  private readonly grantsByOwner = new WeakMap<OwnerState, Grant[]>();
  /** Grants by access profile (see `sharedGrants`); bounded, as the caller's keys are. */
  private readonly profiles = new LRUCache<string, Grant[]>({ max: 10_000 });
  private readonly verifiedTokens = new Map<string, VerifiedToken>();
  private readonly verifiedTokensMax: number;
  private readonly asks = new Map<string, Ask>();
  /** Verifications whose token was found in memory (no cache lookup, format check or HMAC). */
  rememberedHits = 0;
  /** Effective permissions, per key grants, owner grants and project: the same inputs give the same list. */
  private readonly permissionLists = new WeakMap<Grant[], WeakMap<Grant[] | typeof NO_OWNER, Map<string, Permission[]>>>();

  constructor(private readonly deps: KeyVerifierDeps & { readonly verifiedTokensMax?: number }) {
    this.order = allPermissions(deps.catalogue);
    this.verifiedTokensMax = deps.verifiedTokensMax ?? VERIFIED_TOKENS_MAX;
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
   * synchronously. A malformed ask throws here, synchronously.
   */
  check(request: VerifyRequest): KeyVerdict | Promise<KeyVerdict> {
    const ask = this.parseAsk(request);
    const nowMs = this.deps.clock.now().getTime();
    const known = this.knownToken(request.token, nowMs);
    if (known) {
      const { key } = known;
      if (request.orgId && key.orgId !== request.orgId) return NOT_FOUND;
      return this.checkedNow(key, known.facts, request, ask, nowMs) ?? this.verifyIdentified(key, request, ask, null);
    }
    // A malformed key (format or checksum) is refused here, with no I/O and no promise.
    const parsed = this.deps.keyFormat.parse(request.token);
    if (!parsed) return MALFORMED;
    return this.identifyThenVerify(request, ask, parsed);
  }

  private async identifyThenVerify(request: VerifyRequest, ask: Ask | null, parsed: ParsedToken): Promise<KeyVerdict> {
    const identified = await this.identify(request, parsed);
    if (!identified.valid) return identified;
    return this.verifyIdentified(identified.key, request, ask, null);
  }

  /**
   * The answer for a verdict (`verdictAnswer`), made once for a memoized verdict. For an access token,
   * `tokenExpiresAt` (its `exp`) is when the credential stops working, unless the key expires sooner.
   * Memoized answers are frozen: shared by every verification with the same key, owner, project and ask.
   */
  answer(verdict: KeyVerdict, tokenExpiresAt: Date | null = null): VerdictAnswer {
    if (tokenExpiresAt) return verdictAnswer(verdict, tokenExpiresAt);
    const parts = this.answerParts(verdict);
    if (parts) return { ...parts.base, ...meteringFields(parts.metering) };
    return (verdict as Memoized)[ANSWER] ?? verdictAnswer(verdict);
  }

  /**
   * A metered VALID verdict's answer as two parts: the memoized (frozen, shared) answer of the verdict
   * it extends, and the metering that adds its last fields (`meteringFields`, `meteringJson`); null for
   * any other verdict. A writer that keeps the memoized answer's JSON writes this answer without
   * serializing it again.
   */
  answerParts(verdict: KeyVerdict): { readonly base: VerdictAnswer; readonly metering: MeterReading } | null {
    if (!verdict.valid || !verdict.metering || !verdict.unmetered) return null;
    const base = (verdict.unmetered as Memoized)[ANSWER];
    return base ? { base, metering: verdict.metering } : null;
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
   * The verdict from cached inputs alone, when the owner and the project it needs are cached; undefined
   * when something must be read first (`verifyIdentified` reads it).
   */
  private checkedNow(key: ApiKeyRecord, facts: KeyFacts, request: Omit<VerifyRequest, 'token'>, ask: Ask | null, nowMs: number): KeyVerdict | undefined {
    const refused = this.stateVerdict(key, facts, null, nowMs);
    if (refused) return refused;
    const projectId = this.requestedProject(request, ask, facts);
    const projectName = typeof projectId === 'string' ? projectId : '';
    const generation = this.deps.source.peekGeneration?.();
    if (generation === undefined) return undefined;
    const inputs = facts.inputs;
    if (inputs !== null && inputs.generation === generation && inputs.project === projectName && nowMs - inputs.checkedAtMs <= RECHECK_MS) {
      return this.decideFor(key, facts, request, ask, inputs.owner, projectId, inputs.projectState);
    }
    const { source } = this.deps;
    let owner: OwnerState | null = null;
    if (key.keyType === 'personal' && facts.ownerName) {
      const peeked = source.peekOwner?.(key.orgId, key.ownerUserId!, facts.ownerName);
      if (peeked === undefined) return undefined;
      owner = peeked;
    }
    let project: Project | null | undefined = null;
    if (projectName) {
      project = source.peekProject?.(key.orgId, projectName as ProjectId, projectName === facts.soleProject ? facts.soleProjectName! : undefined);
      if (project === undefined) return undefined;
    }
    facts.inputs = { generation, checkedAtMs: nowMs, owner, project: projectName, projectState: project };
    return this.decideFor(key, facts, request, ask, owner, projectId, project);
  }

  /** State, binding, owner, IP allowlist, then the permission: everything after the key is known. */
  private async verifyIdentified(
    key: ApiKeyRecord,
    request: Omit<VerifyRequest, 'token'>,
    ask: Ask | null,
    binding: ((key: ApiKeyRecord) => string | null) | null,
  ): Promise<KeyVerdict> {
    const facts = this.factsOf(key);
    const refused = this.stateVerdict(key, facts, binding, this.deps.clock.now().getTime());
    if (refused) return refused;
    const { source } = this.deps;
    let owner: OwnerState | null = null;
    if (key.keyType === 'personal' && key.ownerUserId) {
      owner = source.peekOwner?.(key.orgId, key.ownerUserId) ?? (await source.owner(key.orgId, key.ownerUserId));
    }
    const projectId = this.requestedProject(request, ask, facts);
    let project: Project | null = null;
    if (typeof projectId === 'string' && projectId) {
      const peeked = source.peekProject?.(key.orgId, projectId as ProjectId);
      project = peeked !== undefined ? peeked : await source.project(key.orgId, projectId as ProjectId);
    }
    return this.decideFor(key, facts, request, ask, owner, projectId, project);
  }

  /** Revoked, disabled, expired, or refused by the token's binding; null when none of these. */
  private stateVerdict(key: ApiKeyRecord, facts: KeyFacts, binding: ((key: ApiKeyRecord) => string | null) | null, nowMs: number): KeyVerdict | null {
    if (facts.status === 'revoked') return { valid: false, code: 'REVOKED', explanation: `revoked at ${key.revokedAt!.toISOString()}`, key };
    if (facts.status === 'disabled') return { valid: false, code: 'DISABLED', explanation: 'disabled: its owner left the organization', key };
    if (facts.expiresMs <= nowMs) return { valid: false, code: 'EXPIRED', explanation: `expired at ${key.expiresAt!.toISOString()}`, key };
    const unbound = binding?.(key);
    if (unbound) return { valid: false, code: 'EXPIRED', explanation: unbound, key };
    return null;
  }

  /**
   * The project the request is about: asked for, named by the resource, or the key's only one; null
   * for none; a verdict when the request contradicts itself or the key. Reads nothing.
   */
  private requestedProject(request: Omit<VerifyRequest, 'token'>, ask: Ask | null, facts: KeyFacts): string | null | KeyVerdict {
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
    if (projectId === null) return facts.soleProject;
    if (projectId !== facts.soleProject && !/^proj_[0-9A-Za-z]{1,64}$/.test(projectId)) {
      return { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `project ${projectId} is not in the key's organization` };
    }
    return projectId;
  }

  /** Owner, IP allowlist, project, then the permission (memoized), from inputs already read. */
  private decideFor(
    key: ApiKeyRecord,
    facts: KeyFacts,
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
    if (facts.allowlist && !facts.allowlist.allows(request.ip)) {
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

    const { grants } = facts;
    const tokenPermissions = request.tokenPermissions ?? null;
    const name = askName(ask);
    const owned = ownerGrants ?? NO_OWNER;
    const projectName = requested ?? '';
    if (!tokenPermissions) {
      const last = facts.last;
      if (last !== null && last.ask === name && last.project === projectName && last.ownerGrants === owned) return last.verdict;
      const known = facts.memo?.get(owned)?.get(projectName)?.get(name);
      if (known) {
        facts.last = { ownerGrants: owned, project: projectName, ask: name, verdict: known };
        return known;
      }
      // Asks are the caller's: bound what one key's memo holds.
      if (facts.memoSize >= MEMO_PER_KEY) {
        facts.memo = null;
        facts.last = null;
        facts.memoSize = 0;
      }
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
        const explanation = sharedExplanation(orgLevel ? `at organization scope, ${decision.explanation}` : decision.explanation);
        verdict = { valid: true, code: 'VALID', explanation, ...verified };
      } else if (orgLevel && reachesSomeProjects(grants, ownerGrants)) {
        verdict = {
          valid: false,
          code: 'PROJECT_REQUIRED',
          explanation: sharedExplanation(
            `not granted at organization scope (${decision.explanation}); the key's rights reach some projects or teams: name one (projectId / X-Project-Id)`,
          ),
          key,
        };
      } else {
        verdict = { valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: sharedExplanation(decision.explanation), key };
      }
    }
    if (!tokenPermissions) {
      // Not enumerable: a verdict spread into another one must not carry this answer along.
      Object.defineProperty(verdict, ANSWER, { value: Object.freeze(verdictAnswer(verdict)) });
      // Most keys are asked one thing: the maps are made only once a second thing is asked.
      const last = facts.last;
      if (last !== null) {
        facts.memo ??= new Map();
        memoPut(facts.memo, last.ownerGrants, last.project, last.ask, last.verdict);
        memoPut(facts.memo, owned, projectName, name, verdict);
      }
      facts.memoSize++;
      facts.last = { ownerGrants: owned, project: projectName, ask: name, verdict };
    }
    return verdict;
  }

  /**
   * The key a token belongs to when its format, checksum and secret are right (a rolled key's old
   * secret counts inside its overlap), whatever the key's state; null otherwise, after the same work.
   */
  async identifyKey(token: string): Promise<ApiKeyRecord | null> {
    const known = this.knownToken(token, this.deps.clock.now().getTime());
    if (known) return known.key;
    const identified = await this.identify({ token });
    return identified.valid ? identified.key : null;
  }

  /**
   * The cached key a token already matched, if that record is still the source's current one (an
   * invalidation drops it) and, for a rolled key's old secret, its overlap still runs. No format
   * check, checksum or HMAC: equal SHA-256 digests mean the same token.
   */
  private knownToken(token: string, nowMs: number): VerifiedToken | null {
    const { source } = this.deps;
    if (!source.peekKey || !source.peekGeneration || typeof token !== 'string') return null;
    const known = this.verifiedTokens.get(tokenFingerprint(token));
    if (!known) return null;
    const generation = source.peekGeneration();
    if (generation === undefined) return null;
    if (generation !== known.generation || nowMs - known.checkedAtMs > RECHECK_MS) {
      if (source.peekKey(known.name) !== known.key) return null;
      known.generation = generation;
      known.checkedAtMs = nowMs;
    }
    if (known.viaPrevious && !(known.key.previousSecretExpiresAt && known.key.previousSecretExpiresAt.getTime() > nowMs)) return null;
    this.rememberedHits++;
    return known;
  }

  private rememberToken(token: string, key: ApiKeyRecord, name: string, viaPrevious: boolean): void {
    const { source } = this.deps;
    if (!source.peekKey || !source.peekGeneration) return;
    const generation = source.peekGeneration();
    // Only a record the cache holds now can be checked later: an uncached read is not remembered.
    if (generation === undefined || source.peekKey(name) !== key) return;
    const tokens = this.verifiedTokens;
    if (tokens.size >= this.verifiedTokensMax) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = tokens.keys().next();
      if (!oldest.done) tokens.delete(oldest.value);
    }
    tokens.set(tokenFingerprint(token), { key, facts: this.factsOf(key), name, viaPrevious, generation, checkedAtMs: this.deps.clock.now().getTime() });
  }

  /** Format, lookup and secret. Anything that fails here is NOT_FOUND, whatever the reason. */
  private async identify(
    request: VerifyRequest,
    parsed: ParsedToken | null = this.deps.keyFormat.parse(request.token),
  ): Promise<{ valid: true; key: ApiKeyRecord } | Extract<KeyVerdict, { valid: false }>> {
    if (!parsed) return MALFORMED;
    const { peppers } = this.deps;
    let key: ApiKeyRecord | null;
    let presented: Buffer;
    let name: string;
    if (parsed.kind === 'lookup') {
      const { source } = this.deps;
      const peeked = source.peekKeyByLookupId?.(parsed.lookupId);
      key = peeked !== undefined ? peeked : await source.keyByLookupId(parsed.lookupId);
      presented = peppers.digest(parsed.secret, key && peppers.has(key.secret.pepperVersion) ? key.secret.pepperVersion : peppers.current.version);
      if (!key) {
        digestsEqual(presented, DUMMY_DIGEST);
        return NOT_FOUND;
      }
      name = keyCacheName.lookup(parsed.lookupId);
    } else {
      key = null;
      presented = DUMMY_DIGEST;
      name = '';
      for (const version of peppers.versions) {
        presented = peppers.digest(parsed.secret, version);
        const hex = presented.toString('hex');
        key = await this.deps.source.keyByDigest(hex);
        if (key) {
          name = keyCacheName.digest(hex);
          break;
        }
      }
      if (!key) return NOT_FOUND;
    }
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

  private secretMatches(key: ApiKeyRecord, secret: string, presented: Buffer): 'current' | 'previous' | null {
    const { peppers } = this.deps;
    // Made per call: this runs once per token and cache entry (a remembered token skips it).
    if (digestsEqual(presented, Buffer.from(key.secret.digest, 'hex'))) return 'current';
    const previous = key.previousSecret;
    if (!previous || !key.previousSecretExpiresAt || key.previousSecretExpiresAt.getTime() <= this.deps.clock.now().getTime()) {
      return null;
    }
    if (!peppers.has(previous.pepperVersion)) return null;
    const digest = previous.pepperVersion === key.secret.pepperVersion ? presented : peppers.digest(secret, previous.pepperVersion);
    return digestsEqual(digest, Buffer.from(previous.digest, 'hex')) ? 'previous' : null;
  }

  private factsOf(key: ApiKeyRecord): KeyFacts {
    let facts = this.facts.get(key);
    if (facts) return facts;
    const soleProject = soleProjectOf(key);
    facts = {
      status: key.revokedAt ? 'revoked' : key.disabledAt ? 'disabled' : null,
      expiresMs: key.expiresAt ? key.expiresAt.getTime() : Infinity,
      grants: this.sharedGrants(key),
      allowlist: key.allowedCidrs.length > 0 ? new IpAllowlist(key.allowedCidrs) : null,
      soleProject,
      soleProjectName: soleProject ? projectCacheName(key.orgId, soleProject) : null,
      ownerName: key.ownerUserId ? ownerCacheName(key.orgId, key.ownerUserId) : null,
      memo: null,
      memoSize: 0,
      last: null,
      inputs: null,
    };
    this.facts.set(key, facts);
    return facts;
  }

  /**
   * A key's grants, shared by every key with the same access (type, project, bindings, mode,
   * permissions and scopes): the memoized permission lists follow the grants, so they are shared too.
   */
  private sharedGrants(key: ApiKeyRecord): Grant[] {
    const profile = JSON.stringify([key.keyType, key.projectId, key.bindings, key.permissionMode, key.permissions, key.scopes]);
    let grants = this.profiles.get(profile);
    if (!grants) this.profiles.set(profile, (grants = keyGrants(this.deps.catalogue, key)));
    return grants;
  }

  private ownerGrants(orgId: OrgId, owner: OwnerState): Grant[] {
    let grants = this.grantsByOwner.get(owner);
    if (!grants) this.grantsByOwner.set(owner, (grants = userGrants(this.deps.catalogue, orgId, owner.membership, owner.bindings)));
    return grants;
  }
}

function memoPut(memo: Map<Grant[], Map<string, Map<string, KeyVerdict>>>, owner: Grant[], project: string, ask: string, verdict: KeyVerdict): void {
  let byProject = memo.get(owner);
  if (!byProject) memo.set(owner, (byProject = new Map()));
  let byAsk = byProject.get(project);
  if (!byAsk) byProject.set(project, (byAsk = new Map()));
  byAsk.set(ask, verdict);
}

const NOT_FOUND = Object.freeze({ valid: false, code: 'NOT_FOUND', explanation: 'no such key' } as const);
const MALFORMED = Object.freeze({ valid: false, code: 'NOT_FOUND', explanation: 'not a well-formed key (format or checksum)' } as const);

/** The name a verified token is remembered by: its SHA-256, so no token is ever kept. */
function tokenFingerprint(token: string): string {
  return hash('sha256', token, 'base64');
}
