import { hash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { decodeJwt } from 'jose';
import { VerificationError } from './errors.js';
import { sharedEventLoopTurn } from './event-loop-turn.js';
import { openInvalidationStream, type InvalidationStream } from './invalidation-stream.js';
import { costProblem } from './request-cost.js';
import { VerdictCache, type CachedVerdict } from './verdict-cache.js';
import type { Verdict, Verifier, VerifyRequest } from './verdict.js';

/** The remote verifier's local cache. */
export interface RemoteVerifierCacheOptions {
  /** Verdicts held at most (default 10,000). */
  readonly maxEntries?: number | undefined;
  /**
   * How long a verdict is trusted while the invalidation stream is up (default 30 s). Revocations,
   * edits and role changes arrive through the stream at once; this bounds what the server does not
   * announce: the end of a rolled key's overlap window. A verdict never outlives the key's
   * `expiresAt` nor an access token's `exp`.
   */
  readonly ttlMs?: number | undefined;
  /** How long a `NOT_FOUND` is remembered (default 5 s, at most `ttlMs`). */
  readonly negativeTtlMs?: number | undefined;
  /**
   * How long a verdict is trusted while the stream is down or stale (default 0: every verification
   * asks the server, so a revocation is still honoured within a second). A short value such as 1000 keeps latency
   * low through a stream outage, at the price of honouring a revocation up to that late.
   */
  readonly fallbackTtlMs?: number | undefined;
  /** Follow `GET /api/keys/invalidations` (default true). Without it, the fallback TTL always applies. */
  readonly invalidations?: boolean | undefined;
}

/** How to reach Keyward. */
export interface RemoteVerifierOptions {
  /** The Keyward server's base URL, e.g. `https://keys.example.com`. */
  readonly url: string;
  /** A verifier credential: `npx keyward admin create-verifier --name my-api --json`. */
  readonly verifierToken: string;
  /** The local cache, or `false` for none (every verification is a request). */
  readonly cache?: RemoteVerifierCacheOptions | false | undefined;
  /** Gives up on a verification request after this long (default 5 s). */
  readonly timeoutMs?: number | undefined;
  /** Connections kept open to Keyward (default 64). */
  readonly maxSockets?: number | undefined;
  /** Invalidation stream problems (it reconnects by itself), for your logs. */
  readonly onError?: ((err: Error) => void) | undefined;
}

/** Counters, for metrics and tests. */
export interface RemoteVerifierStats {
  readonly hits: number;
  readonly misses: number;
  readonly requests: number;
  readonly cached: number;
  readonly streamConnected: boolean;
}

/** A verifier over `POST /api/keys/verify`; see `createRemoteVerifier`. */
export interface RemoteVerifier extends Verifier {
  /** Whether the invalidation stream is up (verdicts are then cached for `ttlMs`). */
  readonly streamConnected: boolean;
  /** Resolves `true` once the invalidation stream is up, `false` after `timeoutMs` (default 5 s) or without one. */
  ready(timeoutMs?: number): Promise<boolean>;
  stats(): RemoteVerifierStats;
  /** Drops every cached verdict. */
  clear(): void;
  /** The deployment's permissions, from `GET /api/catalogue` (fetched once; retried after a failure). */
  permissions(): Promise<readonly string[]>;
  /** Closes the stream and the connections. */
  close(): Promise<void>;
}

const looksLikeJwt = (key: string) => key.startsWith('eyJ') && key.split('.').length === 3;

/**
 * Verifies keys with Keyward's `POST /api/keys/verify`, with a small local cache of verdicts that
 * revocations invalidate at once. The cache is keyed by a SHA-256 of the presented key and the ask
 * (never the plaintext key) and follows the server's invalidation stream: every revoke, edit, roll,
 * role change or member removal drops the verdicts it touched before the changing request answers.
 * While the stream is down the cache is not trusted (see `fallbackTtlMs`), and on every
 * reconnection it starts empty, since events sent in between are lost. Nor is it trusted once the
 * stream has gone 900 ms without news the server vouches for (its `fresh` events carry its own
 * invalidation lag): a stalled connection, a hung proxy or a server that cannot read its database
 * stops the trust within a second, whatever is lost, and verifications then ask the server.
 *
 * Before answering from the cache, a verification yields once to the event loop (`setImmediate`),
 * so an invalidation already in the stream's socket buffer is applied first: on one host, once a
 * revoke call has returned, not one more verification of that key succeeds.
 *
 * Verdicts of a key with rate limits or credits are never cached nor shared between concurrent
 * verifications: each request reaches Keyward, which counts it (with its `cost`).
 *
 * Errors (Keyward unreachable, a bad verifier credential) reject with `VerificationError`; they are
 * never turned into a verdict, so fail closed.
 *
 * @example
 * import { createRemoteVerifier } from '@keyward/sdk';
 *
 * const verifier = createRemoteVerifier({ url: 'http://127.0.0.1:4000', verifierToken: process.env.KEYWARD_VERIFIER_TOKEN! });
 * const verdict = await verifier.verify({ key: presentedKey, permission: 'traces:write', projectId: 'proj_123', ip: clientIp });
 * if (!verdict.valid) throw new Error(verdict.code);
 */
export function createRemoteVerifier(options: RemoteVerifierOptions): RemoteVerifier {
  const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
  const target = new URL('api/keys/verify', base);
  const transport = target.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const timeoutMs = options.timeoutMs ?? 5_000;
  const authorization = `Bearer ${options.verifierToken}`;
  const cacheOptions = options.cache === false ? null : (options.cache ?? {});
  const ttlMs = cacheOptions?.ttlMs ?? 30_000;
  const negativeTtlMs = Math.min(cacheOptions?.negativeTtlMs ?? 5_000, ttlMs);
  const fallbackTtlMs = cacheOptions?.fallbackTtlMs ?? 0;
  // Without the stream (or while it is not trusted), the fallback TTL decides whether to cache at all.
  const isCacheTrusted = () => (stream?.trusted ? ttlMs > 0 : fallbackTtlMs > 0);
  const cache = cacheOptions ? new VerdictCache({ maxEntries: cacheOptions.maxEntries ?? 10_000, trusted: isCacheTrusted }) : null;
  let requests = 0;

  let stream: InvalidationStream | null = null;
  if (cache && cacheOptions?.invalidations !== false) {
    stream = openInvalidationStream({
      url: options.url,
      verifierToken: options.verifierToken,
      onEvent(event) {
        cache.invalidate(event);
      },
      onStateChange() {
        // Up or down, events may have been missed in between: start over.
        cache.clear();
      },
      onError: options.onError,
    });
  }

  const nextTurn = sharedEventLoopTurn();
  let catalogue: Promise<readonly string[]> | null = null;

  function fetchPermissions(): Promise<readonly string[]> {
    return new Promise((resolve, reject) => {
      const request = transport.request(new URL('api/catalogue', base), { method: 'GET', agent, headers: { accept: 'application/json' } });
      request.setTimeout(timeoutMs, () => request.destroy(new VerificationError('unavailable', `Keyward did not answer within ${timeoutMs} ms.`)));
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          try {
            const permissions = (JSON.parse(text) as { permissions?: unknown }).permissions;
            if (response.statusCode === 200 && Array.isArray(permissions) && permissions.every((p) => typeof p === 'string')) resolve(permissions);
            else reject(new VerificationError('unavailable', `Keyward's catalogue answered ${response.statusCode ?? 0}.`, response.statusCode ?? null));
          } catch (err) {
            reject(new VerificationError('unavailable', "Keyward's catalogue is not JSON.", response.statusCode ?? null, { cause: err }));
          }
        });
        response.on('error', reject);
      });
      request.on('error', (err) => reject(err instanceof VerificationError ? err : new VerificationError('unavailable', 'Keyward could not be reached.', null, { cause: err })));
      request.end();
    });
  }

  function post(body: string, retry: boolean): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = transport.request(target, {
        method: 'POST',
        agent,
        headers: { authorization, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), accept: 'application/json' },
      });
      request.setTimeout(timeoutMs, () => request.destroy(new VerificationError('unavailable', `Keyward did not answer within ${timeoutMs} ms.`)));
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      });
      request.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed meanwhile: try once on a fresh one.
        if (retry && request.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) resolve(post(body, false));
        else reject(err instanceof VerificationError ? err : new VerificationError('unavailable', 'Keyward could not be reached.', null, { cause: err }));
      });
      request.end(body);
    });
  }

  async function ask(request: VerifyRequest): Promise<Verdict> {
    requests++;
    const { status, text } = await post(JSON.stringify(request), true);
    if (status === 200) {
      let verdict: Verdict | null;
      try {
        verdict = JSON.parse(text) as Verdict | null;
      } catch {
        verdict = null;
      }
      if (typeof verdict?.valid !== 'boolean' || typeof verdict.code !== 'string') {
        throw new VerificationError('unavailable', 'Keyward answered something that is not a verdict.', status);
      }
      return verdict;
    }
    if (status === 401) throw new VerificationError('verifier_unauthorized', 'Keyward refused the verifier credential (verifierToken).', status);
    if (status === 400 || status === 422) throw new VerificationError('invalid_request', `Keyward refused the verification request: ${text.slice(0, 500)}`, status);
    throw new VerificationError('unavailable', `Keyward answered ${status}.`, status);
  }

  /** A verification for the cache: the verdict, and until when it may be kept, decided as it arrives (0: not at all). */
  function askForCache(_name: string, request: VerifyRequest): Promise<CachedVerdict> {
    return ask(request).then((verdict) => ({ verdict, expiresAtMs: expiryOf(request, verdict, Date.now()) ?? 0 }));
  }

  function expiryOf(request: VerifyRequest, verdict: Verdict, nowMs: number): number | null {
    const trusted = stream?.trusted ? ttlMs : fallbackTtlMs;
    if (trusted <= 0) return null;
    let until = nowMs + (verdict.code === 'NOT_FOUND' ? Math.min(negativeTtlMs, trusted) : trusted);
    if (verdict.valid && verdict.expiresAt) until = Math.min(until, Date.parse(verdict.expiresAt));
    if (verdict.valid && looksLikeJwt(request.key)) {
      try {
        const { exp } = decodeJwt(request.key);
        until = typeof exp === 'number' ? Math.min(until, exp * 1000) : nowMs;
      } catch {
        return null;
      }
    }
    return until > nowMs ? until : null;
  }

  return {
    async verify(request) {
      // Keyward's 422, whether or not the verdict is cached (the cache's name leaves the cost out).
      const problem = request.cost === undefined ? null : costProblem(request.cost);
      if (problem) throw new VerificationError('invalid_request', problem);
      if (!cache || !isCacheTrusted()) return ask(request);
      // Apply any invalidation already received before trusting the cache.
      if (stream) await nextTurn();
      // Not the cost: it changes nothing in a verdict the cache may keep (one of a key without rate
      // limits or credits), and the cache asks Keyward for every request of a key with them.
      const name = hash('sha256', JSON.stringify([request.key, request.projectId, request.permission, request.action, request.resource, request.ip]), 'base64');
      return cache.verdict(name, askForCache, request);
    },
    get streamConnected() {
      return stream?.connected ?? false;
    },
    ready(readyTimeoutMs) {
      return stream ? stream.waitUntilConnected(readyTimeoutMs) : Promise.resolve(false);
    },
    stats() {
      return { hits: cache?.verdicts.hits ?? 0, misses: cache?.verdicts.misses ?? 0, requests, cached: cache?.size ?? 0, streamConnected: stream?.connected ?? false };
    },
    clear() {
      cache?.clear();
    },
    permissions() {
      catalogue ??= fetchPermissions().catch((err: unknown) => {
        catalogue = null;
        throw err;
      });
      return catalogue;
    },
    async close() {
      stream?.close();
      cache?.clear();
      agent.destroy();
    },
  };
}
