export * from './oauth/index.js';
export type { InvalidationEvent, Verdict, VerdictCode, Verifier, VerifyRequest } from './verdict.js';
export { VerificationError } from './errors.js';
export { createRemoteVerifier, type RemoteVerifier, type RemoteVerifierCacheOptions, type RemoteVerifierOptions, type RemoteVerifierStats } from './remote-verifier.js';
export { openInvalidationStream, type InvalidationStream, type InvalidationStreamOptions } from './invalidation-stream.js';
export { createKeyGuard, type GuardOutcome, type KeyRequirement, type KeywardIdentity, type KeywardMiddlewareOptions, type Refusal, type RequestAdapter, type RequestCost } from './middleware/key-guard.js';
export { presentedKeyFromHeaders, presentedKeyFromRawHeaders, type PresentedKey } from './middleware/presented-key.js';
