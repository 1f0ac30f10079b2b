import { performance } from 'node:perf_hooks';
import type { CacheBus, Clock } from '../ports.js';
import { retirementDueAt } from './signing-key-lifecycle.js';
import type { SigningKeyRecord } from './signing-key.js';

/** A signing key that may be published, with its organization's token lifetime. */
export type PublishableSigningKey = Pick<SigningKeyRecord, 'id' | 'orgId' | 'state' | 'publicJwk' | 'createdAt' | 'deactivatedAt' | 'compromisedAt'> & {
  readonly accessTokenTtlSeconds: number;
};

/**
 * Every signing key of every organization in the states `next`, `current` or `previous`: the JWKS is
 * one document for the one issuer. A port, because listing across organizations is not a tenant query.
 */
export interface PublishableSigningKeySource {
  listPublishable(): Promise<PublishableSigningKey[]>;
}

/** The public members a JWK may carry, by key type; nothing else is ever published (RFC 7517 §4, R36). */
const publicMembers: Record<string, readonly string[]> = {
  EC: ['kty', 'crv', 'x', 'y'],
  RSA: ['kty', 'n', 'e'],
  OKP: ['kty', 'crv', 'x'],
};

/** The public JWK of a signing key with `kid`, `alg` and `use: sig`, and no private member. */
export function publicJwkOf(key: Pick<SigningKeyRecord, 'id' | 'publicJwk'>): Record<string, unknown> {
  const source = key.publicJwk;
  const members = publicMembers[String(source.kty)] ?? [];
  const out: Record<string, unknown> = {};
  for (const name of members) if (source[name] !== undefined) out[name] = source[name];
  out.kid = key.id;
  out.alg = source.alg;
  out.use = 'sig';
  return out;
}

/**
 * The JWKS document (`/.well-known/jwks.json`), serialized once and served from memory: the next
 * keys (published ahead of their first signature), the current keys, and previous keys until their
 * last token has expired. Compromised keys are never in it. Rotations drop it through the bus.
 */
export class JwksPublisher {
  private cached: { body: string; builtAtMs: number; validUntilMs: number } | null = null;
  private inflight: Promise<string> | null = null;
  private epoch = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: { source: PublishableSigningKeySource; clock: Clock; bus: CacheBus },
    private readonly options: { maxAgeMs: number } = { maxAgeMs: 5000 },
  ) {
    this.unsubscribe = deps.bus.subscribe((event) => {
      if (event.type === 'org' || event.type === 'all') this.drop();
    });
  }

  /** The serialized `{"keys":[...]}`. */
  document(): string | Promise<string> {
    const cached = this.cached;
    if (cached && this.deps.bus.healthy !== false) {
      const age = performance.now() - cached.builtAtMs;
      if (age < this.options.maxAgeMs && this.deps.clock.now().getTime() < cached.validUntilMs) return cached.body;
    }
    return this.build();
  }

  drop(): void {
    this.epoch++;
    this.cached = null;
    this.inflight = null;
  }

  close(): void {
    this.unsubscribe();
  }

  private build(): Promise<string> {
    if (this.inflight) return this.inflight;
    const startEpoch = this.epoch;
    const promise = this.deps.source.listPublishable().then(
      (keys) => {
        if (this.inflight === promise) this.inflight = null;
        const now = this.deps.clock.now().getTime();
        let validUntilMs = Number.POSITIVE_INFINITY;
        const published = keys
          .filter((key) => {
            if (key.compromisedAt || !['next', 'current', 'previous'].includes(key.state)) return false;
            const due = retirementDueAt(key, key.accessTokenTtlSeconds);
            if (!due) return true;
            if (due.getTime() <= now) return false;
            validUntilMs = Math.min(validUntilMs, due.getTime());
            return true;
          })
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
        const body = JSON.stringify({ keys: published.map(publicJwkOf) });
        if (this.epoch === startEpoch) this.cached = { body, builtAtMs: performance.now(), validUntilMs };
        return body;
      },
      (err: unknown) => {
        if (this.inflight === promise) this.inflight = null;
        throw err;
      },
    );
    this.inflight = promise;
    return promise;
  }
}
