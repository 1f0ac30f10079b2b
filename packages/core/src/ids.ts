import { randomFillSync } from 'node:crypto';

export type OrgId = `org_${string}`;
export type UserId = `usr_${string}`;
export type TeamId = `team_${string}`;
export type ProjectId = `proj_${string}`;
export type KeyId = `key_${string}`;
export type RoleBindingId = `rb_${string}`;
export type SigningKeyId = `sk_${string}`;
export type InvitationId = `inv_${string}`;
export type SessionId = `ses_${string}`;
export type AuditEntryId = `aud_${string}`;
export type VerifierId = `ver_${string}`;

export const idPrefixes = ['org', 'usr', 'team', 'proj', 'key', 'rb', 'sk', 'inv', 'ses', 'aud', 'ver', 'req', 'wh', 'evt', 'whd'] as const;
export type IdPrefix = (typeof idPrefixes)[number];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` base62 characters drawn from the CSPRNG without modulo bias (rejection sampling on bytes
 * below 248 = 4 * 62). Secrets and ids both use it; `Math.random` is never used.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
}

/**
 * CSPRNG bytes drawn 4 KiB at a time: a call into the CSPRNG costs about 5 µs here whatever its
 * size, and every write makes several ids. Each byte is handed out once and wiped as it is.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const byte = pool[poolOffset]!;
  pool[poolOffset++] = 0;
  return byte;
}

export { BASE62 };

/** Produces prefixed ids. A port so that tests can make ids predictable when they need to. */
export interface IdGenerator {
  next<P extends IdPrefix>(prefix: P): `${P}_${string}`;
}

/** Ids of 16 base62 characters (95 bits): unguessable, short enough to read in a support ticket. */
export const prefixedIds: IdGenerator = {
  next: (prefix) => `${prefix}_${randomBase62(16)}` as never,
};

export function hasPrefix<P extends IdPrefix>(value: string, prefix: P): value is `${P}_${string}` {
  return value.startsWith(`${prefix}_`) && /^[a-z]+_[0-9A-Za-z]{1,64}$/.test(value);
}
