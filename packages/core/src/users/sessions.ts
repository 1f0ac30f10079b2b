import type { CoreDeps } from '../deps.js';
import { DomainError } from '../errors.js';
import { randomBase62 } from '../ids.js';
import type { Organization } from '../orgs/organization.js';
import type { OrgRole } from '../permissions/roles.js';
import { dummyPasswordHash, normalizeEmail, verifyPassword } from './password.js';
import type { Session, User } from './user.js';

export const SESSION_TOKEN_PREFIX = 'kws_';
const sessionTokenPattern = /^kws_[0-9A-Za-z]{43}$/;

export function isSessionToken(token: string): boolean {
  return sessionTokenPattern.test(token);
}

export type SessionDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers' | 'limits'>;

export interface LoginResult {
  readonly sessionToken: string;
  readonly session: Session;
  readonly user: User;
  readonly organizations: { org: Organization; role: OrgRole }[];
}

/**
 * Logs a person in by email and password. Every failure (unknown email, wrong password, disabled user,
 * no password set yet) is the same `invalid_credentials`, after the same scrypt work.
 */
export async function login(deps: SessionDeps, email: string, password: string): Promise<LoginResult> {
  const user = await deps.store.users.findByEmail(normalizeEmail(email));
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !user.passwordHash || !ok || user.disabledAt) {
    throw new DomainError('invalid_credentials', 'The email or password is not correct.');
  }
  return startSession(deps, user);
}

export async function startSession(deps: SessionDeps, user: User): Promise<LoginResult> {
  const now = deps.clock.now();
  const sessionToken = `${SESSION_TOKEN_PREFIX}${randomBase62(43)}`;
  const session: Session = {
    id: deps.ids.next('ses'),
    userId: user.id,
    tokenDigest: deps.peppers.digest(sessionToken).toString('hex'),
    createdAt: now,
    expiresAt: new Date(now.getTime() + deps.limits.sessionTtlSeconds * 1000),
    revokedAt: null,
  };
  await deps.store.sessions.insert(session);
  const organizations = await deps.store.orgs.listForUser(user.id);
  return { sessionToken, session, user, organizations };
}

/** The live session and user behind a session token, or null (unknown, expired, revoked, disabled). */
export async function resolveSession(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'peppers'>,
  token: string,
): Promise<{ session: Session; user: User } | null> {
  if (!isSessionToken(token)) return null;
  const session = await deps.store.sessions.findByDigest(deps.peppers.digest(token).toString('hex'));
  if (!session || session.revokedAt || session.expiresAt.getTime() <= deps.clock.now().getTime()) return null;
  const user = await deps.store.users.findById(session.userId);
  if (!user || user.disabledAt) return null;
  return { session, user };
}

export async function logout(deps: Pick<CoreDeps, 'store' | 'clock'>, session: Session): Promise<void> {
  await deps.store.sessions.revoke(session.id, deps.clock.now());
}
