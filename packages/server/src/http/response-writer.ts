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

/**
 * Writes a whole answer on the raw response: status, the fixed headers, extras, the request id and the
 * body. The answer goes out with the others made in the same turn of the event loop, one after
 * another once the turn's I/O has been read (`setImmediate`): the client's side is woken once for
 * them rather than between each (on loopback and in virtual machines a wake-up costs the writer more
 * than the write), and an answer waits at most for the rest of its turn's requests.
 */
export function writeAnswer(
  res: ServerResponse,
  status: number,
  headers: readonly string[],
  requestId: string,
  body: string,
  extra?: Readonly<Record<string, string>>,
): void {
  const list = headers.slice() as string[];
  if (extra) for (const name in extra) list.push(name, extra[name]!);
  list.push('x-request-id', requestId, 'content-length', String(Buffer.byteLength(body)));
  if (queued.length === 0) setImmediate(writeQueued);
  queued.push({ res, status, list, body });
}

interface QueuedAnswer {
  readonly res: ServerResponse;
  readonly status: number;
  readonly list: string[];
  readonly body: string;
}

/** Answers made in the current turn, written by `writeQueued`. */
let queued: QueuedAnswer[] = [];

function writeQueued(): void {
  const answers = queued;
  queued = [];
  for (const { res, status, list, body } of answers) {
    try {
      if (res.headersSent) res.end();
      else res.writeHead(status, list).end(body);
    } catch (err) {
      // A socket that went away meanwhile: the others are written all the same.
      res.destroy(err instanceof Error ? err : undefined);
    }
  }
}
