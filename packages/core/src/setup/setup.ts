import type { CoreDeps } from '../deps.js';
import { DomainError } from '../errors.js';
import { randomBase62 } from '../ids.js';
import { createOrganization, type CreatedOrganization } from '../orgs/create-organization.js';
import { startSession, type LoginResult } from '../users/sessions.js';

/**
 * First run: while the store has no organization, the server prints a one-time setup token once.
 * `completeSetup` spends it to create the first organization and its owner. The token's digest lives
 * in `meta`; spending it and creating the organization commit together, so two concurrent setups
 * cannot both succeed.
 */
const SETUP_TOKEN_META = 'setup_token_digest';
const SETUP_DONE_META = 'setup_completed_at';

export type SetupDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers' | 'keyFormat' | 'encryptionKey' | 'limits'>;

/** A new setup token when setup is still pending (replacing any earlier one), or null when done. */
export async function issueSetupToken(deps: SetupDeps): Promise<string | null> {
  if (await isSetupComplete(deps)) return null;
  const token = `kwsetup_${randomBase62(32)}`;
  await deps.store.meta.set(SETUP_TOKEN_META, deps.peppers.digest(token).toString('hex'));
  return token;
}

export async function isSetupComplete(deps: Pick<CoreDeps, 'store'>): Promise<boolean> {
  if ((await deps.store.meta.get(SETUP_DONE_META)) !== null) return true;
  return (await deps.store.orgs.count()) > 0;
}

export async function completeSetup(
  deps: SetupDeps,
  input: { token: string; organizationName: string; email: string; password: string; name?: string | null },
  origin: { ip: string | null; requestId: string | null },
): Promise<{ created: CreatedOrganization; login: LoginResult }> {
  const invalid = () => new DomainError('setup_token_invalid', 'This setup link is not valid or was already used.');
  const digest = deps.peppers.digest(input.token).toString('hex');
  const created = await deps.store.transaction(async (tx) => {
    const stored = await tx.meta.get(SETUP_TOKEN_META);
    if (!stored || stored !== digest || (await tx.orgs.count()) > 0) throw invalid();
    if (!(await tx.meta.setIfAbsent(SETUP_DONE_META, deps.clock.now().toISOString()))) throw invalid();
    await tx.meta.delete(SETUP_TOKEN_META);
    return createOrganization(
      deps,
      { name: input.organizationName, ownerEmail: input.email, ownerPassword: input.password, ownerName: input.name ?? null, bootstrap: true, createAdminKey: false },
      origin,
      tx,
    );
  });
  const user = await deps.store.users.findById(created.ownerUserId);
  return { created, login: await startSession(deps, user!) };
}
