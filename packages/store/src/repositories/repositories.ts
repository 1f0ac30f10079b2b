import type { Repositories } from '@keyward/core';
import type SqliteDatabase from 'better-sqlite3';
import type { Dialect } from '../connect.js';
import { auditRepository } from './audit-repository.js';
import type { Db } from './db.js';
import { expiryNoticeRepository, leaseRepository } from './expiry-notice-repository.js';
import { invalidationRepository } from './invalidation-repository.js';
import { invitationRepository } from './invitation-repository.js';
import { keyRepository } from './key-repository.js';
import { memberRepository } from './member-repository.js';
import { metaRepository } from './meta-repository.js';
import { orgRepository } from './org-repository.js';
import { passwordResetRepository } from './password-reset-repository.js';
import { policyRepository } from './policy-repository.js';
import { projectRepository } from './project-repository.js';
import { revokedTokenRepository } from './revoked-token-repository.js';
import { roleBindingRepository } from './role-binding-repository.js';
import { sessionRepository } from './session-repository.js';
import { signingKeyRepository } from './signing-key-repository.js';
import { teamRepository } from './team-repository.js';
import { usageRepository } from './usage-repository.js';
import { userRepository } from './user-repository.js';
import { verifierRepository } from './verifier-repository.js';
import { webhookRepository } from './webhook-repository.js';

/** Every repository over one Kysely handle: the database, or one transaction on it. */
export function repositories(
  db: Db,
  dialect: Dialect,
  origin: string,
  sqlite: SqliteDatabase.Database | null = null,
  sqliteReader: SqliteDatabase.Database | null = null,
): Repositories {
  const ctx = { db, dialect, sqlite, sqliteReader: db.isTransaction ? null : sqliteReader };
  return {
    orgs: orgRepository(ctx),
    policies: policyRepository(ctx),
    users: userRepository(ctx),
    sessions: sessionRepository(ctx),
    passwordResets: passwordResetRepository(ctx),
    members: memberRepository(ctx),
    invitations: invitationRepository(ctx),
    teams: teamRepository(ctx),
    projects: projectRepository(ctx),
    bindings: roleBindingRepository(ctx),
    keys: keyRepository(ctx),
    audit: auditRepository(ctx),
    verifiers: verifierRepository(ctx),
    signingKeys: signingKeyRepository(ctx),
    usage: usageRepository(ctx),
    meta: metaRepository(ctx),
    revokedTokens: revokedTokenRepository(ctx),
    invalidations: invalidationRepository(ctx, origin),
    webhooks: webhookRepository(ctx),
    expiryNotices: expiryNoticeRepository(ctx),
    leases: leaseRepository(ctx),
  };
}
