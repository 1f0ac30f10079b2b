import { soleProjectOf, type KeyActor, type KeyVerdict } from '@keyward/core';
import type { Services } from '../services.js';
import { OAuthError, oauthErrors } from './oauth-error.js';
import { authorizationHeaders, type OAuthRequest } from './oauth-request.js';

/** The client credentials of a request, as presented. */
export interface ClientCredentials {
  readonly clientId: string;
  readonly secret: string;
  readonly method: 'client_secret_basic' | 'client_secret_post';
}

/** A client that proved its key: the key's verdict, its actor, and the secret part it presented. */
export interface AuthenticatedClient {
  readonly verdict: Extract<KeyVerdict, { valid: true }>;
  readonly actor: KeyActor;
  readonly presentedSecret: string;
}

/** base64 with correct padding, as node-oidc-provider checks it (Buffer.from skips bad characters). */
function isValidBase64(input: string): boolean {
  const match = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(input);
  if (!match?.[1]) return false;
  const remainder = match[1].length % 4;
  if (!match[2]) return remainder !== 1;
  return (match[1].length + match[2].length) % 4 === 0 && match[2].length === 4 - remainder;
}

/** RFC 6749 Appendix B: id and secret are form-urlencoded before base64. Visible ASCII and spaces only. */
function formDecode(text: string): string {
  const decoded = /[%+]/.test(text) ? decodeURIComponent(text.replace(/\+/g, '%20')) : text;
  if (/[^\x20-\x7E]/.test(decoded)) throw new Error('invalid character');
  return decoded;
}

function parseBasic(value: string): { clientId: string; secret: string } {
  const malformed = () => oauthErrors.invalidRequest('The Authorization header must be "Basic " and base64 of the form-encoded client_id, ":", and client_secret.');
  const parts = value.split(' ');
  if (parts.length !== 2 || parts[0]!.toLowerCase() !== 'basic' || !isValidBase64(parts[1]!)) throw malformed();
  const basic = Buffer.from(parts[1]!, 'base64').toString('utf8');
  const colon = basic.indexOf(':');
  if (colon === -1) throw malformed();
  let clientId: string;
  let secret: string;
  try {
    clientId = formDecode(basic.slice(0, colon));
    secret = formDecode(basic.slice(colon + 1));
  } catch {
    throw oauthErrors.invalidRequest('client_id and client_secret in the Authorization header are not properly form-encoded.');
  }
  if (!secret) throw oauthErrors.invalidRequest('The Authorization header carries no client_secret.');
  return { clientId, secret };
}

/**
 * Reads client authentication (RFC 6749 §2.3.1, R29): HTTP Basic with Appendix-B decoding, or
 * `client_id` + `client_secret` in the form body; both at once, a Basic id different from the body's
 * `client_id`, or a malformed header is `invalid_request`. Null when no client authentication at all.
 */
export function readClientCredentials(request: OAuthRequest, params: Map<string, string>): ClientCredentials | null {
  const headers = authorizationHeaders(request);
  if (headers.length > 1) throw oauthErrors.invalidRequest('Send one Authorization header.');
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (headers.length === 1) {
    if (bodySecret !== undefined) throw oauthErrors.invalidRequest('Client authentication must use one method: HTTP Basic or client_secret in the body, not both.');
    const basic = parseBasic(headers[0]!);
    if (bodyId !== undefined && bodyId !== basic.clientId) throw oauthErrors.invalidRequest('client_id in the body does not match the Authorization header.');
    return { ...basic, method: 'client_secret_basic' };
  }
  if (bodySecret === undefined) return null;
  if (bodyId === undefined) throw oauthErrors.invalidClient('client_id is required with client_secret.');
  return { clientId: bodyId, secret: bodySecret, method: 'client_secret_post' };
}

/**
 * Authenticates a client by its key: `client_id` must be the id of the key given as `client_secret`,
 * and the key must verify (not revoked, expired or disabled; its IP allowlist holds). Failures are
 * `invalid_client` and count against the client's address, and against the client id at that address;
 * either over its limit answers 429 before any key work (R45). A key refused only for its address is
 * `unauthorized_client`, not counted: its secret was right.
 */
export async function authenticateClient(services: Services, request: OAuthRequest, credentials: ClientCredentials | null): Promise<AuthenticatedClient> {
  const { config, deps, oauth } = services;
  const limited = config.authFailuresPerMinute > 0;
  const clientKey = credentials ? `${credentials.clientId.slice(0, 80)}|${request.ip}` : null;
  if (limited) {
    const [byIp, byClient] = await Promise.all([
      services.authFailures.check(request.ip),
      clientKey ? oauth.clientFailures.check(clientKey) : null,
    ]);
    if (byIp.limited) throw oauthErrors.rateLimited(byIp.retryAfterSeconds);
    if (byClient?.limited) throw oauthErrors.rateLimited(byClient.retryAfterSeconds);
  }
  const fail = async (): Promise<never> => {
    if (limited) await Promise.all([services.authFailures.hit(request.ip), clientKey ? oauth.clientFailures.hit(clientKey) : null]);
    throw oauthErrors.invalidClient();
  };
  if (!credentials) {
    await fail();
    throw oauthErrors.invalidClient();
  }
  const parsed = deps.keyFormat.parse(credentials.secret);
  // The id is the key's lookup id: a secret of another key is refused before any lookup.
  if (!parsed || parsed.kind !== 'lookup' || credentials.clientId !== `key_${parsed.lookupId}`) return fail();
  const verdict = await services.verification.verify({ token: credentials.secret, ip: request.ip }, { metered: false });
  if (!verdict.valid) {
    if (verdict.code === 'IP_NOT_ALLOWED') {
      throw new OAuthError(400, 'unauthorized_client', 'This key may not be used from this address.');
    }
    return fail();
  }
  return { verdict, actor: keyActorOf(verdict, request), presentedSecret: parsed.secret };
}

/** The actor of a verified key, for audit entries and permission checks. */
export function keyActorOf(verdict: Extract<KeyVerdict, { valid: true }>, request: Pick<OAuthRequest, 'ip' | 'id'>, type: KeyActor['type'] = 'api_key'): KeyActor {
  const { key } = verdict;
  return {
    type,
    orgId: key.orgId,
    keyId: key.id,
    key,
    grants: verdict.grants,
    ownerGrants: verdict.ownerGrants,
    tokenPermissions: verdict.subject.tokenPermissions,
    projectId: key.projectId ?? soleProjectOf(key),
    ip: request.ip,
    requestId: request.id,
  };
}
