import type { CoreDeps } from '../deps.js';
import { randomBase62, type OrgId, type VerifierId } from '../ids.js';
import { digestsEqual } from '../keys/key-digest.js';
import { createKeyFormat, LOOKUP_ID_LENGTH } from '../keys/key-format.js';
import type { VerifierActor } from '../auth/actor.js';
import type { VerifierRecord } from './verifier.js';

/** Verifier credentials share the key format under their own prefix, so scanners can tell them apart. */
export const verifierFormat = createKeyFormat('kwv_');

export async function createVerifier(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'peppers'>,
  input: { name: string; orgId: OrgId | null },
): Promise<{ id: VerifierId; token: string; verifier: VerifierRecord }> {
  const lookupId = randomBase62(LOOKUP_ID_LENGTH);
  const { token, secret } = verifierFormat.generate(lookupId);
  const verifier: VerifierRecord = {
    id: `ver_${lookupId}`,
    name: input.name,
    orgId: input.orgId,
    digest: deps.peppers.digest(secret).toString('hex'),
    pepperVersion: deps.peppers.current.version,
    preview: verifierFormat.preview(token),
    createdAt: deps.clock.now(),
    revokedAt: null,
  };
  await deps.store.verifiers.insert(verifier);
  return { id: verifier.id, token, verifier };
}

const DUMMY = Buffer.alloc(32);

/** The verifier behind a credential, or null: same work for unknown ids and wrong secrets. */
export async function authenticateVerifier(
  deps: Pick<CoreDeps, 'store' | 'peppers'>,
  token: string,
  lookup: (id: VerifierId) => Promise<VerifierRecord | null> = (id) => deps.store.verifiers.findForVerification(id),
): Promise<VerifierActor | null> {
  const parsed = verifierFormat.parse(token);
  if (!parsed || parsed.kind !== 'lookup') return null;
  const record = await lookup(`ver_${parsed.lookupId}`);
  const version = record && deps.peppers.has(record.pepperVersion) ? record.pepperVersion : deps.peppers.current.version;
  const presented = deps.peppers.digest(parsed.secret, version);
  const ok = digestsEqual(presented, record ? Buffer.from(record.digest, 'hex') : DUMMY);
  if (!record || !ok || record.revokedAt) return null;
  return { type: 'verifier', verifierId: record.id, orgId: record.orgId };
}
