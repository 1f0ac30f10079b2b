import { recordAudit } from '../audit/record-audit.js';
import type { SystemActor } from '../auth/actor.js';
import type { CoreDeps } from '../deps.js';
import { FieldError } from '../errors.js';
import { randomBase62, type KeyId, type OrgId, type UserId } from '../ids.js';
import { mintKey } from '../keys/create-key.js';
import type { Repositories } from '../ports.js';
import { hashPassword, normalizeEmail, passwordProblem } from '../users/password.js';
import type { User } from '../users/user.js';
import { bootstrapInTransaction } from './bootstrap-organization.js';
import type { Organization, SigningAlgorithm } from './organization.js';

export interface CreateOrganizationInput {
  readonly name: string;
  readonly ownerEmail: string;
  /** Without one, a password is generated and returned once (unless the user exists already). */
  readonly ownerPassword?: string | undefined;
  readonly ownerName?: string | null | undefined;
  readonly bootstrap: boolean;
  readonly createAdminKey: boolean;
  readonly signingAlgorithm?: SigningAlgorithm | undefined;
}

export interface CreatedOrganization {
  readonly organization: Organization;
  readonly ownerUserId: UserId;
  readonly generatedOwnerPassword: string | null;
  readonly adminKey: { id: KeyId; token: string } | null;
}

export type CreateOrganizationDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers' | 'keyFormat' | 'encryptionKey'>;

export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 600;

/**
 * Creates an organization with its OWNER (a new user, or an existing one by email), bootstraps it, and
 * optionally creates an org-wide ADMIN service key whose token is returned only here. One transaction:
 * either all of it exists afterwards, with its audit entries, or none of it.
 */
export async function createOrganization(
  deps: CreateOrganizationDeps,
  input: CreateOrganizationInput,
  origin: { ip: string | null; requestId: string | null } = { ip: null, requestId: null },
  inTransaction?: Repositories,
): Promise<CreatedOrganization> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) throw new FieldError('organizationName', 'The name needs 1 to 100 characters.');
  const email = normalizeEmail(input.ownerEmail);
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) throw new FieldError('email', 'This is not an email address.');
  if (input.ownerPassword !== undefined) {
    const problem = passwordProblem(input.ownerPassword);
    if (problem) throw new FieldError('password', problem);
  }
  const generatedPassword = input.ownerPassword === undefined ? randomBase62(20) : null;
  const passwordHash = await hashPassword(input.ownerPassword ?? generatedPassword!);

  const run = async (tx: Repositories): Promise<CreatedOrganization> => {
    const now = deps.clock.now();
    const orgId: OrgId = deps.ids.next('org');
    const organization: Organization = {
      id: orgId,
      name,
      createdAt: now,
      bootstrappedAt: null,
      signingAlgorithm: input.signingAlgorithm ?? 'ES256',
      accessTokenTtlSeconds: DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
    };
    await tx.orgs.insert(organization);
    const actor: SystemActor = { type: 'system', orgId, ...origin };
    let user: User | null = await tx.users.findByEmail(email);
    let passwordShown: string | null = null;
    if (!user) {
      user = { id: deps.ids.next('usr'), email, name: input.ownerName ?? null, passwordHash, createdAt: now, disabledAt: null };
      await tx.users.insert(user);
      passwordShown = generatedPassword;
    } else if (!user.passwordHash) {
      await tx.users.update(user.id, { passwordHash });
      passwordShown = generatedPassword;
    }
    await tx.members.insert({ orgId, userId: user.id, role: 'OWNER', status: 'active', createdAt: now });
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'organization.created',
      targetType: 'organization',
      targetId: orgId,
      details: { name, ownerUserId: user.id },
    });
    let bootstrapped = organization;
    if (input.bootstrap) {
      const { bootstrappedAt } = await bootstrapInTransaction(deps, tx, actor, orgId);
      bootstrapped = { ...organization, bootstrappedAt };
    }
    let adminKey: CreatedOrganization['adminKey'] = null;
    if (input.createAdminKey && input.bootstrap) {
      const { token, key } = mintKey(deps, {
        orgId,
        keyType: 'service',
        name: 'Admin key (created with the organization)',
        description: 'Org-wide ADMIN service key created by the operator. Revoke it once you have your own keys.',
        ownerUserId: null,
        createdByUserId: null,
        createdByKeyId: null,
        projectId: null,
        bindings: [{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: orgId }],
        permissionMode: 'all',
        permissions: [],
        scopes: [],
        allowedCidrs: [],
        expiresAt: null,
        now,
      });
      await tx.keys.insert(key);
      await recordAudit(tx, deps.ids, actor, now, {
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: key.id,
        details: { name: key.name, keyType: 'service', preview: key.preview },
      });
      adminKey = { id: key.id, token };
    }
    return { organization: bootstrapped, ownerUserId: user.id, generatedOwnerPassword: passwordShown, adminKey };
  };
  return inTransaction ? run(inTransaction) : deps.store.transaction(run);
}
