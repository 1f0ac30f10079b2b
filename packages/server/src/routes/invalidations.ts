import type { ServerResponse } from 'node:http';
import type { Invalidation, LogFollowingBus, VerifierActor } from '@keyward/core';
import { z } from 'zod';
import { ApiError } from '../http/api-error.js';
import { errors, type App } from '../http/typed.js';
import type { Services } from '../services.js';

/**
 * How often a stream carries a `fresh` event: proof of life, and the server's invalidation lag, so
 * that a client stops trusting its cache within a second of the last news it could rely on.
 */
export const INVALIDATION_HEARTBEAT_MS = 200;
/** What clients wait before reconnecting (the SSE `retry:` field). */
const RETRY_MS = 1_000;
/** A subscriber this far behind is cut off: it reconnects and starts from an empty cache. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** What a verifier over its stream cap waits before trying again. */
const STREAM_CAP_RETRY_AFTER_SECONDS = 5;

/** The invalidations a verifier may see: its organization's (or all, for a deployment-level one). */
function visibleTo(verifier: VerifierActor, event: Invalidation): boolean {
  // A verifier credential's own changes are the server's business: its streams end instead.
  if (event.type === 'verifier') return false;
  return event.type === 'all' || verifier.orgId === null || event.orgId === verifier.orgId;
}

/** The event's fields, named one by one so nothing else a future event carries is sent by accident. */
function eventData(event: Exclude<Invalidation, { type: 'verifier' }>): string {
  switch (event.type) {
    case 'all':
      return JSON.stringify({ type: 'all' });
    case 'key':
      return JSON.stringify({ type: 'key', orgId: event.orgId, keyId: event.keyId });
    case 'member':
      return JSON.stringify({ type: 'member', orgId: event.orgId, userId: event.userId });
    case 'org':
      return JSON.stringify({ type: 'org', orgId: event.orgId });
  }
}

/**
 * `GET /api/keys/invalidations`: a server-sent event stream of cache invalidations, for the SDK's
 * remote and embedded verifiers (verifier credentials only). The stream opens with `retry:` and a
 * `ready` event; then one `invalidation` event per change a verifier may see, and a comment every
 * few seconds. A client that was disconnected cannot know what it missed, so it drops its whole cache
 * on every (re)connection: the stream keeps no history and ignores `Last-Event-ID`.
 *
 * Ordering is the point: every change publishes its invalidation before its request answers, and the
 * bus calls this listener synchronously, which writes the event to every subscriber's socket at once
 * (flushing Node's per-tick cork). So on one host the event is in the subscriber's socket buffer
 * before the changing request's answer is even written. While the bus itself may be missing events
 * (Redis down), streams are closed and new ones refused with 503, so clients stop trusting caches.
 */
export function registerInvalidationRoutes(app: App, services: Services): void {
  const { bus } = services.deps;
  // How stale this instance's own view may be: the time since its last complete read of the store's
  // invalidation log (0 for a bus that is not the log's, such as a test's in-process bus).
  const follower = (bus as Partial<LogFollowingBus>).follower;
  const lagMs = () => (follower ? Math.max(0, Math.round(follower.lagMs)) : 0);
  const open = new Set<ServerResponse>();
  // Open streams per verifier credential on this instance: one leaked or looping verifier credential
  // must not hold every socket and bus subscription of the server (KEYWARD_MAX_STREAMS_PER_VERIFIER).
  const streamsByVerifier = new Map<string, number>();
  const maxStreams = services.config.maxStreamsPerVerifier;
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get('/api/keys/invalidations', {
    config: { auth: 'verifier' },
    schema: {
      tags: ['Verification'],
      summary: 'Subscribe to cache invalidations (server-sent events) for the SDK verifiers',
      description:
        'A text/event-stream: `retry: 1000`, an `event: ready` (`{"heartbeatMs","freshness":true,"lagMs"}`), then ' +
        '`event: invalidation` with `data` `{"type":"key","orgId","keyId"}`, `{"type":"member","orgId","userId"}`, ' +
        '`{"type":"org","orgId"}` or `{"type":"all"}`, and every 200 ms an `event: fresh` with `{"lagMs"}`: every change ' +
        'committed more than `lagMs` before it was sent has already been sent. A client trusts its cache only until ' +
        '900 ms minus `lagMs` after the last `fresh` event. A verifier scoped to an organization sees only that ' +
        "organization's events. Events are not replayed: after any disconnection, drop every cached verdict.",
      response: {
        200: z.string().describe('text/event-stream'),
        ...errors(400, 401, 429, 503),
      },
    },
    handler: async (request, reply) => {
      if (bus.healthy === false) {
        throw new ApiError(503, 'service_unavailable', 'Invalidations cannot be delivered right now; verify without a cache.', {}, { 'retry-after': '1' });
      }
      const verifier = request.verifierActor!;
      const streams = streamsByVerifier.get(verifier.verifierId) ?? 0;
      if (streams >= maxStreams) {
        throw new ApiError(429, 'rate_limited', `This verifier credential already holds ${maxStreams} open invalidation streams; close one or try again later.`, {}, {
          'retry-after': String(STREAM_CAP_RETRY_AFTER_SECONDS),
        });
      }
      const res = reply.raw;
      reply.hijack();
      // A client gone while it was authenticated never emits 'close' again: take no slot for it. From
      // here to the 'close' listener below nothing awaits, so the count cannot miss a close.
      if (res.destroyed) return;
      streamsByVerifier.set(verifier.verifierId, streams + 1);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      res.socket?.setNoDelay(true);

      const send = (text: string) => {
        if (res.writableEnded || res.destroyed) return;
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          res.destroy();
          return;
        }
        res.write(text);
        // Node corks the socket on a response write until the next tick; flush now, so the event
        // leaves before the response of the change that published it.
        const socket = res.socket;
        while (socket && socket.writableCorked > 0) socket.uncork();
      };
      const unsubscribe = bus.subscribe((event) => {
        // A revoked or rolled credential's streams end (its client reconnects, if it still may).
        if (event.type === 'verifier') {
          if (event.verifierId === verifier.verifierId) res.end();
          return;
        }
        if (!visibleTo(verifier, event)) return;
        send(`event: invalidation\ndata: ${eventData(event)}\n\n`);
        // The bus announces a lost subscription with `all`: this stream can no longer be trusted.
        if (event.type === 'all' && bus.healthy === false) res.end();
      });
      const heartbeat = setInterval(() => {
        if (bus.healthy === false) res.end();
        else send(`event: fresh\ndata: {"lagMs":${lagMs()}}\n\n`);
      }, INVALIDATION_HEARTBEAT_MS);
      heartbeat.unref();
      open.add(res);
      res.once('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(res);
        const left = (streamsByVerifier.get(verifier.verifierId) ?? 1) - 1;
        if (left > 0) streamsByVerifier.set(verifier.verifierId, left);
        else streamsByVerifier.delete(verifier.verifierId);
      });
      send(`retry: ${RETRY_MS}\nevent: ready\ndata: ${JSON.stringify({ heartbeatMs: INVALIDATION_HEARTBEAT_MS, freshness: true, lagMs: lagMs() })}\n\n`);
    },
  });
}
