import { z } from 'zod';

/** The longest key lifetime a policy may name, in days (ten years). */
export const maxPolicyLifetimeDays = 3650;

const lifetimeDays = z
  .number()
  .int('must be a whole number of days')
  .min(1, 'must be at least 1 day')
  .max(maxPolicyLifetimeDays, `must be at most ${maxPolicyLifetimeDays} days`)
  .nullable();

/**
 * An organization's key policy: what keys created, edited or rolled from now on must satisfy.
 *
 * @example
 * const policy: OrganizationPolicy = { maxKeyLifetimeDays: 90, defaultKeyLifetimeDays: 30, requireExpiry: true, requireAllowedCidrsForServiceKeys: false, personalKeysAllowed: true };
 */
export const organizationPolicy = z
  .object({
    maxKeyLifetimeDays: lifetimeDays.describe('No key may expire later than this many days after it is created, edited or rolled; null: no maximum. A maximum also means every key must expire.'),
    defaultKeyLifetimeDays: lifetimeDays.describe('A key created without expiresAt expires this many days later (warning expiry_set_by_policy); null: no default. Never above maxKeyLifetimeDays.'),
    requireExpiry: z.boolean().describe('Every key must have an expiry (given, or set by defaultKeyLifetimeDays)'),
    requireAllowedCidrsForServiceKeys: z.boolean().describe('Service keys must have a non-empty allowedCidrs'),
    personalKeysAllowed: z.boolean().describe('Whether personal keys may be created'),
  })
  .meta({ id: 'OrganizationPolicy' });
export type OrganizationPolicy = z.infer<typeof organizationPolicy>;

/** The names of the policy's fields, as listed in an ApiKey's `policyViolations`. */
export const policyField = z.enum(['maxKeyLifetimeDays', 'defaultKeyLifetimeDays', 'requireExpiry', 'requireAllowedCidrsForServiceKeys', 'personalKeysAllowed']);
export type PolicyField = z.infer<typeof policyField>;

/** `PUT /api/organization/policy`: the whole policy, every field required. */
export const organizationPolicyBody = z.strictObject(organizationPolicy.shape);
export type OrganizationPolicyBody = z.infer<typeof organizationPolicyBody>;

export const organizationPolicyResponse = z.object({ policy: organizationPolicy });
export type OrganizationPolicyResponse = z.infer<typeof organizationPolicyResponse>;
