import type { AccessTokenClaims, IntrospectionResponse } from '@keyward/wire';
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** How to check Keyward access tokens in a resource server. */
export interface AccessTokenVerifierOptions {
  /** The Keyward server's public URL: the tokens' `iss`, byte for byte. */
  readonly issuer: string;
  /** The `aud` to accept: your API's resource indicator, or (the default) the issuer. */
  readonly audience?: string | readonly string[] | undefined;
  /** Default `<issuer>/.well-known/jwks.json`. */
  readonly jwksUri?: string | undefined;
  readonly algorithms?: readonly ('ES256' | 'RS256' | 'EdDSA')[] | undefined;
  /** Tolerated clock difference for `exp`, `nbf` and `iat` (default 30 s). */
  readonly clockToleranceSeconds?: number | undefined;
  /**
   * Also ask the server, for every token, whether it is still active (RFC 7662 introspection with a
   * verifier credential from `keyward admin create-verifier`). Without it, a token whose key was
   * revoked keeps working here until its `exp` (ten minutes by default).
   */
  readonly online?: { readonly verifierToken: string; readonly cacheMs?: number | undefined } | undefined;
  /** A key set of your own (jose's `createLocalJWKSet`, ...) instead of the remote JWKS. */
  readonly jwks?: JWTVerifyGetKey | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** The current time (tests). */
  readonly currentDate?: (() => Date) | undefined;
}

/** What a verified token says. */
export interface VerifiedAccessToken {
  /** The API key behind the token (`sub` and `client_id`). */
  readonly keyId: string;
  readonly organizationId: string;
  /** The permissions the token carries (`write` includes `read`: both are listed). */
  readonly scope: string[];
  readonly expiresAt: Date;
  readonly tokenId: string;
  readonly claims: JWTPayload & AccessTokenClaims;
}

/** A refused token: `revoked` when the server says it is no longer active, `invalid_token` otherwise. */
export class AccessTokenRejectedError extends Error {
  override readonly name = 'AccessTokenRejectedError';
  constructor(
    readonly code: 'invalid_token' | 'revoked',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Checks access tokens; see `createAccessTokenVerifier`. */
export interface AccessTokenVerifier {
  verify(token: string): Promise<VerifiedAccessToken>;
}

const forbiddenHeaders = ['jku', 'x5u', 'jwk', 'x5c'];

/**
 * Verifies Keyward access tokens (RFC 9068) offline against the JWKS, with jose's remote key set: it
 * caches the keys for ten minutes and fetches again at once (after a 30 s cooldown) for an unknown
 * `kid`, which is how it follows Keyward's signing-key rotations. Checks `typ: at+jwt`, the
 * algorithm, `iss`, `aud`, `exp`, and the claims Keyward always sets. With `online`, every token is
 * also checked at the introspection endpoint, so revoked keys and tokens are refused at once.
 *
 * @example
 * const verifier = createAccessTokenVerifier({ issuer: 'https://keys.example.com' });
 * const token = await verifier.verify(request.headers.authorization!.slice('Bearer '.length));
 * if (!token.scope.includes('traces:read')) throw new Error('forbidden');
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const issuer = options.issuer.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const keys = options.jwks ?? createRemoteJWKSet(new URL(options.jwksUri ?? `${issuer}/.well-known/jwks.json`), options.fetch ? { [customFetch]: options.fetch } : {});
  const audience = options.audience === undefined ? issuer : typeof options.audience === 'string' ? options.audience : [...options.audience];
  const online = options.online;
  const activeUntil = new Map<string, number>();

  async function isActive(token: string): Promise<boolean> {
    if (!online) return true;
    const now = Date.now();
    const cachedUntil = activeUntil.get(token);
    if (cachedUntil !== undefined && cachedUntil > now) return true;
    let answer: IntrospectionResponse;
    try {
      const response = await doFetch(`${issuer}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${online.verifierToken}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token }),
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) throw new Error(`introspection answered ${response.status}`);
      answer = (await response.json()) as IntrospectionResponse;
    } catch (err) {
      // Fail closed: a token whose revocation cannot be checked is not accepted.
      throw new AccessTokenRejectedError('invalid_token', 'The token could not be checked with the server.', { cause: err });
    }
    if (answer.active !== true) return false;
    if (online.cacheMs) {
      if (activeUntil.size > 10_000) activeUntil.clear();
      activeUntil.set(token, now + online.cacheMs);
    }
    return true;
  }

  return {
    async verify(token) {
      let payload: JWTPayload;
      let header: Record<string, unknown>;
      try {
        const result = await jwtVerify(token, keys, {
          issuer,
          audience,
          typ: 'at+jwt',
          algorithms: [...(options.algorithms ?? ['ES256', 'RS256', 'EdDSA'])],
          clockTolerance: options.clockToleranceSeconds ?? 30,
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope'],
          ...(options.currentDate ? { currentDate: options.currentDate() } : {}),
        });
        payload = result.payload;
        header = result.protectedHeader as Record<string, unknown>;
      } catch (err) {
        const reason = err instanceof errors.JOSEError ? err.code : 'ERR_INVALID';
        throw new AccessTokenRejectedError('invalid_token', `The access token is not valid (${reason}).`, { cause: err });
      }
      const claims = payload as JWTPayload & AccessTokenClaims;
      if (forbiddenHeaders.some((name) => name in header) || claims.sub !== claims.client_id || typeof claims.org_id !== 'string' || typeof claims.scope !== 'string') {
        throw new AccessTokenRejectedError('invalid_token', 'The access token is not a Keyward access token.');
      }
      if (!(await isActive(token))) throw new AccessTokenRejectedError('revoked', 'The access token was revoked, or its key no longer works.');
      return {
        keyId: claims.client_id,
        organizationId: claims.org_id,
        scope: claims.scope.split(' ').filter(Boolean),
        expiresAt: new Date(claims.exp * 1000),
        tokenId: claims.jti,
        claims,
      };
    },
  };
}
