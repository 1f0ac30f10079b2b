import type { InvitationId, OrgId, UserId } from '../ids.js';
import type { OrgRole } from '../permissions/roles.js';

export type MembershipStatus = 'active' | 'invited';

export interface Membership {
  readonly orgId: OrgId;
  readonly userId: UserId;
  readonly role: OrgRole;
  readonly status: MembershipStatus;
  readonly createdAt: Date;
}

/** A membership joined with its user, for lists. */
export interface MemberView extends Membership {
  readonly email: string;
  readonly name: string | null;
}

export interface Invitation {
  readonly id: InvitationId;
  readonly orgId: OrgId;
  readonly userId: UserId;
  readonly email: string;
  readonly role: OrgRole;
  readonly tokenDigest: string;
  readonly expiresAt: Date;
  readonly acceptedAt: Date | null;
  /**
   * Password checks spent on it (for an invitation to someone who already has an account). After
   * `INVITATION_PASSWORD_ATTEMPTS` the invitation is void.
   */
  readonly passwordAttempts: number;
  readonly createdByUserId: UserId | null;
  readonly createdAt: Date;
}

/** Wrong passwords an invitation survives: the next accept, even with the right one, finds it void. */
export const INVITATION_PASSWORD_ATTEMPTS = 5;
