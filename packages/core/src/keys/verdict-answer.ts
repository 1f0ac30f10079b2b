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
 * The JSON of `meteringFields(reading)` as the last members of an answer, each led by a comma, in the
 * answer schema's order (as its serializer writes them): ASCII only (limit names are `[a-z0-9_-]`,
 * instants ISO strings), so its length is its byte length.
 */
export function meteringJson(reading: MeterReading): string {
  let json = '';
  const windows = reading.windows;
  if (windows) {
    json += ',"rateLimits":[';
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i]!;
      json += `${i ? ',' : ''}{"name":"${w.name}","limit":${w.limit},"windowSeconds":${w.windowSeconds},"remaining":${w.remaining},"resetAt":"${isoOf(w.resetAtMs)}"}`;
    }
    json += ']';
  }
  if (reading.credits !== null) json += `,"credits":{"remaining":${reading.credits}}`;
  if (reading.code === 'RATE_LIMITED') json += `,"retryAfterSeconds":${reading.retryAfterSeconds}`;
  return json;
}

/**
 * The answer for a verdict. For an access token, `tokenExpiresAt` (its `exp`) is when the credential
 * stops working, unless the key expires sooner.
 */
export function verdictAnswer(verdict: KeyVerdict, tokenExpiresAt: Date | null = null): VerdictAnswer {
  if (!verdict.valid) {
    if (verdict.code === 'NOT_FOUND' || !verdict.key) return { valid: false, code: verdict.code, explanation: verdict.explanation };
    const { key } = verdict;
    return { valid: false, code: verdict.code, keyId: key.id, organizationId: key.orgId, keyType: key.keyType, explanation: verdict.explanation, ...meteringFields(verdict.metering) };
  }
  const { key } = verdict;
  const expiresAt = tokenExpiresAt && (!key.expiresAt || tokenExpiresAt < key.expiresAt) ? tokenExpiresAt : key.expiresAt;
  return {
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
    ...meteringFields(verdict.metering),
  };
}
