import { recordAudit } from '../audit/record-audit.js';
import type { KeyActor } from '../auth/actor.js';
import type { CoreDeps } from '../deps.js';
import type { AccessTokenVerifier } from './verify-access-token.js';

/** `revoked`: on the deny list now; `ignored`: unknown, malformed, expired or already dead; `foreign`: another client's token. */
export type RevocationOutcome = 'revoked' | 'ignored' | 'foreign';

/**
 * RFC 7009 revocation by the token's own client: the `jti` goes on the deny list (kept until the
 * token would have expired) with an audit entry in the same transaction, and every instance drops its
 * cached answer before this returns. A token of another client is left alone (R40).
 */
export async function revokeAccessToken(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'bus'>,
  tokens: AccessTokenVerifier,
  client: KeyActor,
  token: string,
): Promise<RevocationOutcome> {
  if (!tokens.looksLikeToken(token)) return 'ignored';
  const checked = await tokens.check(token, { audience: null });
  if (!checked.ok) return 'ignored';
  const { claims } = checked;
  if (claims.client_id !== client.keyId || claims.org_id !== client.orgId) return 'foreign';
  const now = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    await tx.revokedTokens.insert({ jti: claims.jti, orgId: claims.org_id, keyId: claims.client_id, expiresAt: new Date(claims.exp * 1000) });
    await recordAudit(tx, deps.ids, client, now, {
      action: 'access_token.revoked',
      targetType: 'access_token',
      targetId: claims.jti,
      details: { keyId: claims.client_id, expiresAt: new Date(claims.exp * 1000).toISOString() },
    });
    await tx.invalidations.append({ type: 'key', orgId: claims.org_id, keyId: claims.client_id }, now);
  });
  await deps.bus.publish({ type: 'key', orgId: claims.org_id, keyId: claims.client_id });
  // The deny list only needs entries until their tokens expire; trimming here keeps it small.
  await deps.store.revokedTokens.purgeExpired(now).catch(() => 0);
  return 'revoked';
}
