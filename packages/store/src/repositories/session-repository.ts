import type { Session, SessionRepository, UserId } from '@keyward/core';
import type { Selectable } from 'kysely';
import type { SessionsTable } from '../schema.js';
import { toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

const session = (row: Selectable<SessionsTable>): Session => ({
  id: row.id as Session['id'],
  userId: row.user_id as UserId,
  tokenDigest: row.token_digest,
  createdAt: toDate(row.created_at),
  expiresAt: toDate(row.expires_at),
  revokedAt: toDateOrNull(row.revoked_at),
});

/** Console sessions, found by the digest of their token (never by the token itself). */
export function sessionRepository({ db }: RepositoryContext): SessionRepository {
  return {
    async insert(s) {
      await db
        .insertInto('sessions')
        .values({
          id: s.id,
          user_id: s.userId,
          token_digest: s.tokenDigest,
          created_at: toMs(s.createdAt),
          expires_at: toMs(s.expiresAt),
          revoked_at: toMsOrNull(s.revokedAt),
        })
        .execute();
    },
    async findByDigest(tokenDigest) {
      const row = await db.selectFrom('sessions').selectAll().where('token_digest', '=', tokenDigest).executeTakeFirst();
      return row ? session(row) : null;
    },
    async revoke(sessionId, at) {
      // The first revocation instant stands.
      await db.updateTable('sessions').set({ revoked_at: toMs(at) }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
    },
    async revokeAllForUser(userId, at, exceptSessionId) {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: toMs(at) })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', toMs(at));
      if (exceptSessionId) query = query.where('id', '!=', exceptSessionId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
