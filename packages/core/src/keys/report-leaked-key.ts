import { recordAuditFor } from '../audit/record-audit.js';
import { keyEventData, recordEvent } from '../webhooks/record-event.js';
import type { CoreDeps } from '../deps.js';
import type { KeyVerifier } from './verify-key.js';

/** The channel a leak report came through, the audit actor's id. */
export type LeakReporter = 'report_endpoint' | 'github_secret_scanning';

/**
 * A leaked key reported by anyone who holds it (a secret scanner, a colleague who found it in a
 * chat): the key is revoked at once with the reason `leaked`, and the audit log tells its owner and
 * admins where it was found. Holding a key is enough to report it, since holding it is enough to
 * abuse it. The caller learns nothing about the key either way (no oracle): the answer is the same.
 * The audit entry's actor is of type `leak_report`, its id the channel the report came through:
 * `report_endpoint` (`POST /api/keys/leaked`) or `github_secret_scanning` (GitHub's signed reports).
 */
export async function reportLeakedKey(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'bus'>,
  verifier: Pick<KeyVerifier, 'identifyKey'>,
  report: { token: string; source?: string | undefined; url?: string | undefined; reporter?: LeakReporter },
  origin: { ip: string | null; requestId: string | null },
): Promise<'revoked' | 'already_revoked' | 'unknown'> {
  const key = await verifier.identifyKey(report.token);
  if (!key) return 'unknown';
  if (key.revokedAt) return 'already_revoked';
  const revoked = await deps.store.transaction(async (tx) => {
    const now = deps.clock.now();
    if (!(await tx.keys.setRevoked(key.orgId, key.id, now, 'leaked'))) return false;
    const subject = { orgId: key.orgId, actor: { type: 'leak_report' as const, id: report.reporter ?? 'report_endpoint' }, ...origin };
    await recordAuditFor(tx, deps.ids, subject, now, {
      action: 'api_key.leaked',
      targetType: 'api_key',
      targetId: key.id,
      details: {
        name: key.name,
        preview: key.preview,
        ownerUserId: key.ownerUserId,
        source: report.source ?? null,
        url: report.url ?? null,
        revoked: true,
      },
    });
    const leaked = { ...key, revokedAt: now, revokedReason: 'leaked', updatedAt: now };
    await recordEvent(tx, deps.ids, now, key.orgId, 'api_key.leaked', keyEventData(leaked, subject.actor, now));
    await tx.invalidations.append({ type: 'key', orgId: key.orgId, keyId: key.id }, now);
    return true;
  });
  if (!revoked) return 'already_revoked';
  await deps.bus.publish({ type: 'key', orgId: key.orgId, keyId: key.id });
  return 'revoked';
}
