import type { IncomingMessage } from 'node:http';
import { invalidRequest, unauthorized } from './api-error.js';

export type CredentialCarrier = 'authorization' | 'x-api-key' | 'x-auth-token' | 'query' | 'cookie';

export interface PresentedCredential {
  readonly token: string;
  readonly carrier: CredentialCarrier;
}

const carrierHeaders = new Set(['authorization', 'x-api-key', 'x-auth-token']);
export const SESSION_COOKIE = 'keyward_session';

/**
 * Reads the one credential of a request (R8, R9). Raw headers are counted because Node keeps only the
 * first duplicate `Authorization` and joins duplicate `x-api-key` values with ", ". Two credentials in
 * one request (two carriers, a carrier repeated, or a header and a query parameter) are refused with
 * 400 `invalid_request`. A credential in the query string counts only on webhook-style routes;
 * elsewhere it is refused with 401 and never used. The session cookie is used only when nothing else
 * is presented.
 */
export function readCredential(
  raw: IncomingMessage,
  query: unknown,
  options: { allowQuery: boolean; cookieToken: string | undefined },
): PresentedCredential | null {
  const found: PresentedCredential[] = [];
  const headers = raw.rawHeaders;
  for (let i = 0; i < headers.length; i += 2) {
    const raw = headers[i]!;
    // Most headers are told apart by their length alone (authorization 13, x-auth-token 12, x-api-key 9).
    if (raw.length !== 13 && raw.length !== 12 && raw.length !== 9) continue;
    const name = raw.toLowerCase();
    if (!carrierHeaders.has(name)) continue;
    const value = headers[i + 1]!.trim();
    if (name === 'authorization') {
      const match = /^bearer +(\S+)$/i.exec(value);
      if (!match) {
        found.push({ token: '', carrier: 'authorization' });
        continue;
      }
      found.push({ token: match[1]!, carrier: 'authorization' });
    } else {
      found.push({ token: value, carrier: name as CredentialCarrier });
    }
  }
  const queryCredentials = queryValues(query);
  if (found.length + queryCredentials.length > 1) {
    throw invalidRequest('Send exactly one credential: one header (Authorization, x-api-key or X-Auth-Token), not several.');
  }
  if (queryCredentials.length === 1) {
    if (!options.allowQuery) throw unauthorized('invalid', 'Credentials in the query string are not accepted here; send them in a header.');
    return { token: queryCredentials[0]!, carrier: 'query' };
  }
  const [credential] = found;
  if (credential) {
    if (credential.token === '') throw unauthorized('invalid', 'The Authorization header must be "Bearer <credential>".');
    return credential;
  }
  if (options.cookieToken) return { token: options.cookieToken, carrier: 'cookie' };
  return null;
}

const queryCredentialName = /^(token|api_key)(\[.*\])?$/;

function queryValues(query: unknown): string[] {
  if (!query || typeof query !== 'object') return [];
  const out: string[] = [];
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    if (!queryCredentialName.test(name)) continue;
    // `?token=a&token=b` counts as two credentials; a bracketed `?api_key[]=x` as one malformed one.
    if (Array.isArray(value)) {
      out.push('', '');
      continue;
    }
    if (name.includes('[')) {
      out.push('');
      continue;
    }
    out.push(typeof value === 'string' ? value : '');
  }
  return out;
}
