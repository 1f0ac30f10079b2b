import { allPermissions, introspectAccessToken, revokeAccessToken, verifierFormat, type IntrospectionCaller } from '@keyward/core';
import * as wire from '@keyward/wire';
import type { FastifyRequest } from 'fastify';
import { VerifierAuthenticator } from '../http/verifier-authenticator.js';
import type { App } from '../http/typed.js';
import { BODY_LIMIT_BYTES } from '../limits.js';
import { authenticateClient, keyActorOf, readClientCredentials } from '../oauth/client-authentication.js';
import { formParams, refuseQueryCredentials } from '../oauth/form-params.js';
import { OAuthError, oauthErrorHandler, oauthErrors, sendOAuth } from '../oauth/oauth-error.js';
import { oauthRequestOf, parseForm, type OAuthRequest } from '../oauth/oauth-request.js';
import { tokenEndpoint } from '../oauth/token-endpoint.js';
import type { Services } from '../services.js';

const tags = ['OAuth'];
const form = ['application/x-www-form-urlencoded'];
/** The OAuth routes take forms, checked by the handlers themselves (repeated parameters are invalid_request, not 422). */
const acceptAnyBody = () => (data: unknown) => ({ value: data });
const oauthErrorResponses = { 400: wire.oauthErrorBody, 401: wire.oauthErrorBody, 429: wire.oauthErrorBody };

/**
 * The OAuth 2.0 authorization server of the client-credentials grant: RFC 8414 metadata, the JWKS,
 * the token endpoint, introspection (RFC 7662) and revocation (RFC 7009). Errors are RFC 6749 bodies
 * (a scoped error handler), never the API's `{error, message}`.
 */
export function registerOAuthRoutes(app: App, services: Services): void {
  const { config, deps, oauth } = services;
  const issuer = config.publicUrl;
  const metadata = JSON.stringify({
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint: `${issuer}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint: `${issuer}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: allPermissions(deps.catalogue),
    service_documentation: 'https://github.com/keyward/keyward/blob/main/docs/oauth.md',
  });
  // RFC 8414 §3: with a path in the issuer, the well-known segment goes before it.
  const issuerPath = new URL(issuer).pathname.replace(/\/+$/, '');
  const metadataPaths = ['/.well-known/oauth-authorization-server', ...(issuerPath ? [`/.well-known/oauth-authorization-server${issuerPath}`] : [])];
  const verifiers = new VerifierAuthenticator(services);

  void app.register(async (scope) => {
    scope.setErrorHandler(oauthErrorHandler);
    // The same form parser as the token fast lane (oauth/token-fast-lane.ts), in this scope only.
    scope.removeContentTypeParser('application/x-www-form-urlencoded');
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (err) {
        done(err as Error);
      }
    });

    for (const path of metadataPaths) {
      scope.get(path, {
        config: { auth: 'none' },
        schema: { tags, summary: 'Authorization server metadata (RFC 8414)', response: { 200: wire.authorizationServerMetadata } },
        handler: async (_request, reply) => reply.header('cache-control', 'public, max-age=300').type('application/json; charset=utf-8').send(metadata),
      });
    }

    scope.get('/.well-known/jwks.json', {
      config: { auth: 'none' },
      schema: { tags, summary: "The public keys that verify access tokens (every organization's)", response: { 200: wire.jsonWebKeySet } },
      handler: async (_request, reply) =>
        // A minute in shared caches: an emergency rotation's removal reaches them within it.
        reply.header('cache-control', 'public, max-age=60').type('application/json; charset=utf-8').send(await oauth.jwks.document()),
    });

    scope.post('/oauth/token', {
      config: { auth: 'none', bodyType: 'form' },
      validatorCompiler: acceptAnyBody,
      schema: {
        tags,
        summary: 'Exchange an API key for an access token (client credentials)',
        consumes: form,
        body: wire.tokenRequestBody,
        response: { 200: wire.tokenResponse, ...oauthErrorResponses },
      },
      // On a listening server the fast lane answers most token requests; this route answers the rest alike.
      handler: async (request, reply) => sendOAuth(reply, 200, await tokenEndpoint(services, oauthRequestOf(request))),
    });

    scope.post('/oauth/introspect', {
      config: { auth: 'none', bodyType: 'form' },
      validatorCompiler: acceptAnyBody,
      schema: {
        tags,
        summary: "Whether a token is active, with its details for its own client, an admin key or a verifier",
        consumes: form,
        body: wire.tokenActionBody,
        response: { 200: wire.introspectionResponse, ...oauthErrorResponses },
      },
      handler: async (request, reply) => {
        const params = formParams(request.body);
        refuseQueryCredentials(request.query);
        const caller = await introspectionCaller(request, oauthRequestOf(request), params);
        const token = params.get('token');
        if (!token) throw oauthErrors.invalidRequest('token is required.');
        return sendOAuth(reply, 200, await introspectAccessToken(deps, oauth.tokens, caller, token));
      },
    });

    scope.post('/oauth/revoke', {
      config: { auth: 'none', bodyType: 'form' },
      validatorCompiler: acceptAnyBody,
      schema: {
        tags,
        summary: "Revoke an access token (its own client only); 200 for unknown tokens too",
        consumes: form,
        body: wire.tokenActionBody,
        response: { 200: wire.revocationResponse, ...oauthErrorResponses },
      },
      handler: async (request, reply) => {
        const params = formParams(request.body);
        refuseQueryCredentials(request.query);
        const oauthRequest = oauthRequestOf(request);
        const client = await authenticateClient(services, oauthRequest, readClientCredentials(oauthRequest, params));
        const token = params.get('token');
        if (!token) throw oauthErrors.invalidRequest('token is required.');
        const outcome = await revokeAccessToken(deps, oauth.tokens, client.actor, token);
        if (outcome === 'foreign') throw new OAuthError(400, 'invalid_grant', 'The token was issued to another client.');
        return sendOAuth(reply, 200, {});
      },
    });
  });

  /** Introspection callers: a verifier credential or an API key as Bearer, or client authentication. */
  async function introspectionCaller(request: FastifyRequest, oauthRequest: OAuthRequest, params: Map<string, string>): Promise<IntrospectionCaller> {
    const authorization = request.headers.authorization;
    const bearer = authorization && /^bearer +(\S+)$/i.exec(authorization.trim())?.[1];
    if (bearer && verifierFormat.parse(bearer)) {
      const verifier = await verifiers.authenticate(request.raw, {}, request.ip);
      return { type: 'verifier', orgId: verifier.orgId };
    }
    if (bearer) {
      if (params.has('client_secret')) throw oauthErrors.invalidRequest('Authenticate with one method only.');
      if (config.authFailuresPerMinute > 0) {
        const state = await services.authFailures.check(request.ip);
        if (state.limited) throw oauthErrors.rateLimited(state.retryAfterSeconds);
      }
      const verdict = await services.verifier.verify({ token: bearer, ip: request.ip });
      if (!verdict.valid) {
        if (config.authFailuresPerMinute > 0) await services.authFailures.hit(request.ip);
        throw oauthErrors.invalidClient();
      }
      return { type: 'key', actor: keyActorOf(verdict, oauthRequest) };
    }
    const client = await authenticateClient(services, oauthRequest, readClientCredentials(oauthRequest, params));
    return { type: 'key', actor: client.actor };
  }
}
