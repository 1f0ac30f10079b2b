import { recordAudit } from '../audit/record-audit.js';
import { eventActor, recordEvent } from '../webhooks/record-event.js';
import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization, assertMayGrantRole } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError, forbidden, notFound } from '../errors.js';
import { randomBase62, type KeyId, type UserId } from '../ids.js';
import { bindingRoleForOrgRole, type OrgRole } from '../permissions/roles.js';
import type { Page, PageRequest, Repositories } from '../ports.js';
import { normalizeEmail } from '../users/password.js';
import type { User } from '../users/user.js';
import type { Invitation, MemberView } from './membership.js';

export type MemberDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers' | 'catalogue' | 'bus' | 'limits'>;

export const INVITATION_TOKEN_PREFIX = 'kwi_';

/** Every member (active and invited), oldest first. Any member may list them. */
export function listMembers(deps: Pick<CoreDeps, 'store'>, actor: Actor, page: PageRequest): Promise<Page<MemberView>> {
  return deps.store.members.list(actor.orgId, page);
}

export async function getMember(deps: Pick<CoreDeps, 'store'>, actor: Actor, userId: UserId): Promise<MemberView> {
  const member = await deps.store.members.findView(actor.orgId, userId);
  if (!member) throw notFound.member();
  return member;
}

function assertMayGrant(actor: Actor, role: OrgRole): void {
  if (role === 'OWNER' && !(actor.type === 'user' && actor.role === 'OWNER')) {
    throw forbidden('Only an owner may make someone an owner.');
  }
}

/**
 * Invites a person by email with a role. The invitation token is returned once, to hand to the person
 * (Keyward sends no email); accepting it activates the membership.
 */
export async function inviteMember(
  deps: MemberDeps,
  actor: Actor,
  input: { email: string; role: OrgRole; name?: string | null | undefined },
): Promise<{ member: MemberView; invitation: Invitation; token: string }> {
  assertCanManageOrganization(deps.catalogue, actor);
  assertMayGrant(actor, input.role);
  const email = normalizeEmail(input.email);
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) throw new FieldError('email', 'This is not an email address.');
  const token = `${INVITATION_TOKEN_PREFIX}${randomBase62(43)}`;
  return deps.store.transaction(async (tx) => {
    await assertMayGrantRole(tx, deps.catalogue, actor, { role: bindingRoleForOrgRole(input.role), scopeType: 'ORGANIZATION', scopeId: actor.orgId });
    const now = deps.clock.now();
    let user: User | null = await tx.users.findByEmail(email);
    if (user && (await tx.members.find(actor.orgId, user.id))) {
      throw new DomainError('member_already_exists', 'This person is already a member or invited.', { userId: user.id });
    }
    if (!user) {
      user = { id: deps.ids.next('usr'), email, name: input.name ?? null, passwordHash: null, createdAt: now, disabledAt: null };
      await tx.users.insert(user);
    }
    await tx.members.insert({ orgId: actor.orgId, userId: user.id, role: input.role, status: 'invited', createdAt: now });
    const invitation: Invitation = {
      id: deps.ids.next('inv'),
      orgId: actor.orgId,
      userId: user.id,
      email,
      role: input.role,
      tokenDigest: deps.peppers.digest(token).toString('hex'),
      expiresAt: new Date(now.getTime() + deps.limits.invitationTtlSeconds * 1000),
      acceptedAt: null,
      passwordAttempts: 0,
      createdByUserId: actor.type === 'user' ? actor.userId : actor.key.ownerUserId,
      createdAt: now,
    };
    await tx.invitations.insert(invitation);
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'member.invited',
      targetType: 'user',
      targetId: user.id,
      details: { email, role: input.role },
    });
    const member: MemberView = { orgId: actor.orgId, userId: user.id, role: input.role, status: 'invited', createdAt: now, email, name: user.name };
    await recordEvent(tx, deps.ids, now, actor.orgId, 'member.added', {
      member: { userId: user.id, email, name: user.name, role: input.role, status: 'invited' },
      actor: eventActor(actor),
    });
    return { member, invitation, token };
  });
}

/**
 * Whether the actor is an owner now, inside the transaction: after `lockMemberships`, so that an owner
 * demoted a moment ago by a concurrent request no longer acts as one.
 */
async function isOwnerNow(tx: Repositories, actor: Actor): Promise<boolean> {
  if (!(actor.type === 'user' && actor.role === 'OWNER')) return false;
  const self = await tx.members.find(actor.orgId, actor.userId);
  return self?.role === 'OWNER' && self.status === 'active';
}

/**
 * Refuses a change that would leave the organization without an active owner. Callers hold
 * `lockMemberships`, so the count cannot change before they commit: two owners demoting each other at
 * the same moment never both pass, on PostgreSQL too.
 */
async function assertKeepsAnOwner(tx: Repositories, actor: Actor, userId: UserId, currentRole: OrgRole): Promise<void> {
  if (currentRole !== 'OWNER') return;
  if (!(await isOwnerNow(tx, actor))) throw forbidden('Only an owner may change or remove an owner.');
  if ((await tx.members.countActiveOwners(actor.orgId)) <= 1) {
    throw new DomainError('last_owner', 'An organization keeps at least one owner; make someone else owner first.');
  }
}

/** Changes a member's role. Their personal keys follow at once: the ceiling is evaluated on every use. */
export async function changeMemberRole(deps: MemberDeps, actor: Actor, userId: UserId, role: OrgRole): Promise<MemberView> {
  assertCanManageOrganization(deps.catalogue, actor);
  assertMayGrant(actor, role);
  const member = await deps.store.transaction(async (tx) => {
    await tx.members.lockMemberships(actor.orgId);
    const current = await tx.members.findForUpdate(actor.orgId, userId);
    if (!current) throw notFound.member();
    if (role === 'OWNER' && current.role !== 'OWNER' && !(await isOwnerNow(tx, actor))) {
      throw forbidden('Only an owner may make someone an owner.');
    }
    if (current.role !== role) await assertKeepsAnOwner(tx, actor, userId, current.role);
    await assertMayGrantRole(tx, deps.catalogue, actor, { role: bindingRoleForOrgRole(role), scopeType: 'ORGANIZATION', scopeId: actor.orgId });
    const now = deps.clock.now();
    await tx.members.update(actor.orgId, userId, { role });
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'member.role_changed',
      targetType: 'user',
      targetId: userId,
      details: { from: current.role, to: role },
    });
    if (current.role !== role) {
      await recordEvent(tx, deps.ids, now, actor.orgId, 'member.role_changed', { member: { userId, from: current.role, to: role }, actor: eventActor(actor) });
    }
    await tx.invalidations.append({ type: 'member', orgId: actor.orgId, userId }, now);
    return (await tx.members.findView(actor.orgId, userId))!;
  });
  await deps.bus.publish({ type: 'member', orgId: actor.orgId, userId });
  return member;
}

/**
 * Removes a member: their membership, bindings and pending invitations go, and their personal keys are
 * disabled (never to authenticate again, even if they rejoin). Service keys are untouched.
 */
export async function removeMember(deps: MemberDeps, actor: Actor, userId: UserId): Promise<{ disabledKeyIds: string[] }> {
  assertCanManageOrganization(deps.catalogue, actor);
  const disabledKeyIds = await deps.store.transaction(async (tx) => {
    await tx.members.lockMemberships(actor.orgId);
    const current = await tx.members.findForUpdate(actor.orgId, userId);
    if (!current) throw notFound.member();
    await assertKeepsAnOwner(tx, actor, userId, current.role);
    const now = deps.clock.now();
    const disabled = await tx.keys.disablePersonalKeysOf(actor.orgId, userId, now);
    await tx.bindings.deleteForUser(actor.orgId, userId);
    await tx.invitations.deleteForUser(actor.orgId, userId);
    await tx.members.delete(actor.orgId, userId);
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'member.removed',
      targetType: 'user',
      targetId: userId,
      details: { role: current.role, disabledKeyIds: disabled },
    });
    await recordEvent(tx, deps.ids, now, actor.orgId, 'member.removed', {
      member: { userId, role: current.role, disabledKeyIds: disabled },
      actor: eventActor(actor),
    });
    await tx.invalidations.append({ type: 'member', orgId: actor.orgId, userId }, now);
    for (const keyId of disabled) await tx.invalidations.append({ type: 'key', orgId: actor.orgId, keyId: keyId as KeyId }, now);
    return disabled;
  });
  await deps.bus.publish({ type: 'member', orgId: actor.orgId, userId });
  for (const keyId of disabledKeyIds) await deps.bus.publish({ type: 'key', orgId: actor.orgId, keyId });
  return { disabledKeyIds };
}
