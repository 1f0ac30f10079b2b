import type { OrgId, PublishableSigningKey, PublishableSigningKeySource, SigningKeyId, SigningKeyState, Store } from '@keyward/core';
import type { KyselyStore } from '@keyward/store';

/**
 * The JWKS needs the published keys of every organization: one query across tenants, which the
 * store's tenant-scoped repositories do not offer. It reads the Kysely store's tables directly (the
 * one place the server does) and selects public columns only: never the private key ciphertext.
 * A store without a Kysely connection publishes no keys (offline verifiers then fail closed).
 */
export function publishableSigningKeysOf(store: Store): PublishableSigningKeySource {
  const connection = (store as Partial<KyselyStore>).connection;
  if (!connection) return { listPublishable: async () => [] };
  return {
    async listPublishable(): Promise<PublishableSigningKey[]> {
      const rows = await connection.db
        .selectFrom('signing_keys')
        .innerJoin('organizations', 'organizations.id', 'signing_keys.org_id')
        .select([
          'signing_keys.id as id',
          'signing_keys.org_id as org_id',
          'signing_keys.state as state',
          'signing_keys.public_jwk as public_jwk',
          'signing_keys.created_at as created_at',
          'signing_keys.deactivated_at as deactivated_at',
          'signing_keys.compromised_at as compromised_at',
          'organizations.access_token_ttl_seconds as ttl',
        ])
        .where('signing_keys.state', 'in', ['next', 'current', 'previous'])
        .where('signing_keys.compromised_at', 'is', null)
        .execute();
      return rows.map((row) => ({
        id: row.id as SigningKeyId,
        orgId: row.org_id as OrgId,
        state: row.state as SigningKeyState,
        publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
        createdAt: new Date(Number(row.created_at)),
        deactivatedAt: row.deactivated_at === null ? null : new Date(Number(row.deactivated_at)),
        compromisedAt: row.compromised_at === null ? null : new Date(Number(row.compromised_at)),
        accessTokenTtlSeconds: Number(row.ttl),
      }));
    },
  };
}
