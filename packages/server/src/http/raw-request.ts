import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import { BODY_LIMIT_BYTES } from '../limits.js';

/**
 * Helpers for the fast lanes (`POST /api/keys/verify`, `POST /oauth/token`), which answer on the raw
 * Node request before Fastify routes it, with the same rules as the Fastify routes.
 */

/** The client's address: the socket's peer, or `X-Forwarded-For` as far as the trusted proxies vouch for it. */
export function clientIpResolver(trustedProxies: readonly string[]): (req: IncomingMessage) => string {
  if (trustedProxies.length === 0) return (req) => req.socket.remoteAddress ?? '';
  const trust = proxyAddr.compile([...trustedProxies]);
  return (req) => proxyAddr(req, trust);
}

/**
 * The body as UTF-8 text ('' when empty), at most BODY_LIMIT_BYTES: a larger declared or streamed
 * body rejects with `tooLarge()` and the rest of it is drained, not buffered.
 */
export function readBoundedBody(req: IncomingMessage, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => readBoundedBodyThen(req, tooLarge, resolve, reject));
}

/**
 * `readBoundedBody` without a promise: calls `done` with the text or `failed` with the error, once.
 * The verify fast lane answers from inside `done`, so a cached verification takes no promise at all.
 */
export function readBoundedBodyThen(req: IncomingMessage, tooLarge: () => Error, done: (text: string) => void, failed: (err: Error) => void): void {
  if (Number(req.headers['content-length']) > BODY_LIMIT_BYTES) {
    req.resume();
    failed(tooLarge());
    return;
  }
  let first: Buffer | null = null;
  let chunks: Buffer[] | null = null;
  let size = 0;
  let settled = false;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) {
      req.removeListener('data', onData);
      req.resume();
      settled = true;
      failed(tooLarge());
      return;
    }
    if (first === null) first = chunk;
    else (chunks ??= [first]).push(chunk);
  };
  req.on('data', onData);
  req.on('end', () => {
    if (settled) return;
    settled = true;
    done(chunks ? Buffer.concat(chunks).toString('utf8') : first ? first.toString('utf8') : '');
  });
  req.on('error', (err) => {
    if (settled) return;
    settled = true;
    failed(err);
  });
}
