import { describe, expect, it } from 'vitest';
import {
  applyPolicyToNewKey,
  assertEditWithinPolicy,
  assertRollWithinPolicy,
  defaultOrganizationPolicy,
  policyViolationsOf,
  PolicyViolationError,
  type OrganizationPolicy,
} from './organization-policy.js';

const now = new Date('2026-06-01T12:00:00.000Z');
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);
const policy = (changes: Partial<OrganizationPolicy>): OrganizationPolicy => ({ ...defaultOrganizationPolicy, ...changes });
const reasonsOf = (run: () => unknown): string[] => {
  try {
    run();
  } catch (err) {
    if (err instanceof PolicyViolationError) return err.reasons.map((r) => r.path);
    throw err;
  }
  return [];
};

describe('the organization policy', () => {
  it('asks nothing of any key by default', () => {
    expect(applyPolicyToNewKey(defaultOrganizationPolicy, { keyType: 'service', expiresAt: null, allowedCidrs: [] }, now)).toEqual({ expiresAt: null, warnings: [] });
    expect(policyViolationsOf(defaultOrganizationPolicy, { keyType: 'personal', expiresAt: null, allowedCidrs: [], revokedAt: null }, now)).toEqual([]);
  });

  it('holds an expiry to the maximum to the millisecond, and treats no expiry as beyond it', () => {
    const max = policy({ maxKeyLifetimeDays: 30 });
    expect(reasonsOf(() => applyPolicyToNewKey(max, { keyType: 'personal', expiresAt: days(30), allowedCidrs: [] }, now))).toEqual([]);
    expect(reasonsOf(() => applyPolicyToNewKey(max, { keyType: 'personal', expiresAt: new Date(days(30).getTime() + 1), allowedCidrs: [] }, now))).toEqual(['expiresAt']);
    expect(reasonsOf(() => applyPolicyToNewKey(max, { keyType: 'personal', expiresAt: null, allowedCidrs: [] }, now))).toEqual(['expiresAt']);
  });

  it('gives the default lifetime with a warning, and then checks it like any expiry', () => {
    const applied = applyPolicyToNewKey(policy({ defaultKeyLifetimeDays: 10, requireExpiry: true }), { keyType: 'project', expiresAt: null, allowedCidrs: [] }, now);
    expect(applied.expiresAt).toEqual(days(10));
    expect(applied.warnings.map((w) => w.code)).toEqual(['expiry_set_by_policy']);
  });

  it('reports every broken rule of a new key at once, in a stable order', () => {
    const strict = policy({ maxKeyLifetimeDays: 5, requireAllowedCidrsForServiceKeys: true, personalKeysAllowed: false });
    expect(reasonsOf(() => applyPolicyToNewKey(strict, { keyType: 'service', expiresAt: days(6), allowedCidrs: [] }, now))).toEqual(['expiresAt', 'allowedCidrs']);
    expect(reasonsOf(() => applyPolicyToNewKey(strict, { keyType: 'personal', expiresAt: days(6), allowedCidrs: [] }, now))).toEqual(['keyType', 'expiresAt']);
  });

  it('checks only the fields an edit changes', () => {
    const strict = policy({ requireExpiry: true, requireAllowedCidrsForServiceKeys: true });
    expect(reasonsOf(() => assertEditWithinPolicy(strict, { keyType: 'service' }, {}, now))).toEqual([]);
    expect(reasonsOf(() => assertEditWithinPolicy(strict, { keyType: 'service' }, { expiresAt: null }, now))).toEqual(['expiresAt']);
    expect(reasonsOf(() => assertEditWithinPolicy(strict, { keyType: 'service' }, { allowedCidrs: [] }, now))).toEqual(['allowedCidrs']);
    expect(reasonsOf(() => assertEditWithinPolicy(strict, { keyType: 'personal' }, { allowedCidrs: [] }, now))).toEqual([]);
  });

  it('refuses a roll whose kept expiry breaks the policy, even with a default lifetime', () => {
    expect(reasonsOf(() => assertRollWithinPolicy(policy({ requireExpiry: true, defaultKeyLifetimeDays: 3 }), { expiresAt: null }, now))).toEqual(['expiresAt']);
    expect(reasonsOf(() => assertRollWithinPolicy(policy({ maxKeyLifetimeDays: 3 }), { expiresAt: days(2) }, now))).toEqual([]);
  });

  it('names the fields an existing key breaks now, and none for a revoked key', () => {
    const strict = policy({ maxKeyLifetimeDays: 30, requireExpiry: true, requireAllowedCidrsForServiceKeys: true, personalKeysAllowed: false });
    expect(policyViolationsOf(strict, { keyType: 'personal', expiresAt: null, allowedCidrs: [], revokedAt: null }, now)).toEqual(['maxKeyLifetimeDays', 'requireExpiry', 'personalKeysAllowed']);
    expect(policyViolationsOf(strict, { keyType: 'service', expiresAt: days(40), allowedCidrs: [], revokedAt: null }, now)).toEqual(['maxKeyLifetimeDays', 'requireAllowedCidrsForServiceKeys']);
    expect(policyViolationsOf(strict, { keyType: 'service', expiresAt: days(10), allowedCidrs: ['10.0.0.0/8'], revokedAt: null }, now)).toEqual([]);
    expect(policyViolationsOf(strict, { keyType: 'personal', expiresAt: null, allowedCidrs: [], revokedAt: now }, now)).toEqual([]);
  });
});
