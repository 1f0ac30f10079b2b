import { isSafeText } from '@keyward/wire';
import { oauthErrors } from './oauth-error.js';
import type { FormBody } from './oauth-request.js';

/**
 * The parameters of an OAuth form body (RFC 6749 §3.2, R31): a parameter given twice is
 * `invalid_request`, an empty value counts as absent, unknown parameters are ignored. A value holding
 * a control character (`%00`, a line break…) is `invalid_request` naming it: no parameter of these
 * endpoints is text that could hold one, and none reaches a database or a token's claims.
 */
export function formParams(body: unknown): Map<string, string> {
  const params = new Map<string, string>();
  if (body === undefined || body === null) return params;
  if (!(body instanceof Map)) throw oauthErrors.invalidRequest('Send the parameters as an application/x-www-form-urlencoded body.');
  const repeated: string[] = [];
  for (const [name, values] of body as FormBody) {
    if (values.length > 1) repeated.push(name);
    else if (values[0]) params.set(name, values[0]);
  }
  if (repeated.length > 0) throw oauthErrors.invalidRequest(`${repeated.join(', ')} must not be given more than once.`);
  for (const [name, value] of params) {
    // A name that is not text itself is no parameter these endpoints read: ignored, like any unknown one.
    if (isSafeText(name) && !isSafeText(value)) throw oauthErrors.invalidRequest(`${name} must not contain control characters.`);
  }
  return params;
}

/** Client credentials never travel in the query string (RFC 6749 §2.3.1, R29). */
export function refuseQueryCredentials(query: unknown): void {
  if (!query || typeof query !== 'object') return;
  for (const name of ['client_secret', 'client_id', 'token']) {
    if (name in (query as object)) throw oauthErrors.invalidRequest(`${name} is never accepted in the query string; send it in the form body or the Authorization header.`);
  }
}
