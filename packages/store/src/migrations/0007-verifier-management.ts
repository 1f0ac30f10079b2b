import type { Kysely, Migration } from 'kysely';

/**
 * Verifier credentials that can be rolled and watched (issue 12): the previous secret of a roll and
 * when it stops working, and when a server last accepted the credential.
 */
export const verifierManagementMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('verifiers').addColumn('previous_digest', 'text').execute();
    await db.schema.alterTable('verifiers').addColumn('previous_pepper_version', 'integer').execute();
    await db.schema.alterTable('verifiers').addColumn('previous_expires_at', 'bigint').execute();
    await db.schema.alterTable('verifiers').addColumn('last_used_at', 'bigint').execute();
  },
};
