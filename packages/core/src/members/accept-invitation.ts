import { recordAudit } from '../audit/record-audit.js';
import type { UserActor } from '../auth/actor.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError } from '../errors.js';
import type { OrgId } from '../ids.js';
import { hashPassword, passwordProblem, verifyPassword } from '../users/password.js';
import type { User } from '../users/user.js';
import { INVITATION_TOKEN_PREFIX } from './manage-members.js';
import { INVITATION_PASSWORD_ATTEMPTS, type Invitation } from './membership.js';

type AcceptDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers' | 'bus'>;
type Origin = { ip: string | null; requestId: string | null };

const invalid = () => new DomainError('invitation_not_found', 'This invitation is not valid, has expired, or was already used.');

/**
 * Accepts an invitation. A person new to Keyward sets their password here; someone who already has an
 * account proves it with their current password. Tokens are single-use and expire; an invitation to an
 * existing account is void after `INVITATION_PASSWORD_ATTEMPTS` wrong passwords, so that whoever holds
 * the token (the inviting admin, for one) cannot use it to guess that account's password.
 */
export async function acceptInvitation(
  deps: AcceptDeps,
  input: { token: string; password: string; name?: string | null | undefined },
  origin: Origin,
): Promise<{ user: User; organizationId: OrgId }> {
  if (!input.token.startsWith(INVITATION_TOKEN_PREFIX) || input.token.length > 100) throw invalid();
  const invitation = await deps.store.invitations.findByDigest(deps.peppers.digest(input.token).toString('hex'));
  const now = deps.clock.now();
  if (!invitation || invitation.acceptedAt || invitation.expiresAt.getTime() <= now.getTime()) throw invalid();
  if (invitation.passwordAttempts >= INVITATION_PASSWORD_ATTEMPTS) throw invalid();
  const existing = await deps.store.users.findById(invitation.userId);
  if (!existing) throw invalid();
  let passwordHash: string | null = null;
  if (existing.passwordHash) {
    await proveAccount(deps, invitation, existing, existing.passwordHash, input.password, origin);
  } else {
    const problem = passwordProblem(input.password);
    if (problem) throw new FieldError('password', problem);
    passwordHash = await hashPassword(input.password);
  }
  const user = await deps.store.transaction(async (tx) => {
    const membership = await tx.members.findForUpdate(invitation.orgId, invitation.userId);
    if (!membership || !(await tx.invitations.markAccepted(invitation.id, now))) throw invalid();
    if (passwordHash) await tx.users.update(existing.id, { passwordHash, ...(input.name ? { name: input.name } : {}) });
    await tx.members.update(invitation.orgId, invitation.userId, { status: 'active' });
    await recordAudit(tx, deps.ids, { type: 'user', orgId: invitation.orgId, userId: existing.id, role: membership.role, grants: [], ...origin }, now, {
      action: 'member.joined',
      targetType: 'user',
      targetId: existing.id,
      details: { invitationId: invitation.id, role: membership.role },
    });
    await tx.invalidations.append({ type: 'member', orgId: invitation.orgId, userId: existing.id }, now);
    return { ...existing, ...(input.name ? { name: input.name } : {}) };
  });
  await deps.bus.publish({ type: 'member', orgId: invitation.orgId, userId: user.id });
  return { user, organizationId: invitation.orgId };
}

/**
 * Checks the current password of the account an invitation is for. The attempt is spent before the
 * password is checked, in one statement: concurrent guesses can never check more passwords than the
 * invitation allows, whatever their timing. A right password then accepts the invitation, so only wrong
 * ones ever add up. A wrong one is audited in the inviting organization (outcome `failure`).
 */
async function proveAccount(deps: AcceptDeps, invitation: Invitation, user: User, passwordHash: string, password: string, origin: Origin): Promise<void> {
  const spent = await deps.store.invitations.spendPasswordAttempt(invitation.id, INVITATION_PASSWORD_ATTEMPTS);
  if (spent === null) throw invalid();
  if (await verifyPassword(password, passwordHash)) return;
  const attemptsLeft = INVITATION_PASSWORD_ATTEMPTS - spent;
  // The actor is the account the accept claimed to be; the IP says where the attempt came from.
  const claimed: UserActor = { type: 'user', orgId: invitation.orgId, userId: user.id, role: invitation.role, grants: [], ...origin };
  await deps.store.transaction((tx) =>
    recordAudit(tx, deps.ids, claimed, deps.clock.now(), {
      action: 'member.join_failed',
      targetType: 'user',
      targetId: user.id,
      outcome: 'failure',
      details: { invitationId: invitation.id, reason: 'wrong_password', attemptsLeft },
    }),
  );
  throw new DomainError(
    'invalid_credentials',
    attemptsLeft > 0
      ? 'You already have an account: enter its current password to accept.'
      : 'The password is not correct, and this invitation is now void: ask for a new one.',
  );
}
