import type { RevokedTokenRepository } from '@keyward/core';
import { toMs, type RepositoryContext } from './db.js';

/** The deny list of access-token ids (`jti`), kept until the token would have expired anyway. */
export function revokedTokenRepository({ db }: RepositoryContext): RevokedTokenRepository {
  return {
    async insert(entry) {
      await db
        .insertInto('revoked_tokens')
        .values({ jti: entry.jti, org_id: entry.orgId, key_id: entry.keyId, expires_at: toMs(entry.expiresAt) })
        .onConflict((oc) => oc.column('jti').doNothing())
        .execute();
    },
    async isRevoked(jti) {
      const row = await db.selectFrom('revoked_tokens').select('jti').where('jti', '=', jti).executeTakeFirst();
      return row !== undefined;
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom('revoked_tokens').where('expires_at', '<=', toMs(now)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
