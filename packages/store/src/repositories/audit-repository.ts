import type { ActorType, AuditEntry, AuditOutcome, AuditRepository, OrgId } from '@keyward/core';
import type { Selectable } from 'kysely';
import { pageFrom } from '../cursor.js';
import type { AuditLogTable } from '../schema.js';
import { afterPosition, json, parseJson, toDate, toMs, type RepositoryContext } from './db.js';

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

/**
 * The audit log: append-only (no method updates or deletes an entry, R43), listed newest first by
 * `(at, id)`: `at` never goes backwards down the list, whatever order concurrent writers committed
 * in (CONTRACT.md; the append sequence does not follow `at`, since an entry's instant is taken before
 * its transaction waits for the lock). Ties are broken by id, so a cursor is a position in one order.
 */
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
      if (page.cursor) query = query.where(afterPosition(page.cursor, 'at', 'id', 'desc'));
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, auditEntry, (row) => [Number(row.at), row.id]);
    },
  };
}
