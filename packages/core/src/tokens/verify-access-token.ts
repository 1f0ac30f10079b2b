import { LRUCache } from 'lru-cache';
import type { OrgId, SigningKeyId } from '../ids.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import type { KeyVerdict, KeyVerifier, VerifyRequest } from '../keys/verify-key.js';
import type { Permission } from '../permissions/catalogue.js';
import type { Clock } from '../ports.js';
import { CLOCK_SKEW_SECONDS } from '../signing-keys/signing-key-lifecycle.js';
import type { SigningKeyRing } from '../signing-keys/signing-key-ring.js';
import { secretGeneration, type AccessTokenClaims, type CheckedAccessToken } from './access-token.js';
import { decodeCompact, looksLikeJws, signatureMatches } from './compact-jws.js';
import type { TokenDenyList } from './token-deny-list.js';

export interface AccessTokenVerifierDeps {
  readonly ring: SigningKeyRing;
  readonly clock: Clock;
  readonly denyList: TokenDenyList;
  readonly keys: KeyVerifier;
  readonly issuer: string;
}

export interface TokenCheckOptions {
  /** The audience the token must name; null accepts any (the verify endpoint, introspection, revocation). */
  readonly audience: string | null;
  /** Only tokens of this organization exist for this call. */
  readonly orgId?: OrgId | null | undefined;
}

export type TokenCheck =
  | ({ readonly ok: true } & CheckedAccessToken)
  | { readonly ok: false; readonly code: 'NOT_FOUND' | 'EXPIRED' | 'REVOKED'; readonly explanation: string };

export interface TokenVerification {
  readonly verdict: KeyVerdict;
  /** The token's claims once its signature and claims checked out, whatever the key's verdict. */
  readonly token: CheckedAccessToken | null;
}

const algorithms = new Set(['ES256', 'RS256', 'EdDSA']);
/** Header members that would let a token name its own key or extensions: refused outright (RFC 8725 §3.10). */
const forbiddenHeaders = ['jku', 'x5u', 'jwk', 'x5c', 'crit', 'b64'];
const kidPattern = /^sk_[0-9A-Za-z]{1,64}$/;
const orgPattern = /^org_[0-9A-Za-z]{1,64}$/;
const clientPattern = /^key_[0-9A-Za-z]{16}$/;

function notFound(explanation: string): TokenCheck {
  return { ok: false, code: 'NOT_FOUND', explanation };
}

/**
 * Checks access tokens wherever this server accepts them (R35): the JWS header (`typ: at+jwt`, an
 * allowed `alg` equal to the key's, a known `kid`, no key-naming headers), the signature with the
 * organization's published key, `iss`, `exp` (exact), `iat`/`nbf` (60 s skew), `aud` where asked, the
 * deny list, compromised signing keys, and then the key behind the token through the key verifier: a
 * revoked, disabled or expired key, or a roll whose overlap ended, refuses its tokens at once.
 * Signature checks are remembered per token string; everything that can change is checked every time.
 */
export class AccessTokenVerifier {
  /** Tokens whose signature checked out, by the whole token (about 1 KB each: bounded to ~10 MB). */
  private readonly verified = new LRUCache<string, CheckedAccessToken>({ max: 10_000, ttl: 15 * 60_000, ttlAutopurge: false });

  constructor(private readonly deps: AccessTokenVerifierDeps) {}

  /** Whether a presented credential has the shape of an access token (no I/O). */
  looksLikeToken(token: string): boolean {
    return looksLikeJws(token);
  }

  /** The token's own checks (signature, claims, deny list, signing key state), not the key's. */
  async check(token: string, options: TokenCheckOptions): Promise<TokenCheck> {
    let checked = this.verified.get(token);
    if (!checked) {
      const fresh = await this.checkSignature(token);
      if (!fresh.ok) return fresh;
      checked = { claims: fresh.claims, kid: fresh.kid };
      this.verified.set(token, checked);
    }
    const { claims, kid } = checked;
    const keySet = await this.deps.ring.keySet(claims.org_id);
    if (keySet.compromised.has(kid)) return { ok: false, code: 'REVOKED', explanation: `signed by signing key ${kid}, retired as compromised` };
    const signingKey = keySet.keys.get(kid);
    const now = this.deps.clock.now().getTime();
    if (!signingKey || (signingKey.retiresAt && signingKey.retiresAt.getTime() <= now)) return notFound(`signing key ${kid} is not published`);
    if (now >= claims.exp * 1000) return { ok: false, code: 'EXPIRED', explanation: `the access token expired at ${new Date(claims.exp * 1000).toISOString()}` };
    const skewMs = CLOCK_SKEW_SECONDS * 1000;
    if (claims.iat * 1000 > now + skewMs) return notFound('the access token was issued in the future');
    const nbf = (claims as { nbf?: unknown }).nbf;
    if (typeof nbf === 'number' && nbf * 1000 > now + skewMs) return notFound('the access token is not valid yet');
    if (options.audience !== null && !audienceIncludes(claims.aud, options.audience)) return notFound('the access token is for another audience');
    if (options.orgId && claims.org_id !== options.orgId) return notFound('no such key');
    if (await this.deps.denyList.isRevoked(claims.jti, claims.client_id)) return { ok: false, code: 'REVOKED', explanation: 'the access token was revoked' };
    return { ok: true, claims, kid };
  }

  /** The token's checks, then the key's verdict with the token's scope (the full verify pipeline). */
  async verify(token: string, request: Omit<VerifyRequest, 'token' | 'tokenPermissions'> & TokenCheckOptions): Promise<TokenVerification> {
    const checked = await this.check(token, request);
    if (!checked.ok) return { verdict: { valid: false, code: checked.code, explanation: checked.explanation }, token: null };
    const { claims } = checked;
    const tokenPermissions = claims.kw_narrowed ? (claims.scope.split(' ').filter(Boolean) as Permission[]) : null;
    const now = this.deps.clock.now();
    const verdict = await this.deps.keys.verifyKeyOfToken(claims.client_id, { ...request, tokenPermissions }, (key) => bindingProblem(key, claims, now));
    return { verdict, token: { claims, kid: checked.kid } };
  }

  private async checkSignature(token: string): Promise<TokenCheck> {
    const decoded = decodeCompact(token);
    if (!decoded) return notFound('not a well-formed access token');
    const { header, payload } = decoded;
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : '';
    if (typ !== 'at+jwt' && typ !== 'application/at+jwt') return notFound('not an access token (typ must be at+jwt)');
    if (typeof header.alg !== 'string' || !algorithms.has(header.alg)) return notFound('the token is not signed with an accepted algorithm');
    if (typeof header.kid !== 'string' || !kidPattern.test(header.kid)) return notFound('the token names no known signing key');
    if (forbiddenHeaders.some((name) => name in header)) return notFound('the token header names its own key or extensions');
    const claims = claimsOf(payload);
    if (!claims) return notFound('the token lacks required claims');
    const keySet = await this.deps.ring.keySet(claims.org_id);
    if (keySet.compromised.has(header.kid)) return { ok: false, code: 'REVOKED', explanation: `signed by signing key ${header.kid}, retired as compromised` };
    const signingKey = keySet.keys.get(header.kid);
    if (!signingKey) return notFound(`signing key ${header.kid} is not published`);
    if (signingKey.algorithm !== header.alg) return notFound('the token algorithm does not match its signing key');
    if (!signatureMatches(signingKey.algorithm, signingKey.publicKey, decoded.signingInput, decoded.signature)) return notFound('bad signature');
    if (claims.iss !== this.deps.issuer) return notFound('the token is from another issuer');
    return { ok: true, claims, kid: header.kid as SigningKeyId };
  }
}

function audienceIncludes(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

function claimsOf(payload: Record<string, unknown>): AccessTokenClaims | null {
  const { iss, sub, aud, iat, exp, jti, client_id: clientId, scope, org_id: orgId, kw_gen: generation } = payload;
  if (typeof iss !== 'string' || typeof jti !== 'string' || jti.length < 16 || jti.length > 128) return null;
  if (typeof clientId !== 'string' || !clientPattern.test(clientId) || sub !== clientId) return null;
  if (typeof orgId !== 'string' || !orgPattern.test(orgId)) return null;
  if (typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) return null;
  if (!Number.isFinite(iat) || !Number.isFinite(exp) || typeof scope !== 'string' || typeof generation !== 'string') return null;
  return payload as unknown as AccessTokenClaims;
}

/** Null when the token was issued with a secret the key still has (its current one, or the old one inside a roll's overlap). */
function bindingProblem(key: ApiKeyRecord, claims: AccessTokenClaims, now: Date): string | null {
  if (claims.kw_gen === secretGeneration(key.secret)) return null;
  const previous = key.previousSecret;
  if (previous && key.previousSecretExpiresAt && key.previousSecretExpiresAt.getTime() > now.getTime() && claims.kw_gen === secretGeneration(previous)) {
    return null;
  }
  return 'the access token was issued with a secret of the key that was rolled and no longer works';
}
