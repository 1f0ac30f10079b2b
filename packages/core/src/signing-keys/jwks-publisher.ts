import { SingleFlightCache } from '../cache/single-flight-cache.js';
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

/** The serialized document, and the instant (on the deps' clock) its first previous key retires. */
interface BuiltDocument {
  readonly body: string;
  readonly validUntilMs: number;
}

const documentName = 'jwks';
const bodyOf = (built: BuiltDocument): string => built.body;

/**
 * The JWKS document (`/.well-known/jwks.json`), serialized once and served from memory: the next
 * keys (published ahead of their first signature), the current keys, and previous keys until their
 * last token has expired. Compromised keys are never in it. Rotations drop it through the bus.
 */
export class JwksPublisher {
  private readonly built: SingleFlightCache<string, BuiltDocument>;
  private readonly build = (): Promise<BuiltDocument> => this.deps.source.listPublishable().then((keys) => this.serialize(keys));
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: { source: PublishableSigningKeySource; clock: Clock; bus: CacheBus },
    options: { maxAgeMs: number } = { maxAgeMs: 5000 },
  ) {
    this.built = new SingleFlightCache({
      maxEntries: 1,
      ttlMs: options.maxAgeMs,
      ...(options.maxAgeMs > 0 ? {} : { ttlFor: () => 0 }),
      trusted: () => deps.bus.healthy !== false,
    });
    this.unsubscribe = deps.bus.subscribe((event) => {
      if (event.type === 'org' || event.type === 'all') this.drop();
    });
  }

  /** The serialized `{"keys":[...]}`. */
  document(): string | Promise<string> {
    const cached = this.built.peek(documentName);
    if (cached !== undefined) {
      if (this.deps.clock.now().getTime() < cached.validUntilMs) return cached.body;
      // A previous key has retired since the document was built (the deps' clock, not the cache's, says when).
      this.built.invalidate(documentName);
    }
    const built = this.built.get(documentName, this.build);
    return built instanceof Promise ? built.then(bodyOf) : built.body;
  }

  drop(): void {
    this.built.invalidate();
  }

  close(): void {
    this.unsubscribe();
  }

  private serialize(keys: readonly PublishableSigningKey[]): BuiltDocument {
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
    return { body: JSON.stringify({ keys: published.map(publicJwkOf) }), validUntilMs };
  }
}
