import { recordAuditFor, type AuditEvent } from '../audit/record-audit.js';
import type { AuditActor } from '../audit/audit-entry.js';
import type { RequestOrigin } from '../auth/actor.js';
import type { IdGenerator, UserId } from '../ids.js';
import type { Repositories } from '../ports.js';

/**
 * Records an event about a person's account (their password, their sessions) in every organization
 * where they are an active member: accounts are deployment-wide, the audit log is per organization,
 * and each of their organizations' owners should see it. A person in no organization leaves no entry
 * (no log to write it to). Runs through `tx`, so the entries commit with the change.
 */
export async function auditPersonEvent(
  tx: Pick<Repositories, 'orgs' | 'audit'>,
  ids: IdGenerator,
  subject: { userId: UserId; actor?: AuditActor; origin: RequestOrigin },
  at: Date,
  event: Omit<AuditEvent, 'targetType' | 'targetId'>,
): Promise<number> {
  const memberships = await tx.orgs.listForUser(subject.userId);
  const actor = subject.actor ?? { type: 'user' as const, id: subject.userId };
  for (const { org } of memberships) {
    await recordAuditFor(tx, ids, { orgId: org.id, actor, ip: subject.origin.ip, requestId: subject.origin.requestId }, at, {
      ...event,
      targetType: 'user',
      targetId: subject.userId,
    });
  }
  return memberships.length;
}
