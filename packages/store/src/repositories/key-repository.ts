import type { ApiKeyRecord, Binding, KeyCredits, KeyId, KeyRepository, KeyType, OrgId, Permission, PermissionMode, ProjectId, RateLimit, RefillInterval, Scope, UserId } from '@keyward/core';
import type { Page, PageRequest } from '@keyward/core';
import { CompiledQuery, sql, type SelectQueryBuilder, type Selectable, type SqlBool } from 'kysely';
import type { ApiKeysTable, Database } from '../schema.js';
import { forUpdate, inTransaction, json, nameContains, parseJson, parseSharedJson, readOnReader, sharedString, toDate, toDateOrNull, toMs, toMsOrNull, yieldToEventLoop, type RepositoryContext } from './db.js';
import { preparedStatement } from '../sqlite-immediate-dialect.js';
import { afterId, afterValue, decodeKeyCursor, encodeKeyCursor, keyOrder, type KeyOrder, type KeyPosition } from './key-list-order.js';

/** Keys per `touchLastUsed` statement: 2 parameters each. */
const TOUCH_CHUNK = 500;

/** The shared empty list of a column that is null. */
const NONE: readonly never[] = Object.freeze([]);

export function apiKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id as KeyId,
    orgId: sharedString(row.org_id) as OrgId,
    keyType: sharedString(row.key_type) as KeyType,
    name: row.name,
    description: row.description,
    lookupId: row.lookup_id,
    secret: { digest: row.secret_digest, pepperVersion: Number(row.pepper_version) },
    previousSecret: row.previous_secret_digest ? { digest: row.previous_secret_digest, pepperVersion: Number(row.previous_pepper_version) } : null,
    previousSecretExpiresAt: toDateOrNull(row.previous_secret_expires_at),
    preview: row.preview,
    ownerUserId: sharedString(row.owner_user_id) as UserId | null,
    createdByUserId: row.created_by_user_id as UserId | null,
    createdByKeyId: row.created_by_key_id as KeyId | null,
    projectId: sharedString(row.project_id) as ProjectId | null,
    bindings: parseSharedJson<readonly Binding[]>(row.bindings, NONE),
    permissionMode: sharedString(row.permission_mode) as PermissionMode,
    permissions: parseSharedJson<readonly Permission[]>(row.permissions, NONE),
    scopes: parseSharedJson<readonly Scope[]>(row.scopes, NONE),
    allowedCidrs: parseSharedJson<readonly string[]>(row.allowed_cidrs, NONE),
    expiresAt: toDateOrNull(row.expires_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    revokedAt: toDateOrNull(row.revoked_at),
    revokedReason: sharedString(row.revoked_reason),
    disabledAt: toDateOrNull(row.disabled_at),
    rateLimits: parseSharedJson<readonly RateLimit[]>(row.rate_limits, NONE),
    credits: keyCredits(row),
  };
}

function keyCredits(row: Selectable<ApiKeysTable>): KeyCredits | null {
  if (row.credits_remaining === null) return null;
  const amount = row.credits_refill_amount;
  return {
    remaining: Number(row.credits_remaining),
    refill: amount !== null && row.credits_refill_interval ? { amount: Number(amount), interval: row.credits_refill_interval as RefillInterval } : null,
    version: Number(row.credits_version),
    period: Number(row.credits_period),
  };
}

/** The credits columns of a key record (all null for unlimited; the version is kept). */
function creditsColumns(credits: KeyCredits | null, version: number) {
  return {
    credits_remaining: credits?.remaining ?? null,
    credits_refill_amount: credits?.refill?.amount ?? null,
    credits_refill_interval: credits?.refill?.interval ?? null,
    credits_version: credits?.version ?? version,
    credits_period: credits?.period ?? 0,
  };
}

type KeyQuery = SelectQueryBuilder<Database, 'api_keys', Selectable<ApiKeysTable>>;

/**
 * One page of `query` in `order`, after the cursor's position. A nullable column is read as two runs:
 * the rows with a value, in order, then (once those are exhausted) the rows without one, by id; a
 * page may span both. Each run is one range read, so neither needs a sort of the whole list.
 */
async function listInOrder(query: KeyQuery, order: KeyOrder, page: PageRequest): Promise<Page<ApiKeyRecord>> {
  const position = page.cursor ? decodeKeyCursor(page.cursor, order) : null;
  const wanted = page.limit + 1;
  let rows: Selectable<ApiKeysTable>[] = [];
  if (!position || position.value !== null) {
    let valued = order.nullable ? query.where(order.column, 'is not', null) : query;
    if (position) valued = valued.where(afterValue(order, position));
    rows = await valued.orderBy(order.sortExpression, order.direction).orderBy('id', order.direction).limit(wanted).execute();
  }
  if (order.nullable && rows.length < wanted) {
    let empty = query.where(order.column, 'is', null);
    if (position?.value === null) empty = empty.where(afterId(order, position));
    rows = rows.concat(await empty.orderBy('id', order.direction).limit(wanted - rows.length).execute());
  }
  const pageRows = rows.slice(0, page.limit);
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(apiKey),
    nextCursor: rows.length > page.limit && last ? encodeKeyCursor(order, positionOf(order, last)) : null,
  };
}

function positionOf(order: KeyOrder, row: Selectable<ApiKeysTable>): KeyPosition {
  const value = row[order.column];
  if (value === null) return { value: null, id: row.id };
  return { value: order.kind === 'number' ? Number(value) : String(value), id: row.id };
}

/** One key's `lastUsedAt` on SQLite, never moved back: prepared once, run per key. */
const SQLITE_TOUCH = 'update api_keys set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)';

/** The verification lookups on SQLite's read-only connection (see `readOnReader`). */
const SQLITE_BY_LOOKUP_ID = 'select * from api_keys where lookup_id = ?';
const SQLITE_BY_DIGEST = 'select * from api_keys where secret_digest = ? or previous_secret_digest = ? limit 1';

/**
 * API keys. Methods that take an `orgId` filter by it in the statement itself; the `findForVerification…`
 * lookups establish the tenant from a presented key and are the only ones that do not.
 */
export function keyRepository({ db, dialect, sqlite, sqliteReader }: RepositoryContext): KeyRepository {
  let byLookupId: CompiledQuery | null = null;
  /** On the verification reader, when there is one and it could read. */
  const findByLookupIdNow = (lookupId: string): ApiKeyRecord | null | undefined => {
    const read = readOnReader<Selectable<ApiKeysTable>>(sqliteReader, SQLITE_BY_LOOKUP_ID, lookupId);
    return read === undefined ? undefined : read && apiKey(read);
  };
  return {
    async scanNamingPermissions(now, after, limit) {
      let query = db
        .selectFrom('api_keys')
        .select(['id', 'org_id', 'name', 'permission_mode', 'permissions', 'bindings'])
        .where('revoked_at', 'is', null)
        .where('disabled_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', toMs(now))]))
        .where((eb) => eb.or([eb('permission_mode', '=', 'restricted'), eb('bindings', 'like', '%"CUSTOM"%')]));
      if (after) query = query.where('id', '>', after);
      const rows = await query.orderBy('id').limit(limit).execute();
      return rows.map((row) => {
        const named = new Set<string>(row.permission_mode === 'restricted' ? parseJson<string[]>(row.permissions, []) : []);
        for (const binding of parseJson<Binding[]>(row.bindings, [])) for (const p of binding.permissions ?? []) named.add(p);
        return { id: row.id as KeyId, orgId: row.org_id as OrgId, name: row.name, permissions: [...named] };
      });
    },
    async insert(key) {
      await db
        .insertInto('api_keys')
        .values({
          id: key.id,
          org_id: key.orgId,
          key_type: key.keyType,
          name: key.name,
          name_lower: key.name.toLowerCase(),
          description: key.description,
          lookup_id: key.lookupId,
          secret_digest: key.secret.digest,
          pepper_version: key.secret.pepperVersion,
          previous_secret_digest: key.previousSecret?.digest ?? null,
          previous_pepper_version: key.previousSecret?.pepperVersion ?? null,
          previous_secret_expires_at: toMsOrNull(key.previousSecretExpiresAt),
          preview: key.preview,
          owner_user_id: key.ownerUserId,
          created_by_user_id: key.createdByUserId,
          created_by_key_id: key.createdByKeyId,
          project_id: key.projectId,
          bindings: json(key.bindings),
          permission_mode: key.permissionMode,
          permissions: json(key.permissions),
          scopes: json(key.scopes),
          allowed_cidrs: json(key.allowedCidrs),
          expires_at: toMsOrNull(key.expiresAt),
          last_used_at: toMsOrNull(key.lastUsedAt),
          created_at: toMs(key.createdAt),
          updated_at: toMs(key.updatedAt),
          revoked_at: toMsOrNull(key.revokedAt),
          revoked_reason: key.revokedReason,
          disabled_at: toMsOrNull(key.disabledAt),
          rate_limits: json(key.rateLimits),
          ...creditsColumns(key.credits, 0),
        })
        .execute();
    },
    async findById(orgId, keyId) {
      const row = await db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('id', '=', keyId).executeTakeFirst();
      return row ? apiKey(row) : null;
    },
    async findByIdForUpdate(orgId, keyId) {
      const row = await forUpdate(db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('id', '=', keyId), dialect).executeTakeFirst();
      return row ? apiKey(row) : null;
    },
    async creditsVersion(orgId, keyId) {
      const row = await db.selectFrom('api_keys').select('credits_version').where('org_id', '=', orgId).where('id', '=', keyId).executeTakeFirst();
      return row ? Number(row.credits_version) : 0;
    },
    async setCredits(orgId, keyId, credits, at) {
      await db
        .updateTable('api_keys')
        .set({ credits_remaining: credits.remaining, credits_version: credits.version, credits_period: credits.period, updated_at: toMs(at) })
        .where('org_id', '=', orgId)
        .where('id', '=', keyId)
        .where('credits_remaining', 'is not', null)
        .execute();
    },
    async spendCredits(spends) {
      for (const spend of spends) {
        // In a later refill period the amount starts over from the refill before this spending.
        const base = sql<number>`case when ${sql.ref('credits_period')} < ${spend.period} and ${sql.ref('credits_refill_amount')} is not null then ${sql.ref('credits_refill_amount')} else ${sql.ref('credits_remaining')} end`;
        await db
          .updateTable('api_keys')
          .set({
            credits_remaining: sql<number>`case when ${base} < ${spend.amount} then 0 else ${base} - ${spend.amount} end`,
            credits_period: sql<number>`case when ${sql.ref('credits_period')} < ${spend.period} then ${spend.period} else ${sql.ref('credits_period')} end`,
          })
          .where('id', '=', spend.keyId)
          .where('credits_version', '=', spend.version)
          .where('credits_period', '<=', spend.period)
          .where('credits_remaining', 'is not', null)
          .execute();
      }
    },
    // Only where a read at once is possible (a SQLite file, outside a transaction).
    ...(sqliteReader ? { findForVerificationByLookupIdNow: findByLookupIdNow } : {}),
    async findForVerificationByLookupId(lookupId) {
      const now = findByLookupIdNow(lookupId);
      if (now !== undefined) return now;
      // Compiled once per repository: a verification that misses the cache (an unknown key, every
      // time) skips building and compiling the query.
      byLookupId ??= db.selectFrom('api_keys').selectAll().where('lookup_id', '=', lookupId).compile();
      const { rows } = await db.executeQuery<Selectable<ApiKeysTable>>(CompiledQuery.raw(byLookupId.sql, [lookupId]));
      const row = rows[0];
      return row ? apiKey(row) : null;
    },
    async findForVerificationByDigest(digest) {
      const read = readOnReader<Selectable<ApiKeysTable>>(sqliteReader, SQLITE_BY_DIGEST, digest, digest);
      if (read !== undefined) return read ? apiKey(read) : null;
      const row = await db
        .selectFrom('api_keys')
        .selectAll()
        .where((eb) => eb.or([eb('secret_digest', '=', digest), eb('previous_secret_digest', '=', digest)]))
        .executeTakeFirst();
      return row ? apiKey(row) : null;
    },
    async list(orgId, filter, page) {
      const now = toMs(filter.now);
      let query = db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId);
      switch (filter.status) {
        case 'active':
          query = query
            .where('revoked_at', 'is', null)
            .where('disabled_at', 'is', null)
            .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
          break;
        case 'expired':
          query = query.where('revoked_at', 'is', null).where('disabled_at', 'is', null).where('expires_at', '<=', now);
          break;
        case 'revoked':
          query = query.where('revoked_at', 'is not', null);
          break;
        case 'disabled':
          query = query.where('revoked_at', 'is', null).where('disabled_at', 'is not', null);
          break;
        case 'all':
          break;
      }
      const q = filter.q;
      if (q) {
        query = query.where((eb) =>
          eb.or([
            nameContains('name_lower', q),
            eb('id', '=', q),
            // The preview ends with the token's last four characters, whatever the prefix was.
            ...(q.length === 4 ? [sql<SqlBool>`substr(${sql.ref('preview')}, length(${sql.ref('preview')}) - 3) = ${q}`] : []),
          ]),
        );
      }
      const digests = filter.secretDigests;
      if (digests) {
        query = digests.length
          ? query.where((eb) => eb.or([eb('secret_digest', 'in', digests), eb('previous_secret_digest', 'in', digests)]))
          : query.where(sql<SqlBool>`1 = 0`);
      }
      if (filter.keyType) query = query.where('key_type', '=', filter.keyType);
      if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
      if (filter.ownerUserId) query = query.where('owner_user_id', '=', filter.ownerUserId);
      const visibleTo = filter.visibleToUserId;
      if (visibleTo) {
        query = query.where((eb) => eb.or([eb('owner_user_id', '=', visibleTo), eb('key_type', '=', 'service')]));
      }
      return listInOrder(query, keyOrder(dialect, filter.sort), page);
    },
    async update(orgId, keyId, patch) {
      const values: Partial<ApiKeysTable> = { updated_at: toMs(patch.updatedAt) };
      if (patch.name !== undefined) {
        values.name = patch.name;
        values.name_lower = patch.name.toLowerCase();
      }
      if (patch.description !== undefined) values.description = patch.description;
      if (patch.expiresAt !== undefined) values.expires_at = toMsOrNull(patch.expiresAt);
      if (patch.bindings !== undefined) values.bindings = json(patch.bindings);
      if (patch.permissionMode !== undefined) values.permission_mode = patch.permissionMode;
      if (patch.permissions !== undefined) values.permissions = json(patch.permissions);
      if (patch.scopes !== undefined) values.scopes = json(patch.scopes);
      if (patch.allowedCidrs !== undefined) values.allowed_cidrs = json(patch.allowedCidrs);
      if (patch.rateLimits !== undefined) values.rate_limits = json(patch.rateLimits);
      if (patch.credits !== undefined) {
        // Unlimited keeps the version, so that the next credits' version is newer than any spent under.
        Object.assign(values, creditsColumns(patch.credits, patch.credits?.version ?? 0));
        if (patch.credits === null) delete values.credits_version;
      }
      await db.updateTable('api_keys').set(values).where('org_id', '=', orgId).where('id', '=', keyId).execute();
    },
    async setSecret(orgId, keyId, change) {
      await db
        .updateTable('api_keys')
        .set({
          secret_digest: change.secret.digest,
          pepper_version: change.secret.pepperVersion,
          previous_secret_digest: change.previousSecret?.digest ?? null,
          previous_pepper_version: change.previousSecret?.pepperVersion ?? null,
          previous_secret_expires_at: toMsOrNull(change.previousSecretExpiresAt),
          preview: change.preview,
          updated_at: toMs(change.updatedAt),
        })
        .where('org_id', '=', orgId)
        .where('id', '=', keyId)
        .execute();
    },
    async setRevoked(orgId, keyId, at, reason) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: toMs(at), revoked_reason: reason, updated_at: toMs(at) })
        .where('org_id', '=', orgId)
        .where('id', '=', keyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async disablePersonalKeysOf(orgId, userId, at) {
      const rows = await db
        .updateTable('api_keys')
        .set({ disabled_at: toMs(at), updated_at: toMs(at) })
        .where('org_id', '=', orgId)
        .where('owner_user_id', '=', userId)
        .where('key_type', '=', 'personal')
        .where('revoked_at', 'is', null)
        .where('disabled_at', 'is', null)
        .returning('id')
        .execute();
      return rows.map((row) => row.id as KeyId).sort();
    },
    async touchLastUsed(entries) {
      // The latest instant per key, then one statement per chunk, joining a VALUES list (both
      // dialects name its columns column1, column2):
      //   update api_keys set last_used_at = v.column2 from (values (id, ms), …) as v
      //   where api_keys.id = v.column1 and (last_used_at is null or last_used_at < v.column2)
      const latest = new Map<string, number>();
      for (const { keyId, at } of entries) latest.set(keyId, Math.max(latest.get(keyId) ?? Number.NEGATIVE_INFINITY, toMs(at)));
      const pairs = [...latest];
      if (sqlite) {
        // SQLite: one prepared statement run per key, inside a transaction (a usage flush touches thousands).
        await inTransaction(db, () => {
          const touch = preparedStatement(sqlite, SQLITE_TOUCH);
          for (const [id, ms] of pairs) touch.run(ms, id, ms);
        });
        return;
      }
      for (let i = 0; i < pairs.length; i += TOUCH_CHUNK) {
        if (i > 0) await yieldToEventLoop();
        const rows = sql.join(pairs.slice(i, i + TOUCH_CHUNK).map(([id, ms]) => sql`(${id}, cast(${ms} as bigint))`));
        await sql`update api_keys set last_used_at = v.column2 from (values ${rows}) as v
          where api_keys.id = v.column1 and (api_keys.last_used_at is null or api_keys.last_used_at < v.column2)`.execute(db);
      }
    },
    async countActiveForOwner(orgId, ownerUserId, now) {
      const row = await db
        .selectFrom('api_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('org_id', '=', orgId)
        .where('owner_user_id', '=', ownerUserId)
        .where('revoked_at', 'is', null)
        .where('disabled_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', toMs(now))]))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
