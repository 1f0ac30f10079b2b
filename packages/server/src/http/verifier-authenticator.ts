import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { authenticateVerifier, type VerifierActor, type VerifierId, type VerifierRecord } from '@keyward/core';
import { LRUCache } from 'lru-cache';
import type { Services } from '../services.js';
import { ApiError, unauthorized } from './api-error.js';
import { readCredential } from './credentials.js';

/** How often a server writes a verifier credential's `lastUsedAt`, at most. */
const LAST_USED_EVERY_MS = 60_000;
/** How long an address that failed here is asked about at the shared failure limiter (its window). */
const FAILURE_MEMORY_MS = 60_000;
/** How long a record read for a credential is trusted without an invalidation (as the records cache). */
const RECORD_TTL_MS = 30_000;

/** A credential that authenticated: the answer, and until when (at most) it holds without a new check. */
interface Remembered {
  readonly actor: VerifierActor;
  readonly epoch: number;
  readonly until: number;
  /** When this instance last had the credential's `lastUsedAt` written (0: not yet). */
  touchedAt: number;
}

/**
 * Authenticates verifier credentials for `POST /api/keys/verify`, from the Fastify route and from
 * the fast lane alike. Records (and absences) are cached; a revoke or roll (`keyward admin verifier`)
 * drops them on every instance through the invalidation log within a second, and while the log
 * cannot be read the cache is not trusted. `lastUsedAt` is written at most once a minute per
 * credential and instance, off the request's path.
 */
export class VerifierAuthenticator {
  private readonly records = new LRUCache<string, { record: VerifierRecord | null }>({ max: 10_000, ttl: RECORD_TTL_MS });
  /** Credentials that authenticated, by a SHA-256 of the token (never the token). */
  private readonly remembered = new LRUCache<string, Remembered>({ max: 10_000 });
  /** Addresses with a failed authentication here within the limiter's window: only those are asked about. */
  private readonly recentFailures = new LRUCache<string, true>({ max: 100_000, ttl: FAILURE_MEMORY_MS });
  private readonly lastTouched = new LRUCache<string, number>({ max: 10_000 });
  /**
   * The credential a connection last authenticated with, and what it matched: the operator's servers
   * send the same one on every request of a kept-alive connection, which is then recognised by
   * comparing the strings, without hashing. Held only as long as the connection is.
   */
  private readonly byConnection = new WeakMap<object, { readonly token: string; readonly known: Remembered }>();
  private readonly limited: boolean;
  private epoch = 0;

  constructor(private readonly services: Pick<Services, 'deps' | 'authFailures' | 'config'>) {
    this.limited = services.config.authFailuresPerMinute > 0;
    services.deps.bus.subscribe((event) => {
      if (event.type !== 'verifier' && event.type !== 'all') return;
      // A read in flight may hold the old record: it must not be cached after this.
      this.epoch++;
      if (event.type === 'verifier') this.records.delete(event.verifierId);
      else this.records.clear();
      this.remembered.clear();
    });
  }

  /**
   * The verifier behind the request's one credential; throws 400, 401 or 429 as an `ApiError`. A
   * credential that authenticated before is answered from memory (no HMAC, no lookup) while no
   * invalidation reached this instance, the invalidation log is being read, and its record would
   * still be cached. The shared failure limiter is asked only about addresses that failed here
   * within its window: an address that failed only on other instances is limited once it fails here.
   */
  authenticate(raw: IncomingMessage, query: unknown, ip: string): VerifierActor | Promise<VerifierActor> {
    if (this.limited && this.recentFailures.size > 0 && this.recentFailures.has(ip)) return this.authenticateLimited(raw, query, ip);
    return this.authenticateCredential(raw, query, ip);
  }

  private async authenticateLimited(raw: IncomingMessage, query: unknown, ip: string): Promise<VerifierActor> {
    const state = await this.services.authFailures.check(ip);
    if (state.limited) {
      throw new ApiError(429, 'rate_limited', 'Too many failed authentication attempts from this address; try again later.', {}, {
        'retry-after': String(state.retryAfterSeconds),
      });
    }
    return this.authenticateCredential(raw, query, ip);
  }

  private authenticateCredential(raw: IncomingMessage, query: unknown, ip: string): VerifierActor | Promise<VerifierActor> {
    let token: string | undefined;
    try {
      token = readCredential(raw, query, { allowQuery: false, cookieToken: undefined })?.token;
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 401) return this.fail(ip).then(() => Promise.reject(err));
      throw err;
    }
    if (!token) throw unauthorized('missing', 'A verifier credential is required: send it as Authorization: Bearer kwv_… (keyward admin verifier create).');
    const now = Date.now();
    const connection = this.byConnection.get(raw.socket);
    let known = connection !== undefined && connection.token === token ? connection.known : undefined;
    let fingerprint: string | null = null;
    if (!this.current(known, now)) {
      fingerprint = hash('sha256', token, 'base64');
      known = this.remembered.get(fingerprint);
      if (this.current(known, now)) this.byConnection.set(raw.socket, { token, known: known! });
      else known = undefined;
    }
    if (known !== undefined && this.services.deps.bus.healthy !== false) {
      if (now - known.touchedAt >= LAST_USED_EVERY_MS) {
        known.touchedAt = now;
        this.touch(known.actor.verifierId);
      }
      return known.actor;
    }
    return this.authenticateToken(token, fingerprint ?? hash('sha256', token, 'base64'), ip);
  }

  /** Whether a remembered answer still holds: no invalidation since, and within its time. */
  private current(known: Remembered | undefined, now: number): boolean {
    return known !== undefined && known.epoch === this.epoch && now < known.until;
  }

  private async authenticateToken(token: string, fingerprint: string, ip: string): Promise<VerifierActor> {
    const epoch = this.epoch;
    let seen: VerifierRecord | null = null;
    const verifier = await authenticateVerifier(this.services.deps, token, async (id) => (seen = await this.find(id)));
    if (!verifier) {
      await this.fail(ip);
      throw unauthorized('invalid', 'A verifier credential is required: send it as Authorization: Bearer kwv_… (keyward admin verifier create).');
    }
    const record = seen as VerifierRecord | null;
    if (epoch === this.epoch && record) {
      // A rolled credential's old secret holds only until its overlap ends: remember no longer than that.
      const overlapEnd = record.previousExpiresAt ? record.previousExpiresAt.getTime() : Infinity;
      this.remembered.set(fingerprint, { actor: verifier, epoch, until: Math.min(Date.now() + RECORD_TTL_MS, overlapEnd), touchedAt: Date.now() });
    }
    this.touch(verifier.verifierId);
    return verifier;
  }

  private async fail(ip: string): Promise<void> {
    if (!this.limited) return;
    this.recentFailures.set(ip, true);
    await this.services.authFailures.hit(ip);
  }

  private touch(id: VerifierId): void {
    const now = Date.now();
    const last = this.lastTouched.get(id);
    if (last !== undefined && now - last < LAST_USED_EVERY_MS) return;
    this.lastTouched.set(id, now);
    const { store, clock } = this.services.deps;
    store.verifiers.touchLastUsed(id, clock.now()).catch(() => this.lastTouched.delete(id));
  }

  private async find(id: VerifierId): Promise<VerifierRecord | null> {
    const cached = this.services.deps.bus.healthy === false ? undefined : this.records.get(id);
    if (cached) return cached.record;
    const epoch = this.epoch;
    const record = await this.services.deps.store.verifiers.findForVerification(id);
    if (epoch === this.epoch) this.records.set(id, { record });
    return record;
  }
}
