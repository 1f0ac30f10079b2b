import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SingleFlightCache } from '../cache/single-flight-cache.js';
import type { OrgId, SigningKeyId } from '../ids.js';
import type { SigningAlgorithm } from '../orgs/organization.js';
import type { CacheBus, Clock, Invalidation, Store } from '../ports.js';
import { decryptSecret } from './key-encryption.js';
import { isPublishedAt, retirementDueAt } from './signing-key-lifecycle.js';
import type { SigningKeyRecord, SigningKeyState } from './signing-key.js';

/** A published key, ready to check signatures. */
export interface VerificationKey {
  readonly kid: SigningKeyId;
  readonly orgId: OrgId;
  readonly algorithm: SigningAlgorithm;
  readonly state: SigningKeyState;
  readonly publicKey: KeyObject;
  /** A previous key stops verifying at this instant (its last token has expired); null otherwise. */
  readonly retiresAt: Date | null;
}

/** The current key of an organization, decrypted, with its encoded JWS header. */
export interface Signer {
  readonly kid: SigningKeyId;
  readonly algorithm: SigningAlgorithm;
  readonly privateKey: KeyObject;
  /** base64url of `{"alg","typ":"at+jwt","kid"}`, computed once per key. */
  readonly encodedHeader: string;
}

/** What the ring knows about one organization. */
export interface OrgKeySet {
  readonly orgId: OrgId;
  readonly bootstrapped: boolean;
  readonly accessTokenTtlSeconds: number;
  readonly signer: Signer | null;
  /** The keys that verify tokens: current, and previous keys within their window. Never next, retired or compromised. */
  readonly keys: ReadonlyMap<string, VerificationKey>;
  /** Ids of compromised keys: tokens they signed are refused with a reason rather than as unknown. */
  readonly compromised: ReadonlySet<string>;
}

export interface SigningKeyRingDeps {
  readonly store: Pick<Store, 'orgs' | 'signingKeys'>;
  readonly clock: Clock;
  readonly bus: CacheBus;
  readonly encryptionKey: Buffer;
}

export interface SigningKeyRingOptions {
  /**
   * How long a loaded key set is trusted without asking the store again. Invalidations from this and
   * other instances drop a set at once; this bounds how late a rotation made by an operator command
   * (which has no bus) is seen. 0 reads the store every time.
   */
  readonly maxAgeMs: number;
}

/**
 * Each organization's signing keys in memory: the current key decrypted once (signing must not pay
 * an AES-GCM decryption and a key import per token), and the published public keys. A rotation on any
 * instance publishes an `org` invalidation, which drops the set here; decrypted private keys are kept
 * only for the key that currently signs.
 */
export class SigningKeyRing {
  /** Bounded: tokens naming unknown organizations must not grow it without end. */
  private readonly sets: SingleFlightCache<OrgId, OrgKeySet>;
  private readonly privateKeys = new Map<string, { orgId: OrgId; key: KeyObject }>();
  private readonly publicKeys = new Map<string, KeyObject>();
  private readonly load = (orgId: OrgId): Promise<OrgKeySet> => this.read(orgId);
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: SigningKeyRingDeps,
    options: SigningKeyRingOptions = { maxAgeMs: 5000 },
  ) {
    this.sets = new SingleFlightCache({
      maxEntries: 10_000,
      ttlMs: options.maxAgeMs,
      // maxAgeMs 0: every call reads the store (concurrent ones still share the read).
      ...(options.maxAgeMs > 0 ? {} : { ttlFor: () => 0 }),
      trusted: () => deps.bus.healthy !== false,
    });
    this.unsubscribe = deps.bus.subscribe((event) => this.invalidate(event));
  }

  /** The organization's key set, from memory when fresh enough. */
  keySet(orgId: OrgId): OrgKeySet | Promise<OrgKeySet> {
    return this.sets.get(orgId, this.load);
  }

  invalidate(event: Invalidation): void {
    if (event.type === 'all') this.sets.invalidate();
    else if (event.type === 'org') this.sets.invalidate(event.orgId);
  }

  close(): void {
    this.unsubscribe();
    this.sets.invalidate();
    this.privateKeys.clear();
    this.publicKeys.clear();
  }

  private async read(orgId: OrgId): Promise<OrgKeySet> {
    const [org, records] = await Promise.all([this.deps.store.orgs.findById(orgId), this.deps.store.signingKeys.listForOrg(orgId)]);
    const ttl = org?.accessTokenTtlSeconds ?? 0;
    const now = this.deps.clock.now();
    const keys = new Map<string, VerificationKey>();
    const compromised = new Set<string>();
    let signer: Signer | null = null;
    for (const record of records) {
      if (record.compromisedAt) compromised.add(record.id);
      if (record.state === 'next' || !isPublishedAt(record, now, ttl)) continue;
      keys.set(record.id, {
        kid: record.id,
        orgId,
        algorithm: record.algorithm,
        state: record.state,
        publicKey: this.publicKeyOf(record),
        retiresAt: retirementDueAt(record, ttl),
      });
      if (record.state === 'current' && !signer) signer = this.signerOf(record);
    }
    // A decrypted private key is kept only while its key signs: a rotation drops it.
    for (const [kid, held] of this.privateKeys) {
      if (held.orgId === orgId && kid !== signer?.kid) this.privateKeys.delete(kid);
    }
    return { orgId, bootstrapped: org?.bootstrappedAt != null, accessTokenTtlSeconds: ttl, signer, keys, compromised };
  }

  private publicKeyOf(record: SigningKeyRecord): KeyObject {
    let key = this.publicKeys.get(record.id);
    if (!key) {
      key = createPublicKey({ key: record.publicJwk as JsonWebKey, format: 'jwk' });
      this.publicKeys.set(record.id, key);
    }
    return key;
  }

  private signerOf(record: SigningKeyRecord): Signer {
    let privateKey = this.privateKeys.get(record.id)?.key;
    if (!privateKey) {
      const jwk = JSON.parse(decryptSecret(this.deps.encryptionKey, record.privateKeyCiphertext, `${record.orgId}/${record.id}`)) as JsonWebKey;
      privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
      this.privateKeys.set(record.id, { orgId: record.orgId, key: privateKey });
    }
    const header = JSON.stringify({ alg: record.algorithm, typ: 'at+jwt', kid: record.id });
    return { kid: record.id, algorithm: record.algorithm, privateKey, encodedHeader: Buffer.from(header).toString('base64url') };
  }
}
