import type { Invitation, InvitationRepository, OrgId, OrgRole, UserId } from '@keyward/core';
import type { Selectable } from 'kysely';
import type { InvitationsTable } from '../schema.js';
import { toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

const invitation = (row: Selectable<InvitationsTable>): Invitation => ({
  id: row.id as Invitation['id'],
  orgId: row.org_id as OrgId,
  userId: row.user_id as UserId,
  email: row.email,
  role: row.role as OrgRole,
  tokenDigest: row.token_digest,
  expiresAt: toDate(row.expires_at),
  acceptedAt: toDateOrNull(row.accepted_at),
  passwordAttempts: Number(row.password_attempts),
  createdByUserId: row.created_by_user_id as UserId | null,
  createdAt: toDate(row.created_at),
});

/** Invitations, found by the digest of their token: the lookup that establishes the tenant. */
export function invitationRepository({ db }: RepositoryContext): InvitationRepository {
  return {
    async insert(inv) {
      await db
        .insertInto('invitations')
        .values({
          id: inv.id,
          org_id: inv.orgId,
          user_id: inv.userId,
          email: inv.email,
          role: inv.role,
          token_digest: inv.tokenDigest,
          expires_at: toMs(inv.expiresAt),
          accepted_at: toMsOrNull(inv.acceptedAt),
          password_attempts: inv.passwordAttempts,
          created_by_user_id: inv.createdByUserId,
          created_at: toMs(inv.createdAt),
        })
        .execute();
    },
    async findByDigest(tokenDigest) {
      const row = await db.selectFrom('invitations').selectAll().where('token_digest', '=', tokenDigest).executeTakeFirst();
      return row ? invitation(row) : null;
    },
    async markAccepted(invitationId, at) {
      const result = await db
        .updateTable('invitations')
        .set({ accepted_at: toMs(at) })
        .where('id', '=', invitationId)
        .where('accepted_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async spendPasswordAttempt(invitationId, limit) {
      // One conditional increment: the database serializes concurrent ones on the row, and each sees
      // the count the previous one left, so no more than `limit` ever succeed.
      const row = await db
        .updateTable('invitations')
        .set((eb) => ({ password_attempts: eb('password_attempts', '+', 1) }))
        .where('id', '=', invitationId)
        .where('accepted_at', 'is', null)
        .where('password_attempts', '<', limit)
        .returning('password_attempts')
        .executeTakeFirst();
      return row ? Number(row.password_attempts) : null;
    },
    async deleteForUser(orgId, userId) {
      await db.deleteFrom('invitations').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    },
  };
}
