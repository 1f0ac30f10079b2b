import { hash } from 'node:crypto';
import type { KeyId, OrgId, SigningKeyId } from '../ids.js';
import type { SecretDigest } from '../keys/api-key.js';

/** The JWS `typ` of RFC 9068 access tokens. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/**
 * The claims of a Keyward access token (RFC 9068 §2.2, docs/oauth.md):
 * - `iss`: the issuer, byte for byte the metadata `issuer` (the public URL);
 * - `sub` and `client_id`: the API key's id (`key_…`, which cannot collide with a user's `usr_…`);
 * - `aud`: the public URL, or the `resource` the client asked for (RFC 8707);
 * - `iat`, `exp` (= `iat` + the organization's lifetime), `jti` (128 random bits);
 * - `scope`: the permissions, space-delimited; `org_id`: the key's organization;
 * - `kw_gen`: which secret of the key the token was issued with (a digest of its stored digest), so
 *   that rolling the key with immediate expiry ends its tokens, and an overlap keeps them until it ends;
 * - `kw_narrowed`: true when the client asked for a `scope`; the token then carries only those
 *   permissions. Without it, the token acts with the key's current rights.
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: KeyId;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly client_id: KeyId;
  readonly scope: string;
  readonly org_id: OrgId;
  readonly kw_gen: string;
  readonly kw_narrowed?: true;
}

/** A token that passed signature and claim checks, with the key that signed it. */
export interface CheckedAccessToken {
  readonly claims: AccessTokenClaims;
  readonly kid: SigningKeyId;
}

const generations = new Map<string, string>();

/**
 * The generation tag of a stored secret: 96 bits of SHA-256 over its digest. It names the secret
 * without revealing anything usable about it (the digest is itself an HMAC of 256 random bits).
 */
export function secretGeneration(secret: SecretDigest): string {
  let tag = generations.get(secret.digest);
  if (tag === undefined) {
    tag = hash('sha256', `keyward-token-generation:${secret.digest}`, 'buffer').subarray(0, 12).toString('base64url');
    if (generations.size > 100_000) generations.clear();
    generations.set(secret.digest, tag);
  }
  return tag;
}
