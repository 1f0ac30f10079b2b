import type { CachedVerdictSource, CoreDeps, KeyVerification, KeyVerifier, RateLimiter, UsageRecorder } from '@keyward/core';
import type { CreationQuota } from './adapters/creation-quota.js';
import type { Config } from './config.js';
import type { OAuthComponents } from './oauth/components.js';
import type { Operations } from './operations.js';

/** What the HTTP app is built from: core's deps and the long-lived components compose.ts made. */
export interface Services {
  readonly deps: CoreDeps;
  /** Verification assembled once (core's `createKeyVerification`); `verifier`, `verdictCache` and `usage` are its parts. */
  readonly verification: KeyVerification;
  readonly verifier: KeyVerifier;
  readonly verdictCache: CachedVerdictSource;
  readonly usage: UsageRecorder;
  /** Failed authentications per client IP. */
  readonly authFailures: RateLimiter;
  /** Key creations per person (or service key) per minute; null when `KEYWARD_KEY_CREATIONS_PER_MINUTE` is 0. */
  readonly keyCreations: CreationQuota | null;
  readonly config: Config;
  /** Signing keys, access tokens and the OAuth endpoints' limiter (oauth/components.ts). */
  readonly oauth: OAuthComponents;
  /** Readiness, metrics and the drain state (operations.ts). */
  readonly operations: Operations;
}
