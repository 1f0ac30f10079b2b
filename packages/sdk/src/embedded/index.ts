export { createEmbeddedVerifier, type EmbeddedVerifier, type EmbeddedVerifierOptions } from './embedded-verifier.js';
