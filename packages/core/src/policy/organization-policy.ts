import { DomainError } from '../errors.js';
import type { ApiKeyRecord, KeyType } from '../keys/api-key.js';

/**
 * An organization's rules for its keys (CONTRACT.md "Organization policy"). Lifetimes are whole days;
 * null means no rule. A policy governs keys created, edited and rolled from the moment it is set; it
 * changes no existing key, whose breaches show as `policyViolations`.
 */
export interface OrganizationPolicy {
  readonly maxKeyLifetimeDays: number | null;
  readonly defaultKeyLifetimeDays: number | null;
  readonly requireExpiry: boolean;
  readonly requireAllowedCidrsForServiceKeys: boolean;
  readonly personalKeysAllowed: boolean;
}

export type PolicyField = keyof OrganizationPolicy;

/** What an organization that never set a policy has: no rule at all. */
export const defaultOrganizationPolicy: OrganizationPolicy = {
  maxKeyLifetimeDays: null,
  defaultKeyLifetimeDays: null,
  requireExpiry: false,
  requireAllowedCidrsForServiceKeys: false,
  personalKeysAllowed: true,
};

/** The longest lifetime a policy may name: ten years. */
export const MAX_POLICY_LIFETIME_DAYS = 3650;

const DAY_MS = 86_400_000;

/** One broken rule: the request field it concerns and what to do about it. */
export interface PolicyReason {
  readonly path: string;
  readonly message: string;
}

/** 422 `policy_violation` with `reasons`, like `validation_failed`. */
export class PolicyViolationError extends DomainError {
  constructor(readonly reasons: readonly PolicyReason[]) {
    super('policy_violation', "The key breaks the organization's key policy.", { reasons: reasons.map((r) => ({ ...r })) });
  }
}

export interface PolicyWarning {
  readonly code: 'expiry_set_by_policy';
  readonly message: string;
}

/** The latest expiry the policy allows for a key given its lifetime from `now`; null without a maximum. */
export function latestAllowedExpiry(policy: OrganizationPolicy, now: Date): Date | null {
  return policy.maxKeyLifetimeDays === null ? null : new Date(now.getTime() + policy.maxKeyLifetimeDays * DAY_MS);
}

const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

/**
 * The expiry rules for a key that would expire at `expiresAt` (null: never), from `now`. A maximum
 * lifetime is also a requirement to expire: a key that never expires outlives any maximum.
 */
function expiryReasons(policy: OrganizationPolicy, expiresAt: Date | null, now: Date): PolicyReason[] {
  const latest = latestAllowedExpiry(policy, now);
  if (expiresAt === null) {
    if (latest) {
      return [{ path: 'expiresAt', message: `Keys in this organization must expire within ${days(policy.maxKeyLifetimeDays!)}: give an expiresAt on or before ${latest.toISOString()}.` }];
    }
    if (policy.requireExpiry) return [{ path: 'expiresAt', message: 'Keys in this organization must have an expiry: give an expiresAt.' }];
    return [];
  }
  if (latest && expiresAt.getTime() > latest.getTime()) {
    return [{ path: 'expiresAt', message: `Keys in this organization may live at most ${days(policy.maxKeyLifetimeDays!)}: expiresAt must be on or before ${latest.toISOString()}.` }];
  }
  return [];
}

function allowedCidrsReasons(policy: OrganizationPolicy, keyType: KeyType, allowedCidrs: readonly string[]): PolicyReason[] {
  if (keyType === 'service' && policy.requireAllowedCidrsForServiceKeys && allowedCidrs.length === 0) {
    return [{ path: 'allowedCidrs', message: 'Service keys in this organization need an IP allowlist: give allowedCidrs.' }];
  }
  return [];
}

function keyTypeReasons(policy: OrganizationPolicy, keyType: KeyType): PolicyReason[] {
  if (keyType === 'personal' && !policy.personalKeysAllowed) {
    return [{ path: 'keyType', message: 'This organization does not allow personal keys; ask an admin for a service key.' }];
  }
  return [];
}

function refuse(reasons: PolicyReason[]): void {
  if (reasons.length > 0) throw new PolicyViolationError(reasons);
}

/**
 * Checks a key about to be created and settles its expiry: a key asked without one gets now +
 * `defaultKeyLifetimeDays` when the policy has a default (with the warning `expiry_set_by_policy`).
 * Every broken rule is reported at once.
 */
export function applyPolicyToNewKey(
  policy: OrganizationPolicy,
  key: { keyType: KeyType; expiresAt: Date | null; allowedCidrs: readonly string[] },
  now: Date,
): { expiresAt: Date | null; warnings: PolicyWarning[] } {
  let expiresAt = key.expiresAt;
  const warnings: PolicyWarning[] = [];
  if (expiresAt === null && policy.defaultKeyLifetimeDays !== null) {
    expiresAt = new Date(now.getTime() + policy.defaultKeyLifetimeDays * DAY_MS);
    warnings.push({
      code: 'expiry_set_by_policy',
      message: `The organization's policy gives keys created without an expiry ${days(policy.defaultKeyLifetimeDays)}: this key expires at ${expiresAt.toISOString()}.`,
    });
  }
  refuse([...keyTypeReasons(policy, key.keyType), ...expiryReasons(policy, expiresAt, now), ...allowedCidrsReasons(policy, key.keyType, key.allowedCidrs)]);
  return { expiresAt, warnings };
}

/** Checks the fields an edit changes: a new `expiresAt`, new `allowedCidrs`. Other fields are not the policy's. */
export function assertEditWithinPolicy(
  policy: OrganizationPolicy,
  key: Pick<ApiKeyRecord, 'keyType'>,
  change: { expiresAt?: Date | null | undefined; allowedCidrs?: readonly string[] | undefined },
  now: Date,
): void {
  refuse([
    ...(change.expiresAt !== undefined ? expiryReasons(policy, change.expiresAt, now) : []),
    ...(change.allowedCidrs !== undefined ? allowedCidrsReasons(policy, key.keyType, change.allowedCidrs) : []),
  ]);
}

/**
 * A roll keeps `expiresAt`, so a key whose expiry the policy would refuse today cannot be given a
 * new secret: shorten its expiry with an edit first, or create a new key.
 */
export function assertRollWithinPolicy(policy: OrganizationPolicy, key: Pick<ApiKeyRecord, 'expiresAt'>, now: Date): void {
  const reasons = expiryReasons(policy, key.expiresAt, now);
  refuse(
    reasons.map((r) => ({
      path: r.path,
      message: `${r.message} A roll keeps the key's expiry; edit it first (PATCH expiresAt), then roll.`,
    })),
  );
}

/** The policy fields an existing key breaks now, in the policy's order; `[]` when it complies or is revoked. */
export function policyViolationsOf(
  policy: OrganizationPolicy,
  key: Pick<ApiKeyRecord, 'keyType' | 'expiresAt' | 'allowedCidrs' | 'revokedAt'>,
  now: Date,
): PolicyField[] {
  if (key.revokedAt) return [];
  const fields: PolicyField[] = [];
  const latest = latestAllowedExpiry(policy, now);
  if (latest && (key.expiresAt === null || key.expiresAt.getTime() > latest.getTime())) fields.push('maxKeyLifetimeDays');
  if (policy.requireExpiry && key.expiresAt === null) fields.push('requireExpiry');
  if (allowedCidrsReasons(policy, key.keyType, key.allowedCidrs).length > 0) fields.push('requireAllowedCidrsForServiceKeys');
  if (keyTypeReasons(policy, key.keyType).length > 0) fields.push('personalKeysAllowed');
  return fields;
}
