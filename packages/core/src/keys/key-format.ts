import { crc32 } from 'node:zlib';
import { BASE62, randomBase62 } from '../ids.js';

/**
 * The key format (docs/decisions/0001-key-format.md):
 *
 *   personal and service keys  <prefix><lookupId>_<secret><checksum>
 *   project (legacy) keys      <prefix><secret><checksum>
 *
 * `lookupId` is the public half (16 base62 characters; the key's id is `key_<lookupId>`), `secret` is
 * 43 base62 characters from the CSPRNG (256 bits), and `checksum` is the CRC32 (IEEE) of everything
 * before it as 6 base62 digits, most significant first, zero-padded. The checksum lets scanners and the
 * server refuse a mistyped or forged key before any cache or database work.
 */
export const LOOKUP_ID_LENGTH = 16;
export const SECRET_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
export const DEFAULT_KEY_PREFIX = 'kw_';

const prefixPattern = /^[A-Za-z][A-Za-z0-9-]{0,14}[_-]$/;

export function assertValidPrefix(prefix: string): void {
  if (!prefixPattern.test(prefix) || prefix.slice(0, -1).includes('_')) {
    throw new Error(
      `key prefix "${prefix}" must start with a letter, use letters, digits and "-", end with "_" or "-", and be at most 16 characters`,
    );
  }
}

/** CRC32 (IEEE) of `text`, as 6 base62 digits. */
export function checksumOf(text: string): string {
  let value = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

export type ParsedToken =
  | { kind: 'lookup'; lookupId: string; secret: string }
  | { kind: 'project'; secret: string };

export interface KeyFormat {
  readonly prefix: string;
  /** The regular expression for secret scanners, anchored. */
  readonly pattern: RegExp;
  generate(lookupId: string): { token: string; secret: string };
  generateProjectKey(): { token: string; secret: string };
  /** Null for anything that is not a well-formed token with a correct checksum. Does no I/O. */
  parse(token: string): ParsedToken | null;
  preview(token: string): string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

export function createKeyFormat(prefix: string = DEFAULT_KEY_PREFIX): KeyFormat {
  assertValidPrefix(prefix);
  const lookupLength = prefix.length + LOOKUP_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;
  const projectLength = prefix.length + SECRET_LENGTH + CHECKSUM_LENGTH;
  const body = /^[0-9A-Za-z]+$/;
  const pattern = new RegExp(
    `^${escapeRegExp(prefix)}(?:[0-9A-Za-z]{${LOOKUP_ID_LENGTH}}_)?[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}$`,
  );
  const withChecksum = (text: string) => text + checksumOf(text);
  return {
    prefix,
    pattern,
    generate(lookupId) {
      const secret = randomBase62(SECRET_LENGTH);
      return { token: withChecksum(`${prefix}${lookupId}_${secret}`), secret };
    },
    generateProjectKey() {
      const secret = randomBase62(SECRET_LENGTH);
      return { token: withChecksum(`${prefix}${secret}`), secret };
    },
    parse(token) {
      if (token.length !== lookupLength && token.length !== projectLength) return null;
      if (!token.startsWith(prefix)) return null;
      const checksum = token.slice(-CHECKSUM_LENGTH);
      const signed = token.slice(0, -CHECKSUM_LENGTH);
      if (token.length === lookupLength) {
        const lookupId = token.slice(prefix.length, prefix.length + LOOKUP_ID_LENGTH);
        const separator = token[prefix.length + LOOKUP_ID_LENGTH];
        const secret = token.slice(prefix.length + LOOKUP_ID_LENGTH + 1, -CHECKSUM_LENGTH);
        if (separator !== '_' || !body.test(lookupId) || !body.test(secret) || !body.test(checksum)) return null;
        return checksumOf(signed) === checksum ? { kind: 'lookup', lookupId, secret } : null;
      }
      const secret = token.slice(prefix.length, -CHECKSUM_LENGTH);
      if (!body.test(secret) || !body.test(checksum)) return null;
      return checksumOf(signed) === checksum ? { kind: 'project', secret } : null;
    },
    preview(token) {
      return `${prefix}…${token.slice(-4)}`;
    },
  };
}
