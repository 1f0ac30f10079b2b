import {
  AccessTokenIssuer,
  AccessTokenVerifier,
  JwksPublisher,
  SigningKeyRing,
  TokenDenyList,
  type CachedVerdictSource,
  type CoreDeps,
  type KeyVerifier,
  type RateLimiter,
} from '@keyward/core';
import type { Config } from '../config.js';
import { publishableSigningKeysOf } from './publishable-signing-keys.js';

/** The long-lived parts of the OAuth server, made once by compose.ts. */
export interface OAuthComponents {
  /** Each organization's signing keys in memory (the current one decrypted). */
  readonly ring: SigningKeyRing;
  readonly jwks: JwksPublisher;
  readonly issuer: AccessTokenIssuer;
  /** Checks access tokens on every online path. */
  readonly tokens: AccessTokenVerifier;
  readonly denyList: TokenDenyList;
  /** Failed client authentications at the OAuth endpoints, per client id and address. */
  readonly clientFailures: RateLimiter;
  close(): void;
}

/** Failed authentications one client id may have from one address per minute (the address as a whole has the app's limit). */
export const CLIENT_FAILURES_PER_MINUTE = 20;

export function createOAuthComponents(input: {
  readonly deps: CoreDeps;
  readonly config: Config;
  readonly verifier: KeyVerifier;
  readonly verdictCache: CachedVerdictSource;
  readonly clientFailures: RateLimiter;
}): OAuthComponents {
  const { deps, config } = input;
  // With several instances, invalidations can be lost while Redis is away: bound how long any cached answer lives.
  const maxAgeMs = config.redisUrl ? 60_000 : 0;
  const ring = new SigningKeyRing({ store: deps.store, clock: deps.clock, bus: deps.bus, encryptionKey: deps.encryptionKey }, { maxAgeMs: 5000 });
  const jwks = new JwksPublisher({ source: publishableSigningKeysOf(deps.store), clock: deps.clock, bus: deps.bus }, { maxAgeMs: 5000 });
  const denyList = new TokenDenyList({ store: deps.store, bus: deps.bus }, { maxEntries: 100_000, maxAgeMs });
  const issuer = new AccessTokenIssuer({
    ring,
    clock: deps.clock,
    peppers: deps.peppers,
    catalogue: deps.catalogue,
    source: input.verdictCache,
    issuer: config.publicUrl,
  });
  const tokens = new AccessTokenVerifier({ ring, clock: deps.clock, denyList, keys: input.verifier, issuer: config.publicUrl });
  return {
    ring,
    jwks,
    issuer,
    tokens,
    denyList,
    clientFailures: input.clientFailures,
    close() {
      ring.close();
      jwks.close();
      denyList.close();
    },
  };
}
