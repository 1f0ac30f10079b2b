import type { RequestOrigin } from '../auth/actor.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError } from '../errors.js';
import { randomBase62, type UserId } from '../ids.js';
import { hashPassword, normalizeEmail, passwordProblem } from './password.js';
import { auditPersonEvent } from './person-audit.js';

/**
 * Password resets (issue 12): Keyward sends no email, so an operator issues a one-time link on the
 * store (`keyward admin reset-password --email …`) and hands it to the person, who sets a new
 * password with it (`POST /api/auth/reset-password`). The token holds 256 random bits; only its
 * digest (HMAC with the pepper, as for sessions and invitations) is stored. It works once, for an
 * hour, and only while it is the person's latest: issuing another, or any password change, voids it.
 */
export const PASSWORD_RESET_TOKEN_PREFIX = 'kwr_';
export const PASSWORD_RESET_TTL_SECONDS = 3600;
const resetTokenPattern = /^kwr_[0-9A-Za-z]{43}$/;

export type PasswordResetDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers'>;

export interface IssuedPasswordReset {
  /** Shown once, to the operator: the store keeps only its digest. */
  readonly token: string;
  readonly expiresAt: Date;
  readonly userId: UserId;
}

const operator = { type: 'system' as const, id: 'operator' };
const invalidToken = () =>
  new DomainError('reset_token_invalid', 'This password reset link is not valid: it is unknown, has expired or was already used. Ask your operator for a new one.');

/**
 * Issues a reset for the account with this email (any case), voiding the person's earlier unused
 * ones; audited as `auth.password_reset_issued` by the operator in each of their organizations.
 */
export async function issuePasswordReset(deps: PasswordResetDeps, email: string, origin: RequestOrigin = { ip: null, requestId: null }): Promise<IssuedPasswordReset> {
  const user = await deps.store.users.findByEmail(normalizeEmail(email));
  if (!user) throw new DomainError('user_not_found', `No account has the email ${normalizeEmail(email)}.`);
  const token = `${PASSWORD_RESET_TOKEN_PREFIX}${randomBase62(43)}`;
  const tokenDigest = deps.peppers.digest(token).toString('hex');
  return deps.store.transaction(async (tx) => {
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + PASSWORD_RESET_TTL_SECONDS * 1000);
    await tx.passwordResets.voidForUser(user.id, now);
    await tx.passwordResets.insert({ tokenDigest, userId: user.id, createdAt: now, expiresAt, usedAt: null });
    await auditPersonEvent(tx, deps.ids, { userId: user.id, actor: operator, origin }, now, {
      action: 'auth.password_reset_issued',
      details: { expiresAt: expiresAt.toISOString() },
    });
    return { token, expiresAt, userId: user.id };
  });
}

/**
 * Spends a reset token: sets the password and ends every session of the person. A token that is
 * unknown, used, voided or expired is `reset_token_invalid`, whatever else is wrong; a valid token
 * with a weak password is refused (422) and stays usable. Spending is one conditional update, so two
 * concurrent resets with one token cannot both succeed. Audited as `auth.password_reset`.
 */
export async function resetPassword(
  deps: PasswordResetDeps,
  input: { token: string; password: string },
  origin: RequestOrigin,
): Promise<{ userId: UserId; sessionsEnded: number }> {
  if (!resetTokenPattern.test(input.token)) throw invalidToken();
  const tokenDigest = deps.peppers.digest(input.token).toString('hex');
  const reset = await deps.store.passwordResets.findByDigest(tokenDigest);
  if (!reset || reset.usedAt || reset.expiresAt.getTime() <= deps.clock.now().getTime()) throw invalidToken();
  const problem = passwordProblem(input.password);
  if (problem) throw new FieldError('password', problem);
  const passwordHash = await hashPassword(input.password);
  return deps.store.transaction(async (tx) => {
    const now = deps.clock.now();
    if (!(await tx.passwordResets.markUsed(tokenDigest, now))) throw invalidToken();
    await tx.passwordResets.voidForUser(reset.userId, now);
    await tx.users.update(reset.userId, { passwordHash });
    const sessionsEnded = await tx.sessions.revokeAllForUser(reset.userId, now);
    await auditPersonEvent(tx, deps.ids, { userId: reset.userId, origin }, now, { action: 'auth.password_reset', details: { sessionsEnded } });
    return { userId: reset.userId, sessionsEnded };
  });
}
