import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Indexes for access paths the first schema served by scans or sorts: the case-insensitive email
 * lookup (emails are stored lowercased, and the expression index keeps two spellings of one address
 * out even if a writer forgets), members oldest first, the audit filter by action, projects by team.
 */
export const accessPathsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('users_email_lower').on('users').unique().expression(sql`lower(email)`).execute();
    await db.schema.createIndex('memberships_org_created').on('memberships').columns(['org_id', 'created_at', 'user_id']).execute();
    await db.schema.createIndex('audit_log_org_action').on('audit_log').columns(['org_id', 'action', 'seq']).execute();
    await db.schema.createIndex('projects_org_team').on('projects').columns(['org_id', 'team_id']).execute();
    await db.schema.createIndex('api_keys_org_creator').on('api_keys').columns(['org_id', 'created_by_user_id']).execute();
  },
};
