import type { ActorType, AuditEntry, AuditOutcome, AuditRepository, OrgId } from '@keyward/core';
import type { Selectable } from 'kysely';
import { decodeCursor, pageFrom } from '../cursor.js';
import type { AuditLogTable } from '../schema.js';
import { json, parseJson, toDate, toMs, type RepositoryContext } from './db.js';

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
 * The audit log: append-only (no method updates or deletes an entry, R43), ordered by an
 * autoincrement `seq` so that entries written in the same millisecond keep their commit order.
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
      if (page.cursor) query = query.where('seq', '<', decodeCursor(page.cursor, ['number'] as const)[0]);
      const rows = await query.orderBy('seq', 'desc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, auditEntry, (row) => [Number(row.seq)]);
    },
  };
}
