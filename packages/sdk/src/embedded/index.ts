export { createEmbeddedVerifier, type EmbeddedVerifier, type EmbeddedVerifierOptions, type EmbeddedVerifierStats } from './embedded-verifier.js';
