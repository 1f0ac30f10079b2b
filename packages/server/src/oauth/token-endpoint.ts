import type { Services } from '../services.js';
import { authenticateClient, readClientCredentials } from './client-authentication.js';
import { formParams, refuseQueryCredentials } from './form-params.js';
import { OAuthError, oauthErrors } from './oauth-error.js';
import type { OAuthRequest } from './oauth-request.js';

/**
 * `POST /oauth/token`, the client-credentials grant (RFC 6749 §4.4): parameters (no repeats), client
 * authentication (one method), the grant type, then a token for the key, narrowed by `scope` and
 * addressed to `resource`. Answers the serialized 200 body; failures throw `OAuthError`. Shared by the
 * Fastify route and the fast lane, so both answer alike. No database write on this path.
 */
export async function tokenEndpoint(services: Services, request: OAuthRequest): Promise<string> {
  const params = formParams(request.body);
  refuseQueryCredentials(request.query);
  const credentials = readClientCredentials(request, params);
  const grantType = params.get('grant_type');
  if (!grantType) throw oauthErrors.invalidRequest('grant_type is required.');
  if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'Only the client_credentials grant is supported.');
  const client = await authenticateClient(services, request, credentials);
  const issued = await services.oauth.issuer.issue({
    verified: client.verdict,
    presentedSecret: client.presentedSecret,
    scope: params.get('scope'),
    audience: audienceOf(params.get('resource'), services.config.publicUrl),
  });
  if (!issued.ok) throw new OAuthError(400, issued.error, issued.description);
  // The token is base64url and dots, the scope catalogue permissions: nothing in either needs JSON escaping.
  return `{"access_token":"${issued.accessToken}","token_type":"Bearer","expires_in":${issued.expiresIn},"scope":"${issued.scope}"}`;
}

/** RFC 8707: `resource` is an absolute URI without a fragment; it becomes the token's `aud`. */
export function audienceOf(resource: string | undefined, issuer: string): string {
  if (resource === undefined) return issuer;
  if (resource.length > 2048 || resource.includes('#') || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(resource)) {
    throw new OAuthError(400, 'invalid_target', 'resource must be an absolute URI without a fragment.');
  }
  try {
    new URL(resource);
  } catch {
    throw new OAuthError(400, 'invalid_target', 'resource must be an absolute URI.');
  }
  return resource;
}
