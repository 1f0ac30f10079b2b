import { randomInt } from 'node:crypto';
import http, { type ClientRequest } from 'node:http';
import https from 'node:https';
import { createSseParser } from './sse-parser.js';
import type { InvalidationEvent } from './verdict.js';

/** How to follow `GET /api/keys/invalidations`. */
export interface InvalidationStreamOptions {
  /** The Keyward server's base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** A verifier credential (`keyward admin create-verifier`). */
  readonly verifierToken: string;
  /** Called synchronously, in order, for every invalidation the server sends. */
  readonly onEvent: (event: InvalidationEvent) => void;
  /**
   * Called with `true` once the stream is open and with `false` when it drops. Events sent while a
   * stream was down are lost, so a cache must drop everything on both transitions.
   */
  readonly onStateChange?: ((connected: boolean) => void) | undefined;
  /** Connection problems, for your logs; the stream reconnects by itself. */
  readonly onError?: ((err: Error) => void) | undefined;
  /** Silence longer than this means the stream is dead (default three heartbeats: 15 s). */
  readonly heartbeatTimeoutMs?: number | undefined;
  /** The longest wait between reconnection attempts (default 10 s). */
  readonly maxReconnectDelayMs?: number | undefined;
  /**
   * The longest time a cache may go without news it can rely on (default 900 ms): a server that
   * sends `fresh` events (each with its own invalidation lag) is trusted only until this long after
   * the news it last vouched for, so a stalled stream or a stale server stops the trust within a second.
   */
  readonly maxStalenessMs?: number | undefined;
}

/** A followed invalidation stream; see `openInvalidationStream`. */
export interface InvalidationStream {
  /** Whether the stream is open now (events are being received). */
  readonly connected: boolean;
  /**
   * Whether a cache fed by this stream may be trusted now: open, and (with a server that vouches for
   * its freshness) news no older than `maxStalenessMs`.
   */
  readonly trusted: boolean;
  /** Resolves `true` once the stream is open, or `false` after `timeoutMs` (default 5 s). */
  waitUntilConnected(timeoutMs?: number): Promise<boolean>;
  /** Closes the stream for good. */
  close(): void;
}

const isEvent = (value: unknown): value is InvalidationEvent => {
  if (!value || typeof value !== 'object') return false;
  const event = value as Record<string, unknown>;
  switch (event.type) {
    case 'all':
      return true;
    case 'key':
      return typeof event.orgId === 'string' && typeof event.keyId === 'string';
    case 'member':
      return typeof event.orgId === 'string' && typeof event.userId === 'string';
    case 'org':
      return typeof event.orgId === 'string';
    default:
      return false;
  }
};

/**
 * Follows Keyward's invalidation stream over one dedicated HTTP connection, reconnecting with backoff
 * (1 s, then doubling up to `maxReconnectDelayMs`, with jitter). Each chunk is parsed in the socket's
 * `data` handler, so events already received are applied before the next macrotask. The connection
 * does not keep the process alive (its socket is unref'd).
 *
 * @example
 * const stream = openInvalidationStream({
 *   url: 'http://127.0.0.1:4000',
 *   verifierToken: process.env.KEYWARD_VERIFIER_TOKEN!,
 *   onEvent: (event) => console.log('invalidate', event),
 *   onStateChange: (connected) => console.log(connected ? 'stream up' : 'stream down'),
 * });
 * await stream.waitUntilConnected();
 */
export function openInvalidationStream(options: InvalidationStreamOptions): InvalidationStream {
  const target = new URL('/api/keys/invalidations', options.url.endsWith('/') ? options.url : `${options.url}/`);
  const transport = target.protocol === 'https:' ? https : http;
  const maxDelayMs = options.maxReconnectDelayMs ?? 10_000;
  let heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 15_000;
  const maxStalenessMs = options.maxStalenessMs ?? 900;
  /** Whether the server vouches for its freshness, and until when this client may rely on it. */
  let vouched = false;
  let freshUntil = 0;
  const noteFreshness = (data: string) => {
    try {
      const lag = (JSON.parse(data) as { lagMs?: unknown }).lagMs;
      freshUntil = Date.now() + maxStalenessMs - (typeof lag === 'number' && lag > 0 ? lag : 0);
    } catch {
      freshUntil = 0;
    }
  };
  let retryMs = 1_000;
  let failures = 0;
  let connected = false;
  let closed = false;
  let current: ClientRequest | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let silenceTimer: NodeJS.Timeout | null = null;
  const waiters = new Set<(connected: boolean) => void>();

  function setConnected(value: boolean): void {
    if (connected === value) return;
    connected = value;
    options.onStateChange?.(value);
    if (value) for (const resolve of [...waiters]) resolve(true);
  }

  function armSilenceTimer(onSilence: () => void): void {
    if (silenceTimer) clearTimeout(silenceTimer);
    silenceTimer = setTimeout(onSilence, heartbeatTimeoutMs);
    silenceTimer.unref();
  }

  function connect(): void {
    reconnectTimer = null;
    if (closed) return;
    let done = false;
    const drop = (err: Error, delayMs?: number) => {
      if (done) return;
      done = true;
      if (silenceTimer) clearTimeout(silenceTimer);
      request.destroy();
      if (current === request) current = null;
      setConnected(false);
      if (closed) return;
      options.onError?.(err);
      const backoff = Math.min(maxDelayMs, retryMs * 2 ** Math.min(failures, 10));
      failures++;
      const delay = delayMs ?? (backoff * randomInt(750, 1250)) / 1000;
      reconnectTimer = setTimeout(connect, delay);
      reconnectTimer.unref();
    };
    const request = transport.request(target, {
      method: 'GET',
      agent: false,
      headers: { authorization: `Bearer ${options.verifierToken}`, accept: 'text/event-stream', 'cache-control': 'no-store' },
    });
    current = request;
    request.on('socket', (socket) => {
      socket.setNoDelay(true);
      socket.unref();
    });
    request.setTimeout(10_000, () => drop(new Error('the invalidation stream did not answer in time')));
    request.on('error', (err) => drop(err));
    request.on('response', (response) => {
      request.setTimeout(0);
      const type = String(response.headers['content-type'] ?? '');
      if (response.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        response.resume();
        const status = response.statusCode ?? 0;
        // A wrong credential will not fix itself quickly: wait longer before trying again.
        drop(new Error(`the invalidation stream answered ${status}`), status === 401 || status === 403 ? maxDelayMs * 3 : undefined);
        return;
      }
      response.setEncoding('utf8');
      const parser = createSseParser(
        (event) => {
          if (done) return;
          if (event.event === 'ready') {
            try {
              const ready = JSON.parse(event.data) as { heartbeatMs?: unknown; freshness?: unknown };
              if (options.heartbeatTimeoutMs === undefined && typeof ready.heartbeatMs === 'number') heartbeatTimeoutMs = ready.heartbeatMs * 3;
              vouched = ready.freshness === true;
            } catch {
              // an older server: keep the default timeout
              vouched = false;
            }
            if (vouched) noteFreshness(event.data);
            failures = 0;
            setConnected(true);
            return;
          }
          if (event.event === 'fresh') {
            noteFreshness(event.data);
            return;
          }
          if (event.event !== 'invalidation') return;
          let parsed: unknown;
          try {
            parsed = JSON.parse(event.data);
          } catch {
            parsed = null;
          }
          // An event we cannot read may be one we needed: drop everything and start over.
          options.onEvent(isEvent(parsed) ? parsed : { type: 'all' });
        },
        (ms) => {
          retryMs = Math.max(100, ms);
        },
      );
      const onSilence = () => drop(new Error('the invalidation stream went silent'));
      armSilenceTimer(onSilence);
      response.on('data', (chunk: string) => {
        armSilenceTimer(onSilence);
        parser.push(chunk);
      });
      response.on('end', () => drop(new Error('the invalidation stream ended')));
      response.on('aborted', () => drop(new Error('the invalidation stream was cut')));
      response.on('error', (err) => drop(err));
    });
    request.end();
  }

  connect();
  return {
    get connected() {
      return connected;
    },
    get trusted() {
      return connected && (!vouched || Date.now() < freshUntil);
    },
    waitUntilConnected(timeoutMs = 5_000) {
      if (connected) return Promise.resolve(true);
      if (closed) return Promise.resolve(false);
      return new Promise((resolve) => {
        const finish = (value: boolean) => {
          clearTimeout(timer);
          waiters.delete(finish);
          resolve(value);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        waiters.add(finish);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (silenceTimer) clearTimeout(silenceTimer);
      current?.destroy();
      current = null;
      setConnected(false);
      for (const resolve of [...waiters]) resolve(false);
    },
  };
}
