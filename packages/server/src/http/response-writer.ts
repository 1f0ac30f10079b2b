import type { ServerResponse } from 'node:http';

/**
 * The headers every answer carries, in one place: the Fastify hook (`app.ts`) sets them on every
 * reply, and the fast lanes (`verify-fast-lane.ts`, `oauth/token-fast-lane.ts`) write them with
 * `writeAnswer`, so an answer has the same headers whichever path produced it.
 */
export const HYGIENE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

/** What `/api/` answers add: they are never cached. */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'cache-control': 'no-store' });

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * A header list made once for a kind of answer (content type, hygiene, and any fixed extras), to
 * which `writeAnswer` adds the request id and the length: no object is spread per request.
 */
export function fixedHeaders(...groups: readonly Readonly<Record<string, string>>[]): readonly string[] {
  const list: string[] = [];
  for (const group of groups) for (const [name, value] of Object.entries(group)) list.push(name, value);
  return Object.freeze(list);
}

/** Writes a whole answer on the raw response: status, the fixed headers, extras, the request id and the body. */
export function writeAnswer(
  res: ServerResponse,
  status: number,
  headers: readonly string[],
  requestId: string,
  body: string,
  byteLength: number = Buffer.byteLength(body),
  extra?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const list = headers.slice() as string[];
  if (extra) for (const name in extra) list.push(name, extra[name]!);
  list.push('x-request-id', requestId, 'content-length', String(byteLength));
  res.writeHead(status, list);
  res.end(body);
}
