import type { OrgId, VerifierId, VerifierRepository } from '@keyward/core';
import { toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

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
        })
        .execute();
    },
    async findForVerification(verifierId) {
      const row = await db.selectFrom('verifiers').selectAll().where('id', '=', verifierId).executeTakeFirst();
      if (!row) return null;
      return {
        id: row.id as VerifierId,
        name: row.name,
        orgId: row.org_id as OrgId | null,
        digest: row.digest,
        pepperVersion: Number(row.pepper_version),
        preview: row.preview,
        createdAt: toDate(row.created_at),
        revokedAt: toDateOrNull(row.revoked_at),
      };
    },
  };
}
