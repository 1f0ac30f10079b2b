import type { CoreDeps } from '../deps.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import { recordAuditFor } from './record-audit.js';

export interface RejectedKey {
  /** The key the presented credential was identified as. */
  readonly key: Pick<ApiKeyRecord, 'id' | 'orgId' | 'preview'>;
  /** Why it was refused: the verdict code (REVOKED, EXPIRED, DISABLED, …). */
  readonly code: string;
  readonly ip: string | null;
  readonly requestId: string | null;
  /** Refusals of the same key left out of the log since its last such entry. */
  readonly suppressedRepeats: number;
}

/**
 * Audits a request refused 401 because the key it presented, though identified, may not authenticate
 * (R42: authentication failures): `auth.key_rejected`, outcome `failure`, in the key's organization,
 * with the key (id and preview) as actor and the verdict code in `details`. A credential that names no
 * key leaves no entry: there is no organization to tell. Callers run it after answering, so that an
 * identified key's 401 takes as long as an unknown one's.
 */
export async function recordRejectedKey(deps: Pick<CoreDeps, 'store' | 'ids' | 'clock'>, rejected: RejectedKey): Promise<void> {
  const { key } = rejected;
  const at = deps.clock.now();
  const repeats = rejected.suppressedRepeats > 0 ? { suppressedRepeats: rejected.suppressedRepeats } : {};
  await deps.store.transaction((tx) =>
    recordAuditFor(tx, deps.ids, { orgId: key.orgId, actor: { type: 'api_key', id: key.id, preview: key.preview }, ip: rejected.ip, requestId: rejected.requestId }, at, {
      action: 'auth.key_rejected',
      targetType: 'api_key',
      targetId: key.id,
      outcome: 'failure',
      details: { code: rejected.code, ...repeats },
    }),
  );
}
