import type { IncomingMessage } from 'node:http';
import { authenticateVerifier, type VerifierActor, type VerifierId, type VerifierRecord } from '@keyward/core';
import { LRUCache } from 'lru-cache';
import type { Services } from '../services.js';
import { ApiError, unauthorized } from './api-error.js';
import { readCredential } from './credentials.js';

/** How often a server writes a verifier credential's `lastUsedAt`, at most. */
const LAST_USED_EVERY_MS = 60_000;

/**
 * Authenticates verifier credentials for `POST /api/keys/verify`, from the Fastify route and from
 * the fast lane alike. Records (and absences) are cached; a revoke or roll (`keyward admin verifier`)
 * drops them on every instance through the invalidation log within a second, and while the log
 * cannot be read the cache is not trusted. `lastUsedAt` is written at most once a minute per
 * credential and instance, off the request's path.
 */
export class VerifierAuthenticator {
  private readonly records = new LRUCache<string, { record: VerifierRecord | null }>({ max: 10_000, ttl: 30_000 });
  private readonly lastTouched = new LRUCache<string, number>({ max: 10_000 });
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
    });
  }

  /** The verifier behind the request's one credential; throws 400, 401 or 429 as an `ApiError`. */
  async authenticate(raw: IncomingMessage, query: unknown, ip: string): Promise<VerifierActor> {
    if (this.limited) {
      const state = await this.services.authFailures.check(ip);
      if (state.limited) {
        throw new ApiError(429, 'rate_limited', 'Too many failed authentication attempts from this address; try again later.', {}, {
          'retry-after': String(state.retryAfterSeconds),
        });
      }
    }
    let token: string | undefined;
    try {
      token = readCredential(raw, query, { allowQuery: false, cookieToken: undefined })?.token;
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 401) await this.fail(ip);
      throw err;
    }
    if (!token) throw unauthorized('missing', 'A verifier credential is required: send it as Authorization: Bearer kwv_… (keyward admin verifier create).');
    const verifier = await authenticateVerifier(this.services.deps, token, (id) => this.find(id));
    if (!verifier) {
      await this.fail(ip);
      throw unauthorized('invalid', 'A verifier credential is required (keyward admin create-verifier).');
    }
    this.touch(verifier.verifierId);
    return verifier;
  }

  private async fail(ip: string): Promise<void> {
    if (this.limited) await this.services.authFailures.hit(ip);
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
