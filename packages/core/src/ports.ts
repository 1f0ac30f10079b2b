import type { AuditEntry } from './audit/audit-entry.js';
import type { UserRoleBinding } from './bindings/role-binding.js';
import type { ApiKeyRecord, KeyStatus, KeyType, SecretDigest } from './keys/api-key.js';
import type { ExpiryStage } from './keys/expiry-reminders.js';
import type { Invitation, Membership, MemberView, MembershipStatus } from './members/membership.js';
import type { Organization, SigningAlgorithm } from './orgs/organization.js';
import type { OrgRole } from './permissions/roles.js';
import type { OrganizationPolicy } from './policy/organization-policy.js';
import type { Project } from './projects/project.js';
import type { SigningKeyRecord, SigningKeyState } from './signing-keys/signing-key.js';
import type { Team } from './teams/team.js';
import type { KeyUsageTotal, UsageBucket, UsageIncrement, UsageInterval } from './usage/usage.js';
import type { PasswordReset, Session, User } from './users/user.js';
import type { VerifierRecord } from './verifiers/verifier.js';
import type {
  ClaimedWebhookDelivery,
  WebhookAttempt,
  WebhookDeliveryId,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookEndpointPatch,
  WebhookEndpointRecord,
  WebhookEventRecord,
  WebhookId,
  SubscribedWebhookEndpoint,
} from './webhooks/webhook.js';
import type { KeyId, OrgId, ProjectId, RoleBindingId, SessionId, SigningKeyId, TeamId, UserId, VerifierId } from './ids.js';

export type { IdGenerator } from './ids.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Cursor pagination. Cursors are opaque strings made by the store. */
export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | null | undefined;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface OrgRepository {
  insert(org: Organization): Promise<void>;
  findById(orgId: OrgId): Promise<Organization | null>;
  /** The organizations where the user has an active membership, oldest first, with the role. */
  listForUser(userId: UserId): Promise<{ org: Organization; role: OrgRole }[]>;
  /** Sets `bootstrappedAt` when it is unset; true only for the call that set it (serializes bootstrap). */
  markBootstrapped(orgId: OrgId, at: Date): Promise<boolean>;
  update(orgId: OrgId, patch: { name?: string; signingAlgorithm?: SigningAlgorithm; accessTokenTtlSeconds?: number }): Promise<void>;
  count(): Promise<number>;
}

/** Organization key policies: one per organization that set one. */
export interface PolicyRepository {
  /** The organization's policy, or null when it never set one (the defaults apply). */
  find(orgId: OrgId): Promise<OrganizationPolicy | null>;
  /** Replaces the organization's policy. */
  save(orgId: OrgId, policy: OrganizationPolicy, at: Date): Promise<void>;
}

export interface UserRepository {
  insert(user: User): Promise<void>;
  findById(userId: UserId): Promise<User | null>;
  /** `email` is matched lowercased. */
  findByEmail(email: string): Promise<User | null>;
  update(userId: UserId, patch: { passwordHash?: string; name?: string | null; disabledAt?: Date | null }): Promise<void>;
  /** Sets the password hash only while it is still `expectedHash`; true when this call set it. */
  replacePasswordHash(userId: UserId, expectedHash: string, passwordHash: string): Promise<boolean>;
}

export interface SessionRepository {
  insert(session: Session): Promise<void>;
  /** Establishes the principal: finds a session by the digest of its token. */
  findByDigest(tokenDigest: string): Promise<Session | null>;
  revoke(sessionId: SessionId, at: Date): Promise<void>;
  /**
   * Revokes, at `at`, every session of the user that is neither revoked nor expired then, except
   * `exceptSessionId`; returns how many it ended.
   */
  revokeAllForUser(userId: UserId, at: Date, exceptSessionId?: SessionId): Promise<number>;
}

/** One-time password reset tokens, kept as the digest of the token (never the token itself). */
export interface PasswordResetRepository {
  insert(reset: PasswordReset): Promise<void>;
  /** Establishes the principal: finds a reset by the digest of its token. */
  findByDigest(tokenDigest: string): Promise<PasswordReset | null>;
  /** Marks the reset used at `at` when it is neither used nor expired then; true only for the call that did. */
  markUsed(tokenDigest: string, at: Date): Promise<boolean>;
  /** Marks every unused reset of the user used at `at`, so that none works any more; returns how many. */
  voidForUser(userId: UserId, at: Date): Promise<number>;
}

export interface MemberRepository {
  insert(membership: Membership): Promise<void>;
  find(orgId: OrgId, userId: UserId): Promise<Membership | null>;
  /**
   * The same as `find`, but in PostgreSQL it takes a row lock (`FOR UPDATE`) so that a role check and
   * the write that depends on it cannot interleave with a concurrent demotion or removal (R19). SQLite
   * write transactions are exclusive already.
   */
  findForUpdate(orgId: OrgId, userId: UserId): Promise<Membership | null>;
  findView(orgId: OrgId, userId: UserId): Promise<MemberView | null>;
  /** Oldest first. */
  list(orgId: OrgId, page: PageRequest): Promise<Page<MemberView>>;
  update(orgId: OrgId, userId: UserId, patch: { role?: OrgRole; status?: MembershipStatus }): Promise<void>;
  delete(orgId: OrgId, userId: UserId): Promise<void>;
  countActiveOwners(orgId: OrgId): Promise<number>;
  /**
   * Serializes changes to one organization's memberships until the transaction ends: in PostgreSQL a
   * row lock on the organization (`FOR NO KEY UPDATE`, which inserts referencing it do not wait for);
   * SQLite write transactions are exclusive already. Taken before counting owners, so that two
   * concurrent demotions cannot both count the other as still an owner.
   */
  lockMemberships(orgId: OrgId): Promise<void>;
}

export interface InvitationRepository {
  insert(invitation: Invitation): Promise<void>;
  /** Establishes the tenant: finds an invitation by the digest of its token, in any organization. */
  findByDigest(tokenDigest: string): Promise<Invitation | null>;
  /** Marks it accepted if it was not; true only for the call that did. */
  markAccepted(invitationId: Invitation['id'], at: Date): Promise<boolean>;
  /**
   * Spends one password attempt on an unaccepted invitation that has fewer than `limit` spent, in one
   * statement, so that concurrent calls never spend more than `limit`. The new count, or null when
   * none was left (or the invitation is gone or accepted).
   */
  spendPasswordAttempt(invitationId: Invitation['id'], limit: number): Promise<number | null>;
  deleteForUser(orgId: OrgId, userId: UserId): Promise<void>;
}

export interface TeamRepository {
  insert(team: Team): Promise<void>;
  findById(orgId: OrgId, teamId: TeamId): Promise<Team | null>;
  /** Oldest first. */
  list(orgId: OrgId, page: PageRequest): Promise<Page<Team>>;
  update(orgId: OrgId, teamId: TeamId, patch: { name: string }): Promise<void>;
}

export interface ProjectRepository {
  insert(project: Project): Promise<void>;
  findById(orgId: OrgId, projectId: ProjectId): Promise<Project | null>;
  /** Oldest first; archived projects only when asked for. */
  list(orgId: OrgId, filter: { includeArchived: boolean; teamId?: TeamId | undefined }, page: PageRequest): Promise<Page<Project>>;
  update(orgId: OrgId, projectId: ProjectId, patch: { name?: string; teamId?: TeamId | null; archivedAt?: Date | null }): Promise<void>;
}

export interface RoleBindingRepository {
  insert(binding: UserRoleBinding): Promise<void>;
  findById(orgId: OrgId, bindingId: RoleBindingId): Promise<UserRoleBinding | null>;
  /** Oldest first. */
  list(orgId: OrgId, filter: { userId?: UserId | undefined }, page: PageRequest): Promise<Page<UserRoleBinding>>;
  /** Every binding of one user in one organization (for rights), oldest first. */
  listForUser(orgId: OrgId, userId: UserId): Promise<UserRoleBinding[]>;
  delete(orgId: OrgId, bindingId: RoleBindingId): Promise<void>;
  deleteForUser(orgId: OrgId, userId: UserId): Promise<void>;
}

/** The fields the key list sorts by; each list is also ordered by id, in the same direction. */
export type KeyListSortField = 'createdAt' | 'lastUsedAt' | 'expiresAt' | 'name';

export interface KeyListSort {
  readonly field: KeyListSortField;
  /** Keys never used (`lastUsedAt`) and keys without expiry (`expiresAt`) come last in both directions. */
  readonly direction: 'asc' | 'desc';
}

export interface KeyListFilter {
  readonly status: KeyStatus | 'all';
  /** The name contains it (case-insensitive), or it is the key's id, or the last four characters of its token. */
  readonly q?: string | undefined;
  /** A pasted token: only the key whose current or previous secret has one of these digests (one per pepper version). */
  readonly secretDigests?: readonly string[] | undefined;
  /** Only the keys this user owns. */
  readonly ownerUserId?: UserId | undefined;
  /** Default: newest first (`createdAt`, descending). */
  readonly sort?: KeyListSort | undefined;
  readonly keyType?: KeyType | undefined;
  /** Only the project keys of this project. */
  readonly projectId?: ProjectId | undefined;
  /** When set, only keys this user owns or created, and service keys (what a MEMBER or VIEWER sees). */
  readonly visibleToUserId?: UserId | undefined;
  /** The instant that decides `expired` against `active`. */
  readonly now: Date;
}

export type KeyPatch = Partial<
  Pick<
    ApiKeyRecord,
    'name' | 'description' | 'expiresAt' | 'bindings' | 'permissionMode' | 'permissions' | 'scopes' | 'allowedCidrs' | 'rateLimits' | 'credits'
  >
> & { readonly updatedAt: Date };

/** A key's credits after an administrator's change: the new amount, version and refill period. */
export interface CreditsWrite {
  readonly remaining: number;
  readonly version: number;
  readonly period: number;
}

/** Credits spent by verifications, written with a usage flush (see `KeyRepository.spendCredits`). */
export interface CreditSpend {
  readonly keyId: KeyId;
  /** The credits' version and refill period the spending happened under. */
  readonly version: number;
  readonly period: number;
  readonly amount: number;
}

/** An active key that names permissions itself (restricted mode, or CUSTOM bindings), in any organization. */
export interface KeyNamingPermissions {
  readonly id: KeyId;
  readonly orgId: OrgId;
  readonly name: string;
  readonly permissions: readonly string[];
}

export interface KeyRepository {
  insert(key: ApiKeyRecord): Promise<void>;
  /**
   * Active keys (not revoked, disabled or expired at `now`) that name permissions themselves, in id
   * order after `afterId`, at most `limit`: what a catalogue change could leave naming the unknown.
   */
  scanNamingPermissions(now: Date, afterId: string | null, limit: number): Promise<KeyNamingPermissions[]>;
  findById(orgId: OrgId, keyId: KeyId): Promise<ApiKeyRecord | null>;
  /** `findById`, locking the row until the transaction ends (PostgreSQL; SQLite's transactions are exclusive). */
  findByIdForUpdate(orgId: OrgId, keyId: KeyId): Promise<ApiKeyRecord | null>;
  /** The version of the key's credits, kept when they were made unlimited (0 if they never existed). */
  creditsVersion(orgId: OrgId, keyId: KeyId): Promise<number>;
  /** Sets a key's credits after an administrator's change (`remaining`, `version`, refill `period`). */
  setCredits(orgId: OrgId, keyId: KeyId, credits: CreditsWrite, at: Date): Promise<void>;
  /**
   * Subtracts spent credits (never below zero), each only where the key's credits still have the
   * version it was spent under: spending from before an administrator's change is already in the
   * amount they set. Spending in a newer refill period first refills. Does not change `updatedAt`.
   */
  spendCredits(spends: readonly CreditSpend[]): Promise<void>;
  /** Establishes the tenant: finds a presented key by its public lookup id, in any organization. */
  findForVerificationByLookupId(lookupId: string): Promise<ApiKeyRecord | null>;
  /**
   * As `findForVerificationByLookupId`, answered synchronously where the store can (a SQLite file's
   * read-only connection); undefined when it cannot now, for the caller to use the promise.
   */
  findForVerificationByLookupIdNow?(lookupId: string): ApiKeyRecord | null | undefined;
  /** Establishes the tenant: finds a presented project key by its secret's digest, current or previous. */
  findForVerificationByDigest(digest: string): Promise<ApiKeyRecord | null>;
  /** In `filter.sort` order (default newest first), then by id; cursors belong to one order. */
  list(orgId: OrgId, filter: KeyListFilter, page: PageRequest): Promise<Page<ApiKeyRecord>>;
  update(orgId: OrgId, keyId: KeyId, patch: KeyPatch): Promise<void>;
  setSecret(
    orgId: OrgId,
    keyId: KeyId,
    change: {
      secret: SecretDigest;
      previousSecret: SecretDigest | null;
      previousSecretExpiresAt: Date | null;
      preview: string;
      updatedAt: Date;
    },
  ): Promise<void>;
  /** Revokes if not yet revoked; true only for the call that did. */
  setRevoked(orgId: OrgId, keyId: KeyId, at: Date, reason: string): Promise<boolean>;
  /** Disables the user's personal keys that are neither revoked nor disabled; returns their ids. */
  disablePersonalKeysOf(orgId: OrgId, userId: UserId, at: Date): Promise<KeyId[]>;
  /** Raises `lastUsedAt` to `at` where it is older, in one statement per batch. */
  touchLastUsed(entries: readonly { keyId: KeyId; at: Date }[]): Promise<void>;
  countActiveForOwner(orgId: OrgId, ownerUserId: UserId, now: Date): Promise<number>;
}

export interface AuditFilter {
  readonly actorId?: string | undefined;
  readonly action?: string | undefined;
  readonly targetId?: string | undefined;
}

export interface AuditRepository {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first. Entries are never updated or deleted. */
  list(orgId: OrgId, filter: AuditFilter, page: PageRequest): Promise<Page<AuditEntry>>;
}

export interface VerifierRepository {
  insert(verifier: VerifierRecord): Promise<void>;
  /** Establishes the principal: finds a verifier credential by its id. */
  findForVerification(verifierId: VerifierId): Promise<VerifierRecord | null>;
  /** Every verifier credential, revoked ones included, oldest first. */
  list(): Promise<VerifierRecord[]>;
  /** Marks it revoked; false when it already was (or does not exist). */
  setRevoked(verifierId: VerifierId, at: Date): Promise<boolean>;
  /** A new secret; the current one becomes the previous one until `previousExpiresAt` (or at once, when null). */
  setSecret(
    verifierId: VerifierId,
    secret: { digest: string; pepperVersion: number; preview: string; previousDigest: string | null; previousPepperVersion: number | null; previousExpiresAt: Date | null },
  ): Promise<void>;
  touchLastUsed(verifierId: VerifierId, at: Date): Promise<void>;
}

export interface SigningKeyRepository {
  insert(key: SigningKeyRecord): Promise<void>;
  /** Every signing key of the organization, newest first. */
  listForOrg(orgId: OrgId): Promise<SigningKeyRecord[]>;
  findById(orgId: OrgId, signingKeyId: SigningKeyId): Promise<SigningKeyRecord | null>;
  update(
    orgId: OrgId,
    signingKeyId: SigningKeyId,
    patch: {
      state?: SigningKeyState;
      activatedAt?: Date | null;
      deactivatedAt?: Date | null;
      retiredAt?: Date | null;
      compromisedAt?: Date | null;
    },
  ): Promise<void>;
}

/** What one usage flush writes: counts per key and minute, and the due `lastUsedAt`s. */
export interface UsageBatch {
  readonly increments: readonly UsageIncrement[];
  readonly touches: readonly { readonly keyId: KeyId; readonly at: Date }[];
  /** Credits spent since the last flush; written in the batch's first transaction. */
  readonly spends: readonly CreditSpend[];
}

/**
 * Writes usage flushes. `written` is called after each commit with how many more increments and
 * touches (each in batch order) are now durable; when `write` rejects, the rest was not written.
 */
export interface UsageWriter {
  write(batch: UsageBatch, written: (increments: number, touches: number, spends: number) => void): Promise<void>;
  /** Releases what the writer holds (a worker thread); later writes may start it again. */
  close(): Promise<void>;
}

export interface UsageRepository {
  /** Adds the counts (upsert-add), all in one statement or transaction. */
  add(increments: readonly UsageIncrement[]): Promise<void>;
  /** Buckets with any count in [from, to), oldest first. `keyId` null means the whole organization. */
  buckets(orgId: OrgId, keyId: KeyId | null, from: Date, to: Date, interval: UsageInterval): Promise<UsageBucket[]>;
  topKeys(orgId: OrgId, from: Date, to: Date, limit: number): Promise<KeyUsageTotal[]>;
}

export interface MetaRepository {
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
  /** Inserts only when absent; true when this call inserted. */
  setIfAbsent(name: string, value: string): Promise<boolean>;
  delete(name: string): Promise<boolean>;
}

export interface RevokedTokenRepository {
  insert(entry: { jti: string; orgId: OrgId; keyId: KeyId; expiresAt: Date }): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  purgeExpired(now: Date): Promise<number>;
}

/** Webhook endpoints, the outbox of events and their deliveries (issue 15). */
export interface WebhookRepository {
  insertEndpoint(endpoint: WebhookEndpointRecord): Promise<void>;
  findEndpoint(orgId: OrgId, webhookId: WebhookId): Promise<WebhookEndpointRecord | null>;
  /** Oldest first. */
  listEndpoints(orgId: OrgId, page: PageRequest): Promise<Page<WebhookEndpointRecord>>;
  countEndpoints(orgId: OrgId): Promise<number>;
  /** Enabled endpoints subscribed to the event type (or to `*`), oldest first: their ids and creation times only. */
  listSubscribed(orgId: OrgId, eventType: string): Promise<SubscribedWebhookEndpoint[]>;
  updateEndpoint(orgId: OrgId, webhookId: WebhookId, patch: WebhookEndpointPatch): Promise<void>;
  /** Deletes the endpoint and its deliveries; false when there was none. */
  deleteEndpoint(orgId: OrgId, webhookId: WebhookId): Promise<boolean>;
  /** Writes an event: to the outbox when its deliveries are still to be written (`fanOutPending`), kept lean since changes write it. */
  insertEvent(event: WebhookEventRecord): Promise<void>;
  /** Whether any event still waits for its deliveries to be written (a read, to poll cheaply). */
  hasEventsToFanOut(): Promise<boolean>;
  /**
   * Inside a transaction: up to `limit` events still waiting for their deliveries, in the order they
   * were written, moved out of the outbox by this transaction (so its caller writes their deliveries in it). On
   * PostgreSQL events locked by another transaction are skipped (`FOR UPDATE SKIP LOCKED`), so that
   * with several instances each event is fanned out by exactly one of them.
   */
  takeEventsToFanOut(limit: number): Promise<WebhookEventRecord[]>;
  insertDelivery(delivery: Omit<WebhookDeliveryRecord, 'attempts'>): Promise<void>;
  /** Several deliveries in one statement (an event's, one per subscribed endpoint). */
  insertDeliveries(deliveries: readonly Omit<WebhookDeliveryRecord, 'attempts'>[]): Promise<void>;
  /** Newest first, each with its attempts. */
  listDeliveries(orgId: OrgId, webhookId: WebhookId, page: PageRequest): Promise<Page<WebhookDeliveryRecord>>;
  findDelivery(orgId: OrgId, webhookId: WebhookId, deliveryId: WebhookDeliveryId): Promise<WebhookDeliveryRecord | null>;
  /** Makes the delivery due at `at` for one more attempt (a manual retry), ending any lease on it. */
  requeueDelivery(orgId: OrgId, deliveryId: WebhookDeliveryId, at: Date): Promise<void>;
  /** Whether any delivery of an enabled endpoint is due at `now` (a read, to poll cheaply). */
  hasDue(now: Date): Promise<boolean>;
  /**
   * Leases up to `limit` due deliveries of enabled endpoints until `leaseUntil` under `leaseToken`, in
   * one statement: on PostgreSQL rows locked by another claimer are skipped (`FOR UPDATE SKIP LOCKED`),
   * so that with several instances each attempt is claimed by exactly one of them.
   */
  claimDue(now: Date, limit: number, leaseUntil: Date, leaseToken: string): Promise<ClaimedWebhookDelivery[]>;
  /**
   * Records an attempt and the delivery's next state, only while the lease is still `leaseToken`;
   * false when the lease was lost (the attempt is then not recorded).
   */
  finishAttempt(
    deliveryId: WebhookDeliveryId,
    leaseToken: string,
    attempt: WebhookAttempt,
    next: { status: WebhookDeliveryStatus; nextAttemptAt: Date | null; retriesLeft: number | null },
  ): Promise<boolean>;
  /**
   * Deletes up to `limit` finished (succeeded or failed) deliveries created before `before`, with
   * their attempts, then the events left without a delivery; returns how many deliveries went.
   */
  pruneFinished(before: Date, limit: number): Promise<number>;
}

/** Which expiry reminders were sent (issue 15), claimed one at a time so that each is sent once. */
export interface ExpiryNoticeRepository {
  /**
   * Keys that are neither revoked nor disabled, whose `expiresAt` lies in (`after`, `until`] and that
   * have no notice of `stage` for that `expiresAt`; soonest expiry first, at most `limit`.
   */
  due(stage: ExpiryStage, after: Date, until: Date, limit: number): Promise<ApiKeyRecord[]>;
  /** Records the notice; false when it was already recorded (by this or another instance). */
  claim(notice: { keyId: KeyId; orgId: OrgId; stage: ExpiryStage; expiresAt: Date; sentAt: Date }): Promise<boolean>;
}

/** Named leases: one holder at a time runs a periodic job, while its lease lasts. */
export interface LeaseRepository {
  /** Takes the lease, or extends it, until `until`; false when another holder's lease lasts past `now`. */
  acquire(name: string, holder: string, now: Date, until: Date): Promise<boolean>;
  /** Gives the lease up, if `holder` has it. */
  release(name: string, holder: string): Promise<void>;
}

export interface Repositories {
  readonly orgs: OrgRepository;
  readonly policies: PolicyRepository;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly passwordResets: PasswordResetRepository;
  readonly members: MemberRepository;
  readonly invitations: InvitationRepository;
  readonly teams: TeamRepository;
  readonly projects: ProjectRepository;
  readonly bindings: RoleBindingRepository;
  readonly keys: KeyRepository;
  readonly audit: AuditRepository;
  readonly verifiers: VerifierRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly usage: UsageRepository;
  readonly meta: MetaRepository;
  readonly revokedTokens: RevokedTokenRepository;
  readonly invalidations: InvalidationLog;
  readonly webhooks: WebhookRepository;
  readonly expiryNotices: ExpiryNoticeRepository;
  readonly leases: LeaseRepository;
}

/** One entry of the invalidation log: what changed, in commit-sequence order. */
export interface InvalidationEntry {
  readonly seq: number;
  readonly event: Invalidation;
  readonly at: Date;
  /** The store (process) that wrote it: its own changes already reached its caches. */
  readonly origin: string;
}

/**
 * The invalidation log (issue 11): every change that some verdict cache may hold is appended in the
 * same transaction as the change, so every instance sharing the store learns of it from the store
 * itself, whatever message is lost. `seq` increases with each append; on PostgreSQL two appends may
 * commit out of `seq` order, so a reader tolerates gaps that fill in later (`InvalidationFollower`).
 */
export interface InvalidationLog {
  /** This store's writer id, stamped on what it appends (each open store has its own). */
  readonly origin: string;
  /** Appends an entry (and, on PostgreSQL, wakes listening instances once the transaction commits). */
  append(event: Invalidation, at: Date): Promise<void>;
  /** Entries with `seq` above `after`, oldest first, at most `limit`. */
  after(seq: number, limit: number): Promise<InvalidationEntry[]>;
  /** The highest `seq` written so far (0 for an empty log). */
  latestSeq(): Promise<number>;
  /** Deletes entries older than `before`; returns how many. */
  prune(before: Date): Promise<number>;
}

/**
 * The store: the repositories outside a transaction (each call its own statement), and `transaction`,
 * which runs `fn` with repositories bound to one transaction, committed when `fn` resolves and rolled
 * back when it throws. A change and its audit entry are always written through the same `tx`.
 */
export interface Store extends Repositories {
  readonly dialect: 'sqlite' | 'postgres';
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /**
   * Calls `onWake` soon after another connection commits a change that may concern caches
   * (PostgreSQL: LISTEN/NOTIFY on a dedicated connection; SQLite: `PRAGMA data_version`). Only a
   * hint that lowers latency: a wake-up may be lost (a dropped connection), so readers also poll.
   */
  watchChanges(onWake: () => void): { close(): Promise<void> };
  close(): Promise<void>;
}

/** What a cached verdict input depends on; publishing one drops every cache entry it touched. */
export type Invalidation =
  | { readonly type: 'all' }
  | { readonly type: 'key'; readonly orgId: OrgId; readonly keyId: KeyId }
  | { readonly type: 'member'; readonly orgId: OrgId; readonly userId: UserId }
  | { readonly type: 'org'; readonly orgId: OrgId }
  /** A verifier credential was revoked or rolled: servers drop what they cached of it, and its streams. */
  | { readonly type: 'verifier'; readonly verifierId: VerifierId };

/**
 * Carries invalidations to every cache: in process by default, over Redis pub/sub with several
 * instances. `publish` resolves once local caches have dropped the entries, so a change's response is
 * never sent while this instance could still serve the old state.
 */
export interface CacheBus {
  /**
   * False while invalidations from other instances may be missed (Redis unreachable): caches must
   * then not be trusted, and verification reads the store. Absent means always healthy.
   */
  readonly healthy?: boolean;
  publish(event: Invalidation): Promise<void>;
  subscribe(listener: (event: Invalidation) => void): () => void;
  close(): Promise<void>;
}

/** Counts events per key (e.g. failed authentications per client IP) in a fixed window. */
export interface RateLimiter {
  /** Whether the key is currently over the limit, and for how long. Does not count. */
  check(key: string): Promise<{ limited: boolean; retryAfterSeconds: number }>;
  /** Counts one event. */
  hit(key: string): Promise<void>;
}
