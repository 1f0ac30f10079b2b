/**
 * The credential a request presents: none, exactly one key, several (refused with 400), or a
 * malformed carrier such as `Authorization: Basic …` (refused like an invalid key).
 *
 * @example
 * const presented: PresentedKey = { kind: 'one', key: 'kw_…', carrier: 'x-api-key' };
 */
export type PresentedKey =
  | { readonly kind: 'none' }
  | { readonly kind: 'one'; readonly key: string; readonly carrier: 'authorization' | 'x-api-key' | 'x-auth-token' }
  | { readonly kind: 'several' }
  | { readonly kind: 'malformed' };

const carriers = new Set(['authorization', 'x-api-key', 'x-auth-token']);
const bearer = /^bearer +(\S+)$/i;

function fromValues(values: readonly (readonly [string, string])[]): PresentedKey {
  if (values.length === 0) return { kind: 'none' };
  if (values.length > 1) return { kind: 'several' };
  const [name, raw] = values[0]!;
  const value = raw.trim();
  // Joined duplicates ("a, b") are two credentials: keys and tokens never contain a comma.
  if (value.includes(',')) return { kind: 'several' };
  if (name === 'authorization') {
    const match = bearer.exec(value);
    return match ? { kind: 'one', key: match[1]!, carrier: 'authorization' } : { kind: 'malformed' };
  }
  if (value === '' || /\s/.test(value)) return { kind: 'malformed' };
  return { kind: 'one', key: value, carrier: name as 'x-api-key' | 'x-auth-token' };
}

/**
 * Reads the key from Node's raw headers (`req.rawHeaders`): `Authorization: Bearer`, `x-api-key`, or
 * the legacy `X-Auth-Token`. Raw headers are counted because Node keeps only the first of two
 * `Authorization` headers and joins two `x-api-key` values with ", "; two credentials in one request
 * are refused (SECURITY.md R9).
 *
 * @example
 * const presented = presentedKeyFromRawHeaders(req.rawHeaders);
 * if (presented.kind === 'one') console.log(presented.carrier);
 */
export function presentedKeyFromRawHeaders(rawHeaders: readonly string[]): PresentedKey {
  const values: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (carriers.has(name)) values.push([name, rawHeaders[i + 1]!]);
  }
  return fromValues(values);
}

/**
 * The same from Fetch API headers, where duplicates arrive joined with ", " (and are refused).
 *
 * @example
 * const presented = presentedKeyFromHeaders(new Headers({ 'x-api-key': 'kw_…' }));
 */
export function presentedKeyFromHeaders(headers: { get(name: string): string | null }): PresentedKey {
  const values: [string, string][] = [];
  for (const name of carriers) {
    const value = headers.get(name);
    if (value !== null) values.push([name, value]);
  }
  return fromValues(values);
}
