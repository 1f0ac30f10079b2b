import type { IncomingMessage } from 'node:http';
import { authenticateVerifier, type VerifierActor, type VerifierId, type VerifierRecord } from '@keyward/core';
import { LRUCache } from 'lru-cache';
import type { Services } from '../services.js';
import { ApiError, unauthorized } from './api-error.js';
import { readCredential } from './credentials.js';

/**
 * Authenticates verifier credentials for `POST /api/keys/verify`, from the Fastify route and from
 * the fast lane alike. Records (and absences) are cached briefly: verifier credentials have no
 * revocation API, and a change in the database is honoured within the TTL.
 */
export class VerifierAuthenticator {
  private readonly records = new LRUCache<string, { record: VerifierRecord | null }>({ max: 10_000, ttl: 30_000 });
  private readonly limited: boolean;

  constructor(private readonly services: Pick<Services, 'deps' | 'authFailures' | 'config'>) {
    this.limited = services.config.authFailuresPerMinute > 0;
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
    if (!token) throw unauthorized('missing');
    const verifier = await authenticateVerifier(this.services.deps, token, (id) => this.find(id));
    if (!verifier) {
      await this.fail(ip);
      throw unauthorized('invalid', 'A verifier credential is required (keyward admin create-verifier).');
    }
    return verifier;
  }

  private async fail(ip: string): Promise<void> {
    if (this.limited) await this.services.authFailures.hit(ip);
  }

  private async find(id: VerifierId): Promise<VerifierRecord | null> {
    const cached = this.records.get(id);
    if (cached) return cached.record;
    const record = await this.services.deps.store.verifiers.findForVerification(id);
    this.records.set(id, { record });
    return record;
  }
}
