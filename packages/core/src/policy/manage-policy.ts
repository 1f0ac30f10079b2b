import { recordAudit } from '../audit/record-audit.js';
import type { Actor } from '../auth/actor.js';
import type { CoreDeps } from '../deps.js';
import { FieldError, forbidden, notFound } from '../errors.js';
import type { OrgId } from '../ids.js';
import type { Repositories } from '../ports.js';
import { defaultOrganizationPolicy, MAX_POLICY_LIFETIME_DAYS, type OrganizationPolicy } from './organization-policy.js';

/** The organization's policy, or the defaults when it never set one. */
export async function loadPolicy(repos: Pick<Repositories, 'policies'>, orgId: OrgId): Promise<OrganizationPolicy> {
  return (await repos.policies.find(orgId)) ?? defaultOrganizationPolicy;
}

/** Any member (and any key of the organization) may read the policy: it tells them what keys they may make. */
export async function getPolicy(deps: Pick<CoreDeps, 'store'>, actor: Actor): Promise<OrganizationPolicy> {
  return loadPolicy(deps.store, actor.orgId);
}

function assertLifetime(path: keyof OrganizationPolicy, value: number | null): void {
  if (value === null) return;
  if (!Number.isInteger(value) || value < 1 || value > MAX_POLICY_LIFETIME_DAYS) {
    throw new FieldError(path, `A whole number of days from 1 to ${MAX_POLICY_LIFETIME_DAYS}, or null for no rule.`);
  }
}

/**
 * Replaces the policy. Only the organization's OWNERs may: the policy binds its admins too. The change
 * and its audit entry (`organization.policy_updated`, with the policy before and after) commit together.
 * Existing keys are left as they are.
 */
export async function updatePolicy(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'ids'>,
  actor: Actor,
  policy: OrganizationPolicy,
): Promise<OrganizationPolicy> {
  if (actor.type !== 'user' || actor.role !== 'OWNER') throw forbidden('Only organization owners may change the key policy.');
  assertLifetime('maxKeyLifetimeDays', policy.maxKeyLifetimeDays);
  assertLifetime('defaultKeyLifetimeDays', policy.defaultKeyLifetimeDays);
  if (policy.maxKeyLifetimeDays !== null && policy.defaultKeyLifetimeDays !== null && policy.defaultKeyLifetimeDays > policy.maxKeyLifetimeDays) {
    throw new FieldError('defaultKeyLifetimeDays', `The default lifetime (${policy.defaultKeyLifetimeDays} days) cannot exceed the maximum (${policy.maxKeyLifetimeDays} days).`);
  }
  const next: OrganizationPolicy = {
    maxKeyLifetimeDays: policy.maxKeyLifetimeDays,
    defaultKeyLifetimeDays: policy.defaultKeyLifetimeDays,
    requireExpiry: policy.requireExpiry,
    requireAllowedCidrsForServiceKeys: policy.requireAllowedCidrsForServiceKeys,
    personalKeysAllowed: policy.personalKeysAllowed,
  };
  return deps.store.transaction(async (tx) => {
    const org = await tx.orgs.findById(actor.orgId);
    if (!org) throw notFound.organization();
    const before = await loadPolicy(tx, actor.orgId);
    const now = deps.clock.now();
    await tx.policies.save(actor.orgId, next, now);
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'organization.policy_updated',
      targetType: 'organization',
      targetId: actor.orgId,
      details: { before: { ...before }, after: { ...next } },
    });
    return next;
  });
}
