import type {
  ActorType,
  AuditEntry,
  AuditOutcome,
  AuditRepository,
  KeyId,
  MetaRepository,
  OrgId,
  RevokedTokenRepository,
  SigningAlgorithm,
  SigningKeyId,
  SigningKeyRecord,
  SigningKeyRepository,
  SigningKeyState,
  UsageBucket,
  UsageRepository,
  VerifierId,
  VerifierRepository,
} from '@keyward/core';
import { sql, type Selectable } from 'kysely';
import { decodeCursor, pageFrom } from '../cursor.js';
import type { AuditLogTable, SigningKeysTable } from '../schema.js';
import { json, parseJson, toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

const auditEntry = (row: Selectable<AuditLogTable>): AuditEntry => ({
  id: row.id as AuditEntry['id'],
  orgId: row.org_id as OrgId,
  at: toDate(row.at),
  actor: { type: row.actor_type as ActorType, id: row.actor_id, ...(row.actor_preview ? { preview: row.actor_preview } : {}) },
  action: row.action,
  targetType: row.target_type,
  targetId: row.target_id,
  ip: row.ip,
  outcome: row.outcome as AuditOutcome,
  requestId: row.request_id,
  details: parseJson<Record<string, unknown>>(row.details, {}),
});

export function auditRepository({ db }: RepositoryContext): AuditRepository {
  return {
    async append(entry) {
      await db
        .insertInto('audit_log')
        .values({
          id: entry.id,
          org_id: entry.orgId,
          at: toMs(entry.at),
          actor_type: entry.actor.type,
          actor_id: entry.actor.id,
          actor_preview: entry.actor.preview ?? null,
          action: entry.action,
          target_type: entry.targetType,
          target_id: entry.targetId,
          ip: entry.ip,
          outcome: entry.outcome,
          request_id: entry.requestId,
          details: json(entry.details),
        })
        .execute();
    },
    async list(orgId, filter, page) {
      let query = db.selectFrom('audit_log').selectAll().where('org_id', '=', orgId);
      if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
      if (filter.action) query = query.where('action', '=', filter.action);
      if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
      if (page.cursor) {
        const [seq] = decodeCursor(page.cursor, ['number']) as [number];
        query = query.where('seq', '<', seq);
      }
      const rows = await query.orderBy('seq', 'desc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, auditEntry, (row) => [Number(row.seq)]);
    },
  };
}

export function verifierRepository({ db }: RepositoryContext): VerifierRepository {
  return {
    async insert(v) {
      await db
        .insertInto('verifiers')
        .values({ id: v.id, name: v.name, org_id: v.orgId, digest: v.digest, pepper_version: v.pepperVersion, preview: v.preview, created_at: toMs(v.createdAt), revoked_at: toMsOrNull(v.revokedAt) })
        .execute();
    },
    async findForVerification(verifierId) {
      const row = await db.selectFrom('verifiers').selectAll().where('id', '=', verifierId).executeTakeFirst();
      if (!row) return null;
      return {
        id: row.id as VerifierId,
        name: row.name,
        orgId: row.org_id as OrgId | null,
        digest: row.digest,
        pepperVersion: Number(row.pepper_version),
        preview: row.preview,
        createdAt: toDate(row.created_at),
        revokedAt: toDateOrNull(row.revoked_at),
      };
    },
  };
}

const signingKey = (row: Selectable<SigningKeysTable>): SigningKeyRecord => ({
  id: row.id as SigningKeyId,
  orgId: row.org_id as OrgId,
  algorithm: row.algorithm as SigningAlgorithm,
  state: row.state as SigningKeyState,
  publicJwk: parseJson<Record<string, unknown>>(row.public_jwk, {}),
  privateKeyCiphertext: row.private_key_ciphertext,
  createdAt: toDate(row.created_at),
  publishedAt: toDate(row.published_at),
  activatedAt: toDateOrNull(row.activated_at),
  deactivatedAt: toDateOrNull(row.deactivated_at),
  retiredAt: toDateOrNull(row.retired_at),
  compromisedAt: toDateOrNull(row.compromised_at),
});

export function signingKeyRepository({ db }: RepositoryContext): SigningKeyRepository {
  return {
    async insert(k) {
      await db
        .insertInto('signing_keys')
        .values({
          id: k.id,
          org_id: k.orgId,
          algorithm: k.algorithm,
          state: k.state,
          public_jwk: json(k.publicJwk),
          private_key_ciphertext: k.privateKeyCiphertext,
          created_at: toMs(k.createdAt),
          published_at: toMs(k.publishedAt),
          activated_at: toMsOrNull(k.activatedAt),
          deactivated_at: toMsOrNull(k.deactivatedAt),
          retired_at: toMsOrNull(k.retiredAt),
          compromised_at: toMsOrNull(k.compromisedAt),
        })
        .execute();
    },
    async listForOrg(orgId) {
      const rows = await db.selectFrom('signing_keys').selectAll().where('org_id', '=', orgId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(signingKey);
    },
    async findById(orgId, signingKeyId) {
      const row = await db.selectFrom('signing_keys').selectAll().where('org_id', '=', orgId).where('id', '=', signingKeyId).executeTakeFirst();
      return row ? signingKey(row) : null;
    },
    async update(orgId, signingKeyId, patch) {
      const values: Partial<SigningKeysTable> = {};
      if (patch.state !== undefined) values.state = patch.state;
      if (patch.activatedAt !== undefined) values.activated_at = toMsOrNull(patch.activatedAt);
      if (patch.deactivatedAt !== undefined) values.deactivated_at = toMsOrNull(patch.deactivatedAt);
      if (patch.retiredAt !== undefined) values.retired_at = toMsOrNull(patch.retiredAt);
      if (patch.compromisedAt !== undefined) values.compromised_at = toMsOrNull(patch.compromisedAt);
      if (Object.keys(values).length === 0) return;
      await db.updateTable('signing_keys').set(values).where('org_id', '=', orgId).where('id', '=', signingKeyId).execute();
    },
  };
}

const intervalMs = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

export function usageRepository({ db }: RepositoryContext): UsageRepository {
  return {
    async add(increments) {
      const rows = increments.flatMap((inc) => {
        const base = { org_id: inc.orgId, key_id: inc.keyId, minute_start: toMs(inc.minuteStart) };
        const out = inc.valid > 0 ? [{ ...base, code: 'VALID', count: inc.valid }] : [];
        for (const [code, count] of Object.entries(inc.rejectedByCode)) if (count > 0) out.push({ ...base, code, count });
        return out;
      });
      // Chunks keep each statement under both dialects' bound-parameter limits.
      for (let i = 0; i < rows.length; i += 500) {
        await db
          .insertInto('usage')
          .values(rows.slice(i, i + 500))
          .onConflict((oc) => oc.columns(['key_id', 'minute_start', 'code']).doUpdateSet({ count: sql`usage.count + excluded.count` }))
          .execute();
      }
    },
    async buckets(orgId, keyId, from, to, interval) {
      const step = intervalMs[interval];
      const bucket = sql<number>`(minute_start - (minute_start % ${sql.lit(step)}))`;
      let query = db
        .selectFrom('usage')
        .select([bucket.as('bucket'), 'code', (eb) => eb.fn.sum<number>('count').as('total')])
        .where('org_id', '=', orgId)
        .where('minute_start', '>=', toMs(from))
        .where('minute_start', '<', toMs(to));
      if (keyId) query = query.where('key_id', '=', keyId);
      const rows = await query.groupBy([bucket, 'code']).orderBy(bucket).execute();
      const byStart = new Map<number, { -readonly [K in keyof UsageBucket]: UsageBucket[K] }>();
      for (const row of rows) {
        const start = Number(row.bucket);
        let b = byStart.get(start);
        if (!b) byStart.set(start, (b = { start: new Date(start), valid: 0, rejected: 0, rejectedByCode: {} }));
        const total = Number(row.total);
        if (row.code === 'VALID') b.valid += total;
        else {
          b.rejected += total;
          b.rejectedByCode[row.code] = (b.rejectedByCode[row.code] ?? 0) + total;
        }
      }
      return [...byStart.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
    },
    async topKeys(orgId, from, to, limit) {
      const rows = await db
        .selectFrom('usage')
        .select([
          'key_id',
          (eb) => eb.fn.sum<number>('count').as('total'),
          sql<number>`sum(case when code = 'VALID' then count else 0 end)`.as('valid'),
        ])
        .where('org_id', '=', orgId)
        .where('minute_start', '>=', toMs(from))
        .where('minute_start', '<', toMs(to))
        .groupBy('key_id')
        .orderBy('total', 'desc')
        .orderBy('key_id', 'asc')
        .limit(limit)
        .execute();
      return rows.map((row) => ({ keyId: row.key_id as KeyId, valid: Number(row.valid), rejected: Number(row.total) - Number(row.valid) }));
    },
  };
}

export function metaRepository({ db }: RepositoryContext): MetaRepository {
  return {
    async get(name) {
      const row = await db.selectFrom('meta').select('value').where('name', '=', name).executeTakeFirst();
      return row ? row.value : null;
    },
    async set(name, value) {
      await db.insertInto('meta').values({ name, value }).onConflict((oc) => oc.column('name').doUpdateSet({ value })).execute();
    },
    async setIfAbsent(name, value) {
      const result = await db.insertInto('meta').values({ name, value }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async delete(name) {
      const result = await db.deleteFrom('meta').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}

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
