import type { KeyId, OrgId } from '../ids.js';

export type UsageInterval = 'minute' | 'hour' | 'day';

/** One key's counts in one minute, as buffered in memory and added to the store in a flush. */
export interface UsageIncrement {
  readonly orgId: OrgId;
  readonly keyId: KeyId;
  readonly minuteStart: Date;
  readonly valid: number;
  readonly rejected: number;
  readonly rejectedByCode: Readonly<Record<string, number>>;
}

export interface UsageBucket {
  readonly start: Date;
  readonly valid: number;
  readonly rejected: number;
  readonly rejectedByCode: Record<string, number>;
}

export interface KeyUsageTotal {
  readonly keyId: KeyId;
  readonly valid: number;
  readonly rejected: number;
}
