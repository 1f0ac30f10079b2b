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
  if (Number(req.headers['content-length']) > BODY_LIMIT_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
