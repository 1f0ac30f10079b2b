import { z } from 'zod';
import { safeText } from './common.js';

/**
 * The OAuth 2.0 endpoints (client credentials, RFC 6749 §4.4), their RFC error codes and the claims of
 * the RFC 9068 access tokens. Requests are HTML forms; answers are JSON with `Cache-Control: no-store`.
 */

/** Error codes of the OAuth endpoints, answered as `{"error","error_description"}` (RFC 6749 §5.2, RFC 8707, RFC 7009). */
export const oauthErrorCodes = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'unsupported_token_type',
  'rate_limited',
  'temporarily_unavailable',
  'server_error',
] as const;
export type OAuthErrorCode = (typeof oauthErrorCodes)[number];

/**
 * An OAuth error answer.
 *
 * @example
 * const answer = oauthErrorBody.parse(await response.json());
 * if (answer.error === 'invalid_scope') console.error(answer.error_description);
 */
export const oauthErrorBody = z
  .object({ error: z.enum(oauthErrorCodes), error_description: z.string().optional() })
  .meta({ id: 'OAuthError' });
export type OAuthErrorBody = z.infer<typeof oauthErrorBody>;

/**
 * `POST /oauth/token`, as a form. `client_id` is the API key's id and `client_secret` the key itself,
 * in HTTP Basic (form-encoded, then base64) or in the body, never both. A parameter holding a control
 * character is `invalid_request`, on every OAuth endpoint.
 *
 * @example
 * const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'traces:read' });
 */
export const tokenRequestBody = z.object({
  grant_type: z.literal('client_credentials'),
  scope: safeText().max(4096).optional().describe('Space-delimited permissions: a subset of the key\'s'),
  resource: safeText().max(2048).optional().describe('RFC 8707: the API the token is for (its aud); default the issuer'),
  client_id: safeText().optional().describe('The API key id (key_…), with client_secret_post'),
  client_secret: safeText().optional().describe('The API key, with client_secret_post'),
});
export type TokenRequestBody = z.infer<typeof tokenRequestBody>;

/**
 * A token answer (RFC 6749 §5.1). No refresh token: ask again with the key.
 *
 * @example
 * const { access_token, expires_in } = tokenResponse.parse(await response.json());
 */
export const tokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int(),
    scope: z.string(),
  })
  .meta({ id: 'TokenResponse' });
export type TokenResponse = z.infer<typeof tokenResponse>;

/**
 * `POST /oauth/introspect` and `POST /oauth/revoke` (forms). `token_type_hint` is accepted and ignored.
 *
 * @example
 * const body = new URLSearchParams({ token: accessToken });
 */
export const tokenActionBody = z.object({
  token: safeText().describe('The access token'),
  token_type_hint: safeText().optional().describe('Ignored: only access tokens exist here'),
  client_id: safeText().optional(),
  client_secret: safeText().optional(),
});
export type TokenActionBody = z.infer<typeof tokenActionBody>;

/** A revocation answer: always `{}` (RFC 7009 §2.2), for unknown tokens too. */
export const revocationResponse = z.object({}).meta({ id: 'RevocationResponse' });

/**
 * An introspection answer (RFC 7662). Anything inactive, unknown, or not the caller's to see is
 * exactly `{"active":false}`.
 *
 * @example
 * const answer = introspectionResponse.parse(await response.json());
 * if (!answer.active) throw new Error('token refused');
 */
export const introspectionResponse = z
  .object({
    active: z.boolean(),
    scope: z.string().optional(),
    client_id: z.string().optional(),
    sub: z.string().optional(),
    token_type: z.literal('Bearer').optional(),
    exp: z.number().int().optional(),
    iat: z.number().int().optional(),
    iss: z.string().optional(),
    aud: z.union([z.string(), z.array(z.string())]).optional(),
    jti: z.string().optional(),
    org_id: z.string().optional(),
  })
  .meta({ id: 'Introspection' });
export type IntrospectionResponse = z.infer<typeof introspectionResponse>;

/**
 * Authorization server metadata (RFC 8414) at `/.well-known/oauth-authorization-server`.
 *
 * @example
 * const metadata = authorizationServerMetadata.parse(await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json());
 */
export const authorizationServerMetadata = z
  .object({
    issuer: z.string(),
    token_endpoint: z.string(),
    jwks_uri: z.string(),
    grant_types_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    revocation_endpoint: z.string(),
    revocation_endpoint_auth_methods_supported: z.array(z.string()),
    introspection_endpoint: z.string(),
    introspection_endpoint_auth_methods_supported: z.array(z.string()),
    scopes_supported: z.array(z.string()),
    service_documentation: z.string().optional(),
  })
  .loose()
  .meta({ id: 'AuthorizationServerMetadata' });
export type AuthorizationServerMetadata = z.infer<typeof authorizationServerMetadata>;

/**
 * The JWKS at `/.well-known/jwks.json`: public keys only, each with a unique `kid`, `alg` and `use: sig`.
 *
 * @example
 * const { keys } = jsonWebKeySet.parse(await (await fetch(`${issuer}/.well-known/jwks.json`)).json());
 */
export const jsonWebKeySet = z
  .object({ keys: z.array(z.object({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig') }).loose()) })
  .meta({ id: 'JsonWebKeySet' });
export type JsonWebKeySet = z.infer<typeof jsonWebKeySet>;

/**
 * The claims of a Keyward access token (RFC 9068): `sub` and `client_id` are the API key id, `org_id`
 * its organization, `scope` its permissions (space-delimited). `kw_gen` ties the token to the key's
 * secret; `kw_narrowed` marks a token issued for a requested `scope`.
 *
 * @example
 * const { payload } = await jwtVerify<AccessTokenClaims>(token, jwks, { issuer, audience: issuer, typ: 'at+jwt' });
 * console.log(payload.client_id, payload.scope.split(' '));
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | string[];
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly client_id: string;
  readonly scope: string;
  readonly org_id: string;
  readonly kw_gen?: string;
  readonly kw_narrowed?: boolean;
}
