import type { CoreDeps } from '../deps.js';
import { normalizeEmail } from '../users/password.js';
import { recordAuditFor } from './record-audit.js';

export interface FailedLogin {
  /** The email the login named, as typed. */
  readonly email: string;
  readonly ip: string | null;
  readonly requestId: string | null;
  /** Failed logins to the same account left out of the log since its last such entry. */
  readonly suppressedRepeats: number;
}

/**
 * Audits a failed login to an existing account (R42: authentication failures) as `auth.login_failed`,
 * outcome `failure`, in every organization the person is an active member of: their owners see
 * someone guessing. The actor is the account the login named, with the address it came from. An email
 * that names no account leaves no entry (no organization to tell). Callers run it after answering, so
 * that its work never tells an existing account from an unknown one by timing.
 */
export async function recordFailedLogin(deps: Pick<CoreDeps, 'store' | 'ids' | 'clock'>, failure: FailedLogin): Promise<void> {
  const user = await deps.store.users.findByEmail(normalizeEmail(failure.email));
  if (!user) return;
  const memberships = await deps.store.orgs.listForUser(user.id);
  if (memberships.length === 0) return;
  const at = deps.clock.now();
  const details = failure.suppressedRepeats > 0 ? { suppressedRepeats: failure.suppressedRepeats } : {};
  await deps.store.transaction(async (tx) => {
    for (const { org } of memberships) {
      await recordAuditFor(tx, deps.ids, { orgId: org.id, actor: { type: 'user', id: user.id }, ip: failure.ip, requestId: failure.requestId }, at, {
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: user.id,
        outcome: 'failure',
        details,
      });
    }
  });
}
