export { clientIdOf, createTokenClient, TokenRequestError, type IssuedAccessToken, type TokenClient, type TokenClientOptions } from './token-client.js';
export {
  AccessTokenRejectedError,
  createAccessTokenVerifier,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type VerifiedAccessToken,
} from './token-verifier.js';
