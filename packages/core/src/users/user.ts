import type { SessionId, UserId } from '../ids.js';

export interface User {
  readonly id: UserId;
  /** Lowercased and trimmed. Unique across the deployment: one person, one login, many organizations. */
  readonly email: string;
  readonly name: string | null;
  /** scrypt, in the self-describing form of `users/password.ts`; null until an invitation is accepted. */
  readonly passwordHash: string | null;
  readonly createdAt: Date;
  readonly disabledAt: Date | null;
}

export interface Session {
  readonly id: SessionId;
  readonly userId: UserId;
  readonly tokenDigest: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
}

/**
 * A one-time password reset an operator issued (`keyward admin reset-password`). Only the digest of
 * its token is kept; `usedAt` is set when it is spent, or when a newer reset or a password change
 * voids it.
 */
export interface PasswordReset {
  readonly tokenDigest: string;
  readonly userId: UserId;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
}
