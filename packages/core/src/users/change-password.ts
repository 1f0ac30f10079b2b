import type { RequestOrigin } from '../auth/actor.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError } from '../errors.js';
import { dummyPasswordHash, hashPassword, passwordProblem, verifyPassword } from './password.js';
import { auditPersonEvent } from './person-audit.js';
import type { Session, User } from './user.js';

export type ChangePasswordDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids'>;

export interface ChangePasswordInput {
  readonly currentPassword: string;
  readonly newPassword: string;
}

const wrongPassword = () => new DomainError('invalid_credentials', 'The current password is not correct.');

/**
 * A signed-in person changes their password, proving the current one. Their other sessions end (a
 * session someone else holds stops with the old password); the calling one stays. A pending reset
 * link stops working too. The new password follows the same rule as at setup (`passwordProblem`),
 * checked first: a weak one is refused without spending a password check.
 *
 * The hash is replaced only while it is still the one the current password was checked against, so
 * that a reset or another change committed meanwhile is never overwritten by someone who proved a
 * password that no longer holds.
 */
export async function changePassword(
  deps: ChangePasswordDeps,
  caller: { session: Session; user: User },
  input: ChangePasswordInput,
  origin: RequestOrigin,
): Promise<{ sessionsEnded: number }> {
  const problem = passwordProblem(input.newPassword);
  if (problem) throw new FieldError('newPassword', problem);
  const user = await deps.store.users.findById(caller.user.id);
  const checked = user?.passwordHash ?? null;
  const ok = await verifyPassword(input.currentPassword, checked ?? (await dummyPasswordHash()));
  if (!user || !checked || !ok) throw wrongPassword();
  const passwordHash = await hashPassword(input.newPassword);
  return deps.store.transaction(async (tx) => {
    if (!(await tx.users.replacePasswordHash(user.id, checked, passwordHash))) throw wrongPassword();
    const now = deps.clock.now();
    const sessionsEnded = await tx.sessions.revokeAllForUser(user.id, now, caller.session.id);
    await tx.passwordResets.voidForUser(user.id, now);
    await auditPersonEvent(tx, deps.ids, { userId: user.id, origin }, now, { action: 'auth.password_changed', details: { sessionsEnded } });
    return { sessionsEnded };
  });
}

/**
 * Audits a wrong current password on a password change (R42: authentication failures) as
 * `auth.password_change_failed`, outcome `failure`, in each organization of the person, who is the
 * actor. Callers coalesce repeats and run it after answering, as for failed logins.
 */
export async function recordFailedPasswordChange(
  deps: ChangePasswordDeps,
  failure: RequestOrigin & { userId: User['id']; suppressedRepeats: number },
): Promise<void> {
  const details = failure.suppressedRepeats > 0 ? { suppressedRepeats: failure.suppressedRepeats } : {};
  await deps.store.transaction((tx) =>
    auditPersonEvent(tx, deps.ids, { userId: failure.userId, origin: failure }, deps.clock.now(), {
      action: 'auth.password_change_failed',
      outcome: 'failure',
      details: { reason: 'wrong_current_password', ...details },
    }),
  );
}
