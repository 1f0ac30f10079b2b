import { randomFillSync } from 'node:crypto';
import type { ProjectId } from '../ids.js';
import { digestsEqual, type PepperRing } from '../keys/key-digest.js';
import type { KeyVerdict } from '../keys/verify-key.js';
import type { VerdictSource } from '../keys/verdict-source.js';
import { allPermissions, type Permission, type PermissionCatalogue } from '../permissions/catalogue.js';
import type { Grant } from '../permissions/rights.js';
import type { Clock } from '../ports.js';
import type { SigningKeyRing } from '../signing-keys/signing-key-ring.js';
import { secretGeneration } from './access-token.js';
import { BatchSigner } from './batch-signer.js';
import { grantablePermissions, parseScope } from './token-scope.js';

export interface AccessTokenIssuerDeps {
  readonly ring: SigningKeyRing;
  readonly clock: Clock;
  readonly peppers: PepperRing;
  readonly catalogue: PermissionCatalogue;
  readonly source: Pick<VerdictSource, 'project'>;
  /** The issuer identifier: the public URL, byte for byte what the metadata says. */
  readonly issuer: string;
}

export interface TokenRequest {
  /** The client's key, verified from the presented secret (no permission asked). */
  readonly verified: Extract<KeyVerdict, { valid: true }>;
  /** The secret part of the presented key, to bind the token to the secret it was issued with. */
  readonly presentedSecret: string;
  /** The `scope` parameter, if given. */
  readonly scope?: string | undefined;
  /** `aud`: the public URL, or the resource the client named. */
  readonly audience: string;
}

export type IssuedToken =
  | { readonly ok: true; readonly accessToken: string; readonly expiresIn: number; readonly scope: string }
  | { readonly ok: false; readonly error: 'invalid_scope' | 'unauthorized_client'; readonly description: string };

const NO_OWNER: Grant[] = [];

/**
 * Issues RFC 9068 access tokens for verified keys. Nothing here touches the database in the steady
 * state: the signing key is decrypted once and held by the ring, the key's grantable permissions are
 * remembered per key and owner state, and `jti`s come from a pooled CSPRNG buffer.
 */
export class AccessTokenIssuer {
  private readonly order: Permission[];
  private readonly grantable = new WeakMap<readonly Grant[], WeakMap<readonly Grant[], Promise<Permission[]>>>();
  private readonly batch = new BatchSigner();
  private readonly issuerJson: string;
  private pool = Buffer.alloc(0);
  private poolOffset = 0;

  constructor(private readonly deps: AccessTokenIssuerDeps) {
    this.order = allPermissions(deps.catalogue);
    this.issuerJson = JSON.stringify(deps.issuer);
  }

  async issue(request: TokenRequest): Promise<IssuedToken> {
    const { key } = request.verified;
    if (key.keyType === 'project' || !key.lookupId) {
      return { ok: false, error: 'unauthorized_client', description: 'Legacy project keys cannot get access tokens; use a personal or service key.' };
    }
    const held = await this.grantableFor(request.verified);
    let scope: Permission[];
    let narrowed = false;
    if (request.scope !== undefined) {
      const asked = parseScope(this.deps.catalogue, request.scope);
      if ('problem' in asked) return { ok: false, error: 'invalid_scope', description: asked.problem };
      const holding = new Set(held);
      const beyond = asked.filter((p) => !holding.has(p));
      if (beyond.length > 0) {
        return { ok: false, error: 'invalid_scope', description: `The key does not hold ${beyond.join(', ')}; ask for a subset of its permissions.` };
      }
      scope = this.order.filter((p) => asked.includes(p));
      narrowed = true;
    } else {
      scope = held;
    }
    const pendingSet = this.deps.ring.keySet(key.orgId);
    const keySet = pendingSet instanceof Promise ? await pendingSet : pendingSet;
    const signer = keySet.signer;
    if (!signer) {
      return { ok: false, error: 'unauthorized_client', description: 'The organization has no signing key: bootstrap it first.' };
    }
    const iat = Math.floor(this.deps.clock.now().getTime() / 1000);
    const exp = iat + keySet.accessTokenTtlSeconds;
    const scopeText = scope.join(' ');
    const audience = request.audience === this.deps.issuer ? this.issuerJson : JSON.stringify(request.audience);
    // The claims of AccessTokenClaims, written out: ids, permissions, the generation tag and the jti
    // are base64url or [A-Za-z0-9_:], so only iss and aud need JSON escaping (done once for the issuer).
    const payload =
      `{"iss":${this.issuerJson},"sub":"${key.id}","aud":${audience},"iat":${iat},"exp":${exp},"jti":"${this.nextJti()}",` +
      `"client_id":"${key.id}","scope":"${scopeText}","org_id":"${key.orgId}","kw_gen":"${secretGeneration(this.matchingSecret(request))}"` +
      (narrowed ? ',"kw_narrowed":true}' : '}');
    const signingInput = `${signer.encodedHeader}.${Buffer.from(payload).toString('base64url')}`;
    const signature = await this.batch.sign(signer.algorithm, signer.privateKey, signingInput);
    return { ok: true, accessToken: `${signingInput}.${signature.toString('base64url')}`, expiresIn: keySet.accessTokenTtlSeconds, scope: scopeText };
  }

  /** The stored secret the client presented: the current one, or the previous one inside a roll's overlap. */
  private matchingSecret(request: TokenRequest) {
    const { key } = request.verified;
    const { peppers } = this.deps;
    if (!key.previousSecret || !peppers.has(key.secret.pepperVersion)) return key.secret;
    const presented = peppers.digest(request.presentedSecret, key.secret.pepperVersion);
    return digestsEqual(presented, Buffer.from(key.secret.digest, 'hex')) ? key.secret : key.previousSecret;
  }

  private grantableFor(verified: TokenRequest['verified']): Promise<Permission[]> {
    let byOwner = this.grantable.get(verified.grants);
    if (!byOwner) this.grantable.set(verified.grants, (byOwner = new WeakMap()));
    const owner = verified.ownerGrants ?? NO_OWNER;
    let list = byOwner.get(owner);
    if (!list) {
      const { orgId } = verified.key;
      list = grantablePermissions(verified, this.order, (projectId: ProjectId) => this.deps.source.project(orgId, projectId));
      list.catch(() => byOwner.delete(owner));
      byOwner.set(owner, list);
    }
    return list;
  }

  /** 128 random bits, base64url: drawn from a pooled CSPRNG buffer refilled 4 KiB at a time. */
  private nextJti(): string {
    if (this.poolOffset + 16 > this.pool.length) {
      this.pool = randomFillSync(Buffer.allocUnsafe(4096));
      this.poolOffset = 0;
    }
    const jti = this.pool.toString('base64url', this.poolOffset, this.poolOffset + 16);
    this.poolOffset += 16;
    return jti;
  }
}
