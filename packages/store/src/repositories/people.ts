import type {
  Invitation,
  InvitationRepository,
  MemberRepository,
  MemberView,
  Membership,
  OrgId,
  OrgRepository,
  Organization,
  Session,
  SessionRepository,
  SigningAlgorithm,
  User,
  UserId,
  UserRepository,
  OrgRole,
  MembershipStatus,
} from '@keyward/core';
import type { Selectable } from 'kysely';
import { decodeCursor, pageFrom } from '../cursor.js';
import type { MembershipsTable, OrganizationsTable, UsersTable } from '../schema.js';
import { toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

function organization(row: Selectable<OrganizationsTable>): Organization {
  return {
    id: row.id as OrgId,
    name: row.name,
    createdAt: toDate(row.created_at),
    bootstrappedAt: toDateOrNull(row.bootstrapped_at),
    signingAlgorithm: row.signing_algorithm as SigningAlgorithm,
    accessTokenTtlSeconds: Number(row.access_token_ttl_seconds),
  };
}

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

function membership(row: Selectable<MembershipsTable>): Membership {
  return { orgId: row.org_id as OrgId, userId: row.user_id as UserId, role: row.role as OrgRole, status: row.status as MembershipStatus, createdAt: toDate(row.created_at) };
}

export function orgRepository({ db }: RepositoryContext): OrgRepository {
  return {
    async insert(org) {
      await db
        .insertInto('organizations')
        .values({
          id: org.id,
          name: org.name,
          created_at: toMs(org.createdAt),
          bootstrapped_at: toMsOrNull(org.bootstrappedAt),
          signing_algorithm: org.signingAlgorithm,
          access_token_ttl_seconds: org.accessTokenTtlSeconds,
        })
        .execute();
    },
    async findById(orgId) {
      const row = await db.selectFrom('organizations').selectAll().where('id', '=', orgId).executeTakeFirst();
      return row ? organization(row) : null;
    },
    async listForUser(userId) {
      const rows = await db
        .selectFrom('memberships')
        .innerJoin('organizations', 'organizations.id', 'memberships.org_id')
        .selectAll('organizations')
        .select(['memberships.role as member_role', 'memberships.created_at as member_since'])
        .where('memberships.user_id', '=', userId)
        .where('memberships.status', '=', 'active')
        .orderBy('memberships.created_at', 'asc')
        .orderBy('organizations.id', 'asc')
        .execute();
      return rows.map((row) => ({ org: organization(row), role: row.member_role as OrgRole }));
    },
    async markBootstrapped(orgId, at) {
      const result = await db
        .updateTable('organizations')
        .set({ bootstrapped_at: toMs(at) })
        .where('id', '=', orgId)
        .where('bootstrapped_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async update(orgId, patch) {
      const values: Partial<OrganizationsTable> = {};
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.signingAlgorithm !== undefined) values.signing_algorithm = patch.signingAlgorithm;
      if (patch.accessTokenTtlSeconds !== undefined) values.access_token_ttl_seconds = patch.accessTokenTtlSeconds;
      if (Object.keys(values).length === 0) return;
      await db.updateTable('organizations').set(values).where('id', '=', orgId).execute();
    },
    async count() {
      const row = await db.selectFrom('organizations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export function userRepository({ db }: RepositoryContext): UserRepository {
  return {
    async insert(u) {
      await db
        .insertInto('users')
        .values({ id: u.id, email: u.email.toLowerCase(), name: u.name, password_hash: u.passwordHash, created_at: toMs(u.createdAt), disabled_at: toMsOrNull(u.disabledAt) })
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
  };
}

export function sessionRepository({ db }: RepositoryContext): SessionRepository {
  const session = (row: { id: string; user_id: string; token_digest: string; created_at: number; expires_at: number; revoked_at: number | null }): Session => ({
    id: row.id as Session['id'],
    userId: row.user_id as UserId,
    tokenDigest: row.token_digest,
    createdAt: toDate(row.created_at),
    expiresAt: toDate(row.expires_at),
    revokedAt: toDateOrNull(row.revoked_at),
  });
  return {
    async insert(s) {
      await db
        .insertInto('sessions')
        .values({ id: s.id, user_id: s.userId, token_digest: s.tokenDigest, created_at: toMs(s.createdAt), expires_at: toMs(s.expiresAt), revoked_at: toMsOrNull(s.revokedAt) })
        .execute();
    },
    async findByDigest(tokenDigest) {
      const row = await db.selectFrom('sessions').selectAll().where('token_digest', '=', tokenDigest).executeTakeFirst();
      return row ? session(row) : null;
    },
    async revoke(sessionId, at) {
      await db.updateTable('sessions').set({ revoked_at: toMs(at) }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
    },
  };
}

export function memberRepository({ db, dialect }: RepositoryContext): MemberRepository {
  const view = (row: Selectable<MembershipsTable> & { email: string; name: string | null }): MemberView => ({ ...membership(row), email: row.email, name: row.name });
  const selectView = () =>
    db.selectFrom('memberships').innerJoin('users', 'users.id', 'memberships.user_id').selectAll('memberships').select(['users.email', 'users.name']);
  return {
    async insert(m) {
      await db
        .insertInto('memberships')
        .values({ org_id: m.orgId, user_id: m.userId, role: m.role, status: m.status, created_at: toMs(m.createdAt) })
        .execute();
    },
    async find(orgId, userId) {
      const row = await db.selectFrom('memberships').selectAll().where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst();
      return row ? membership(row) : null;
    },
    async findForUpdate(orgId, userId) {
      let query = db.selectFrom('memberships').selectAll().where('org_id', '=', orgId).where('user_id', '=', userId);
      if (dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? membership(row) : null;
    },
    async findView(orgId, userId) {
      const row = await selectView().where('memberships.org_id', '=', orgId).where('memberships.user_id', '=', userId).executeTakeFirst();
      return row ? view(row) : null;
    },
    async list(orgId, page) {
      let query = selectView().where('memberships.org_id', '=', orgId);
      if (page.cursor) {
        const [createdAt, userId] = decodeCursor(page.cursor, ['number', 'string']) as [number, string];
        query = query.where((eb) =>
          eb.or([eb('memberships.created_at', '>', createdAt), eb.and([eb('memberships.created_at', '=', createdAt), eb('memberships.user_id', '>', userId)])]),
        );
      }
      const rows = await query.orderBy('memberships.created_at', 'asc').orderBy('memberships.user_id', 'asc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, view, (row) => [Number(row.created_at), row.user_id]);
    },
    async update(orgId, userId, patch) {
      const values: Partial<MembershipsTable> = {};
      if (patch.role !== undefined) values.role = patch.role;
      if (patch.status !== undefined) values.status = patch.status;
      if (Object.keys(values).length === 0) return;
      await db.updateTable('memberships').set(values).where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    },
    async delete(orgId, userId) {
      await db.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    },
    async countActiveOwners(orgId) {
      const row = await db
        .selectFrom('memberships')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('org_id', '=', orgId)
        .where('role', '=', 'OWNER')
        .where('status', '=', 'active')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

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
          created_by_user_id: inv.createdByUserId,
          created_at: toMs(inv.createdAt),
        })
        .execute();
    },
    async findByDigest(tokenDigest) {
      const row = await db.selectFrom('invitations').selectAll().where('token_digest', '=', tokenDigest).executeTakeFirst();
      if (!row) return null;
      return {
        id: row.id as Invitation['id'],
        orgId: row.org_id as OrgId,
        userId: row.user_id as UserId,
        email: row.email,
        role: row.role as OrgRole,
        tokenDigest: row.token_digest,
        expiresAt: toDate(row.expires_at),
        acceptedAt: toDateOrNull(row.accepted_at),
        createdByUserId: row.created_by_user_id as UserId | null,
        createdAt: toDate(row.created_at),
      };
    },
    async markAccepted(invitationId, at) {
      const result = await db.updateTable('invitations').set({ accepted_at: toMs(at) }).where('id', '=', invitationId).where('accepted_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async deleteForUser(orgId, userId) {
      await db.deleteFrom('invitations').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    },
  };
}
