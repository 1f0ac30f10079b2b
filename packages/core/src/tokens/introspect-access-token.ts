import type { KeyActor } from '../auth/actor.js';
import { canManageOrganization } from '../auth/policy.js';
import type { OrgId } from '../ids.js';
import type { PermissionCatalogue } from '../permissions/catalogue.js';
import type { AccessTokenVerifier } from './verify-access-token.js';

/** Who asks: an API key (the token's own client, or an admin key of its organization), or a verifier credential. */
export type IntrospectionCaller = { readonly type: 'key'; readonly actor: KeyActor } | { readonly type: 'verifier'; readonly orgId: OrgId | null };

export type Introspection =
  | {
      readonly active: true;
      readonly scope: string;
      readonly client_id: string;
      readonly sub: string;
      readonly token_type: 'Bearer';
      readonly exp: number;
      readonly iat: number;
      readonly iss: string;
      readonly aud: string | string[];
      readonly jti: string;
      readonly org_id: string;
    }
  | { readonly active: false };

const inactive: Introspection = { active: false };

/**
 * RFC 7662 introspection. A token is active when it and its key would be accepted now; the client's
 * address is not known here, so a key's IP allowlist is left to where the token is used. Details go
 * only to the token's own client, an admin key of its organization, or a verifier that may see the
 * organization; everyone else gets exactly `{"active":false}`, as for unknown or inactive tokens (R41).
 */
export async function introspectAccessToken(
  deps: { readonly catalogue: PermissionCatalogue },
  tokens: AccessTokenVerifier,
  caller: IntrospectionCaller,
  token: string,
): Promise<Introspection> {
  if (!tokens.looksLikeToken(token)) return inactive;
  const { verdict, token: checked } = await tokens.verify(token, { audience: null });
  if (!checked || !(verdict.valid || verdict.code === 'IP_NOT_ALLOWED')) return inactive;
  const { claims } = checked;
  const maySee =
    caller.type === 'verifier'
      ? caller.orgId === null || caller.orgId === claims.org_id
      : caller.actor.keyId === claims.client_id || (caller.actor.orgId === claims.org_id && canManageOrganization(deps.catalogue, caller.actor));
  if (!maySee) return inactive;
  return {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    iss: claims.iss,
    aud: claims.aud,
    jti: claims.jti,
    org_id: claims.org_id,
  };
}
