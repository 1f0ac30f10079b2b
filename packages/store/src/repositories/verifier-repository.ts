import type { OrgId, VerifierId, VerifierRecord, VerifierRepository } from '@keyward/core';
import type { Selectable } from 'kysely';
import type { VerifiersTable } from '../schema.js';
import { toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

function verifierOf(row: Selectable<VerifiersTable>): VerifierRecord {
  return {
    id: row.id as VerifierId,
    name: row.name,
    orgId: row.org_id as OrgId | null,
    digest: row.digest,
    pepperVersion: Number(row.pepper_version),
    preview: row.preview,
    createdAt: toDate(row.created_at),
    revokedAt: toDateOrNull(row.revoked_at),
    previousDigest: row.previous_digest,
    previousPepperVersion: row.previous_pepper_version === null ? null : Number(row.previous_pepper_version),
    previousExpiresAt: toDateOrNull(row.previous_expires_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
  };
}

/** Deployment-level verifier credentials, found by id: the lookup that establishes the principal. */
export function verifierRepository({ db }: RepositoryContext): VerifierRepository {
  return {
    async insert(v) {
      await db
        .insertInto('verifiers')
        .values({
          id: v.id,
          name: v.name,
          org_id: v.orgId,
          digest: v.digest,
          pepper_version: v.pepperVersion,
          preview: v.preview,
          created_at: toMs(v.createdAt),
          revoked_at: toMsOrNull(v.revokedAt),
          previous_digest: v.previousDigest,
          previous_pepper_version: v.previousPepperVersion,
          previous_expires_at: toMsOrNull(v.previousExpiresAt),
          last_used_at: toMsOrNull(v.lastUsedAt),
        })
        .execute();
    },
    async findForVerification(verifierId) {
      const row = await db.selectFrom('verifiers').selectAll().where('id', '=', verifierId).executeTakeFirst();
      return row ? verifierOf(row) : null;
    },
    async list() {
      const rows = await db.selectFrom('verifiers').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(verifierOf);
    },
    async setRevoked(verifierId, at) {
      const result = await db.updateTable('verifiers').set({ revoked_at: toMs(at) }).where('id', '=', verifierId).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async setSecret(verifierId, secret) {
      await db
        .updateTable('verifiers')
        .set({
          digest: secret.digest,
          pepper_version: secret.pepperVersion,
          preview: secret.preview,
          previous_digest: secret.previousDigest,
          previous_pepper_version: secret.previousPepperVersion,
          previous_expires_at: toMsOrNull(secret.previousExpiresAt),
        })
        .where('id', '=', verifierId)
        .execute();
    },
    async touchLastUsed(verifierId, at) {
      await db.updateTable('verifiers').set({ last_used_at: toMs(at) }).where('id', '=', verifierId).execute();
    },
  };
}
