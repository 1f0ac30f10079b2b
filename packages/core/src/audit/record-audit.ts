import { auditActorOf, type Actor, type SystemActor } from '../auth/actor.js';
import type { AuditEntryId, IdGenerator, OrgId } from '../ids.js';
import type { Repositories } from '../ports.js';
import type { AuditActor, AuditEntry, AuditOutcome } from './audit-entry.js';

export interface AuditEvent {
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string | null;
  readonly details?: Record<string, unknown>;
  readonly outcome?: AuditOutcome;
}

/** Entries this process has written, modulo 36^5: orders the ids of entries stamped in one millisecond. */
let written = 0;

/**
 * An audit entry's id: its instant (base-36 milliseconds), the order this process wrote it in, then a
 * random id. The log is listed by `(at, id)` (CONTRACT.md: ties by id), so entries of one instant, such
 * as the entries of one transaction or two quick requests of one caller, are listed in the order they
 * were written rather than at random. Upper-case base 36 and fixed widths sort the same in every
 * collation; the random part keeps ids of different processes apart.
 */
function auditIdAt(ids: IdGenerator, at: Date): AuditEntryId {
  written = (written + 1) % 36 ** 5;
  const instant = Math.max(0, at.getTime()).toString(36).toUpperCase().padStart(9, '0');
  const order = written.toString(36).toUpperCase().padStart(5, '0');
  return `aud_${instant}${order}${ids.next('aud').slice('aud_'.length)}`;
}

/** Who an entry is about when no authenticated actor stands behind it (a failed login, say). */
export interface AuditSubject {
  readonly orgId: OrgId;
  readonly actor: AuditActor;
  readonly ip: string | null;
  readonly requestId: string | null;
}

/**
 * Appends an audit entry through `tx`, so that it commits or rolls back with the change it records.
 * Details must never hold a secret: keys appear by id and preview only.
 */
export function recordAudit(
  tx: Pick<Repositories, 'audit'>,
  ids: IdGenerator,
  actor: Actor | SystemActor,
  at: Date,
  event: AuditEvent,
): Promise<AuditEntry> {
  return recordAuditFor(tx, ids, { orgId: actor.orgId, actor: auditActorOf(actor), ip: actor.ip, requestId: actor.requestId }, at, event);
}

/** `recordAudit` for an entry whose actor is given as the audit log shows it. */
export async function recordAuditFor(
  tx: Pick<Repositories, 'audit'>,
  ids: IdGenerator,
  subject: AuditSubject,
  at: Date,
  event: AuditEvent,
): Promise<AuditEntry> {
  const entry: AuditEntry = {
    id: auditIdAt(ids, at),
    orgId: subject.orgId,
    at,
    actor: subject.actor,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    ip: subject.ip,
    outcome: event.outcome ?? 'success',
    requestId: subject.requestId,
    details: event.details ?? {},
  };
  await tx.audit.append(entry);
  return entry;
}
