import type { PasswordReset, PasswordResetRepository, UserId } from '@keyward/core';
import type { Selectable } from 'kysely';
import type { PasswordResetsTable } from '../schema.js';
import { toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

const reset = (row: Selectable<PasswordResetsTable>): PasswordReset => ({
  tokenDigest: row.token_digest,
  userId: row.user_id as UserId,
  createdAt: toDate(row.created_at),
  expiresAt: toDate(row.expires_at),
  usedAt: toDateOrNull(row.used_at),
});

/** Password reset tokens, found by the digest of the token; spent by one conditional update. */
export function passwordResetRepository({ db }: RepositoryContext): PasswordResetRepository {
  return {
    async insert(r) {
      await db
        .insertInto('password_resets')
        .values({
          token_digest: r.tokenDigest,
          user_id: r.userId,
          created_at: toMs(r.createdAt),
          expires_at: toMs(r.expiresAt),
          used_at: toMsOrNull(r.usedAt),
        })
        .execute();
    },
    async findByDigest(tokenDigest) {
      const row = await db.selectFrom('password_resets').selectAll().where('token_digest', '=', tokenDigest).executeTakeFirst();
      return row ? reset(row) : null;
    },
    async markUsed(tokenDigest, at) {
      const result = await db
        .updateTable('password_resets')
        .set({ used_at: toMs(at) })
        .where('token_digest', '=', tokenDigest)
        .where('used_at', 'is', null)
        .where('expires_at', '>', toMs(at))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async voidForUser(userId, at) {
      const result = await db.updateTable('password_resets').set({ used_at: toMs(at) }).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
