import { recordAudit } from '../audit/record-audit.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError } from '../errors.js';
import type { OrgId } from '../ids.js';
import { hashPassword, passwordProblem, verifyPassword } from '../users/password.js';
import type { User } from '../users/user.js';
import { INVITATION_TOKEN_PREFIX } from './manage-members.js';

/**
 * Accepts an invitation. A person new to Keyward sets their password here; someone who already has an
 * account proves it with their current password. Tokens are single-use and expire.
 */
export async function acceptInvitation(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers' | 'bus'>,
  input: { token: string; password: string; name?: string | null | undefined },
  origin: { ip: string | null; requestId: string | null },
): Promise<{ user: User; organizationId: OrgId }> {
  const invalid = () => new DomainError('invitation_not_found', 'This invitation is not valid, has expired, or was already used.');
  if (!input.token.startsWith(INVITATION_TOKEN_PREFIX) || input.token.length > 100) throw invalid();
  const invitation = await deps.store.invitations.findByDigest(deps.peppers.digest(input.token).toString('hex'));
  const now = deps.clock.now();
  if (!invitation || invitation.acceptedAt || invitation.expiresAt.getTime() <= now.getTime()) throw invalid();
  const existing = await deps.store.users.findById(invitation.userId);
  if (!existing) throw invalid();
  let passwordHash: string | null = null;
  if (existing.passwordHash) {
    if (!(await verifyPassword(input.password, existing.passwordHash))) {
      throw new DomainError('invalid_credentials', 'You already have an account: enter its current password to accept.');
    }
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
    return { ...existing, ...(input.name ? { name: input.name } : {}) };
  });
  await deps.bus.publish({ type: 'member', orgId: invitation.orgId, userId: user.id });
  return { user, organizationId: invitation.orgId };
}
