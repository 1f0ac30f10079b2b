import type { User, UserId, UserRepository } from '@keyward/core';
import type { Selectable } from 'kysely';
import type { UsersTable } from '../schema.js';
import { toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

function user(row: Selectable<UsersTable>): User {
  return {
    id: row.id as UserId,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    createdAt: toDate(row.created_at),
    disabledAt: toDateOrNull(row.disabled_at),
  };
}

/** Users are deployment-wide (one login, many organizations); emails are stored lowercased. */
export function userRepository({ db }: RepositoryContext): UserRepository {
  return {
    async insert(u) {
      await db
        .insertInto('users')
        .values({
          id: u.id,
          email: u.email.toLowerCase(),
          name: u.name,
          password_hash: u.passwordHash,
          created_at: toMs(u.createdAt),
          disabled_at: toMsOrNull(u.disabledAt),
        })
        .execute();
    },
    async findById(userId) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
      return row ? user(row) : null;
    },
    async findByEmail(email) {
      const row = await db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
      return row ? user(row) : null;
    },
    async update(userId, patch) {
      const values: Partial<UsersTable> = {};
      if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.disabledAt !== undefined) values.disabled_at = toMsOrNull(patch.disabledAt);
      if (Object.keys(values).length === 0) return;
      await db.updateTable('users').set(values).where('id', '=', userId).execute();
    },
    async replacePasswordHash(userId, expectedHash, passwordHash) {
      const result = await db
        .updateTable('users')
        .set({ password_hash: passwordHash })
        .where('id', '=', userId)
        .where('password_hash', '=', expectedHash)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
