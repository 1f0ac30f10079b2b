import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../connect.js';
import { initialMigration } from './0001-initial.js';
import { accessPathsMigration } from './0002-access-paths.js';
import { invitationAttemptsMigration } from './0003-invitation-attempts.js';
import { auditOrderMigration } from './0004-audit-order.js';
import { invalidationLogMigration } from './0005-invalidation-log.js';
import { keyListOrdersMigration } from './0006-key-list-orders.js';
import { verifierManagementMigration } from './0007-verifier-management.js';
import { passwordResetsMigration } from './0008-password-resets.js';
import { organizationPolicyMigration } from './0009-organization-policy.js';
import { webhooksMigration } from './0010-webhooks.js';
import { expiryNoticesMigration } from './0011-expiry-notices.js';
import { keyLimitsMigration } from './0012-key-limits.js';
import { webhookFanOutMigration } from './0013-webhook-fan-out.js';
import { webhookOutboxMigration } from './0014-webhook-outbox.js';

/**
 * The schema's migrations, in order, for one dialect. They live in code rather than in files found
 * by globbing, so they run the same from `src/` and from `dist/`. Never edit a released migration:
 * add one.
 */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': initialMigration(dialect),
    '0002_access_paths': accessPathsMigration,
    '0003_invitation_attempts': invitationAttemptsMigration,
    '0004_audit_order': auditOrderMigration,
    '0005_invalidation_log': invalidationLogMigration(dialect),
    '0006_key_list_orders': keyListOrdersMigration(dialect),
    '0007_verifier_management': verifierManagementMigration,
    '0008_password_resets': passwordResetsMigration,
    '0009_organization_policy': organizationPolicyMigration,
    '0010_webhooks': webhooksMigration,
    '0011_expiry_notices': expiryNoticesMigration,
    '0012_key_limits': keyLimitsMigration,
    '0013_webhook_fan_out': webhookFanOutMigration,
    '0014_webhook_outbox': webhookOutboxMigration(dialect),
  };
}

/** A Kysely `MigrationProvider` over `migrations(dialect)`. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
