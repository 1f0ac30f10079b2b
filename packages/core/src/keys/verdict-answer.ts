import type { KeyType } from './api-key.js';
import type { KeyVerdict } from './verify-key.js';
import type { MeterReading } from '../limits/key-meter.js';

/**
 * A verdict as the outside sees it (`POST /api/keys/verify`, the SDK's embedded verifier): the key's
 * facts only once the key is known, and its grants only once it is valid.
 */
export type VerdictAnswer =
  | ({
      valid: true;
      code: 'VALID';
      keyId: string;
      organizationId: string;
      keyType: KeyType;
      ownerUserId: string | null;
      projectId: string | null;
      expiresAt: string | null;
      permissions: string[];
      explanation: string;
    } & MeteringFields)
  | ({
      valid: false;
      code: Exclude<KeyVerdict['code'], 'VALID'>;
      keyId?: string;
      organizationId?: string;
      keyType?: KeyType;
      explanation: string;
    } & MeteringFields);

/** What a metered verdict adds: each window after the request, the credits left, when to retry. */
export interface MeteringFields {
  rateLimits?: { name: string; limit: number; windowSeconds: number; remaining: number; resetAt: string }[];
  credits?: { remaining: number };
  retryAfterSeconds?: number;
}

/** ISO strings of recent window ends: every verification in a window ends it at the same instant. */
const isoOfEnd = new Map<number, string>();
function isoOf(ms: number): string {
  let iso = isoOfEnd.get(ms);
  if (iso === undefined) {
    if (isoOfEnd.size >= 256) isoOfEnd.clear();
    isoOfEnd.set(ms, (iso = new Date(ms).toISOString()));
  }
  return iso;
}

/** What metering adds to a verdict's answer (nothing for a verdict that was not metered). */
export function meteringFields(reading: MeterReading | undefined): MeteringFields {
  if (!reading) return {};
  const fields: MeteringFields = {};
  if (reading.windows) fields.rateLimits = reading.windows.map((w) => ({ name: w.name, limit: w.limit, windowSeconds: w.windowSeconds, remaining: w.remaining, resetAt: isoOf(w.resetAtMs) }));
  if (reading.credits !== null) fields.credits = { remaining: reading.credits };
  if (reading.code === 'RATE_LIMITED') fields.retryAfterSeconds = reading.retryAfterSeconds;
  return fields;
}

/**
 * The answer for a verdict. For an access token, `tokenExpiresAt` (its `exp`) is when the credential
 * stops working, unless the key expires sooner.
 */
export function verdictAnswer(verdict: KeyVerdict, tokenExpiresAt: Date | null = null): VerdictAnswer {
  if (!verdict.valid) {
    if (verdict.code === 'NOT_FOUND' || !verdict.key) return { valid: false, code: verdict.code, explanation: verdict.explanation };
    const { key } = verdict;
    const refused: VerdictAnswer = { valid: false, code: verdict.code, keyId: key.id, organizationId: key.orgId, keyType: key.keyType, explanation: verdict.explanation };
    // Metering's members come last, and only when there are any (no empty object spread per answer).
    return verdict.metering ? Object.assign(refused, meteringFields(verdict.metering)) : refused;
  }
  const { key } = verdict;
  const expiresAt = tokenExpiresAt && (!key.expiresAt || tokenExpiresAt < key.expiresAt) ? tokenExpiresAt : key.expiresAt;
  const answer: VerdictAnswer = {
    valid: true,
    code: 'VALID',
    keyId: key.id,
    organizationId: key.orgId,
    keyType: key.keyType,
    ownerUserId: key.ownerUserId,
    projectId: verdict.projectId,
    expiresAt: expiresAt ? expiresAt.toISOString() : null,
    permissions: verdict.permissions,
    explanation: verdict.explanation,
  };
  return verdict.metering ? Object.assign(answer, meteringFields(verdict.metering)) : answer;
}
