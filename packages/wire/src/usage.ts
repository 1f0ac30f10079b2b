import { z } from 'zod';
import { instant, keyId } from './common.js';

export const usageQuery = z.object({
  from: instant.optional(),
  to: instant.optional(),
  interval: z.enum(['minute', 'hour', 'day']).default('hour'),
});
export type UsageQuery = z.input<typeof usageQuery>;

export const usageBucket = z.object({
  start: instant,
  valid: z.number().int(),
  rejected: z.number().int(),
  rejectedByCode: z.record(z.string(), z.number().int()),
}).meta({ id: 'UsageBucket' });
export type UsageBucket = z.infer<typeof usageBucket>;

const usageReport = z.object({
  from: instant,
  to: instant,
  interval: z.enum(['minute', 'hour', 'day']),
  buckets: z.array(usageBucket),
  totals: z.object({ valid: z.number().int(), rejected: z.number().int(), rejectedByCode: z.record(z.string(), z.number().int()) }),
});

export const keyUsageResponse = usageReport.extend({ keyId });
export type KeyUsageResponse = z.infer<typeof keyUsageResponse>;

export const organizationUsageResponse = usageReport.extend({
  topKeys: z.array(
    z.object({ keyId, name: z.string().nullable(), preview: z.string().nullable(), valid: z.number().int(), rejected: z.number().int() }),
  ),
});
export type OrganizationUsageResponse = z.infer<typeof organizationUsageResponse>;
