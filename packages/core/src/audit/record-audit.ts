import { auditActorOf, type Actor, type SystemActor } from '../auth/actor.js';
import type { IdGenerator } from '../ids.js';
import type { Repositories } from '../ports.js';
import type { AuditEntry, AuditOutcome } from './audit-entry.js';

export interface AuditEvent {
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string | null;
  readonly details?: Record<string, unknown>;
  readonly outcome?: AuditOutcome;
}

/**
 * Appends an audit entry through `tx`, so that it commits or rolls back with the change it records.
 * Details must never hold a secret: keys appear by id and preview only.
 */
export async function recordAudit(
  tx: Pick<Repositories, 'audit'>,
  ids: IdGenerator,
  actor: Actor | SystemActor,
  at: Date,
  event: AuditEvent,
): Promise<AuditEntry> {
  const entry: AuditEntry = {
    id: ids.next('aud'),
    orgId: actor.orgId,
    at,
    actor: auditActorOf(actor),
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    ip: actor.ip,
    outcome: event.outcome ?? 'success',
    requestId: actor.requestId,
    details: event.details ?? {},
  };
  await tx.audit.append(entry);
  return entry;
}
