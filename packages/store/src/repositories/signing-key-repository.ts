import type { OrgId, SigningAlgorithm, SigningKeyId, SigningKeyRecord, SigningKeyRepository, SigningKeyState } from '@keyward/core';
import type { Selectable } from 'kysely';
import type { SigningKeysTable } from '../schema.js';
import { json, parseJson, toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

const signingKey = (row: Selectable<SigningKeysTable>): SigningKeyRecord => ({
  id: row.id as SigningKeyId,
  orgId: row.org_id as OrgId,
  algorithm: row.algorithm as SigningAlgorithm,
  state: row.state as SigningKeyState,
  publicJwk: parseJson<Record<string, unknown>>(row.public_jwk, {}),
  privateKeyCiphertext: row.private_key_ciphertext,
  createdAt: toDate(row.created_at),
  publishedAt: toDate(row.published_at),
  activatedAt: toDateOrNull(row.activated_at),
  deactivatedAt: toDateOrNull(row.deactivated_at),
  retiredAt: toDateOrNull(row.retired_at),
  compromisedAt: toDateOrNull(row.compromised_at),
});

/** Token signing keys of each organization: every method is scoped by the organization. */
export function signingKeyRepository({ db }: RepositoryContext): SigningKeyRepository {
  return {
    async insert(k) {
      await db
        .insertInto('signing_keys')
        .values({
          id: k.id,
          org_id: k.orgId,
          algorithm: k.algorithm,
          state: k.state,
          public_jwk: json(k.publicJwk),
          private_key_ciphertext: k.privateKeyCiphertext,
          created_at: toMs(k.createdAt),
          published_at: toMs(k.publishedAt),
          activated_at: toMsOrNull(k.activatedAt),
          deactivated_at: toMsOrNull(k.deactivatedAt),
          retired_at: toMsOrNull(k.retiredAt),
          compromised_at: toMsOrNull(k.compromisedAt),
        })
        .execute();
    },
    async listForOrg(orgId) {
      const rows = await db.selectFrom('signing_keys').selectAll().where('org_id', '=', orgId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(signingKey);
    },
    async findById(orgId, signingKeyId) {
      const row = await db.selectFrom('signing_keys').selectAll().where('org_id', '=', orgId).where('id', '=', signingKeyId).executeTakeFirst();
      return row ? signingKey(row) : null;
    },
    async update(orgId, signingKeyId, patch) {
      const values: Partial<SigningKeysTable> = {};
      if (patch.state !== undefined) values.state = patch.state;
      if (patch.activatedAt !== undefined) values.activated_at = toMsOrNull(patch.activatedAt);
      if (patch.deactivatedAt !== undefined) values.deactivated_at = toMsOrNull(patch.deactivatedAt);
      if (patch.retiredAt !== undefined) values.retired_at = toMsOrNull(patch.retiredAt);
      if (patch.compromisedAt !== undefined) values.compromised_at = toMsOrNull(patch.compromisedAt);
      if (Object.keys(values).length === 0) return;
      await db.updateTable('signing_keys').set(values).where('org_id', '=', orgId).where('id', '=', signingKeyId).execute();
    },
  };
}
