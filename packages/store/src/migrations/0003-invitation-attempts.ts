import type { Kysely, Migration } from 'kysely';

/**
 * Counts the password checks spent on an invitation to an existing account, so that its token cannot
 * serve as an unlimited password oracle: at the limit the invitation is void (issue 10). Existing
 * invitations start at 0.
 */
export const invitationAttemptsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('invitations')
      .addColumn('password_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
