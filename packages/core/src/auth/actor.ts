import type { AuditActor } from '../audit/audit-entry.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import type { KeyId, OrgId, UserId, VerifierId } from '../ids.js';
import type { Permission } from '../permissions/catalogue.js';
import type { OrgRole } from '../permissions/roles.js';
import type { Grant } from '../permissions/rights.js';

/** Where a request came from, for audit entries. */
export interface RequestOrigin {
  readonly ip: string | null;
  readonly requestId: string | null;
}

/** A person acting through a session in one of their organizations. */
export interface UserActor extends RequestOrigin {
  readonly type: 'user';
  readonly orgId: OrgId;
  readonly userId: UserId;
  readonly role: OrgRole;
  readonly grants: readonly Grant[];
}

/**
 * An API key (or an access token minted from one) acting in its organization. `grants` are the key's
 * own; `ownerGrants` are its owner's current grants (personal keys), which cap the key on every use.
 * `tokenPermissions` narrows an access token to the scope it was issued with.
 */
export interface KeyActor extends RequestOrigin {
  readonly type: 'api_key' | 'access_token';
  readonly orgId: OrgId;
  readonly keyId: KeyId;
  readonly key: ApiKeyRecord;
  readonly grants: readonly Grant[];
  readonly ownerGrants: readonly Grant[] | null;
  readonly tokenPermissions: readonly Permission[] | null;
  /** The project named by `X-Project-Id`, or the only project the key is bound to. */
  readonly projectId: string | null;
}

export type Actor = UserActor | KeyActor;

/** A deployment-level verifier credential: may verify keys, nothing else. */
export interface VerifierActor {
  readonly type: 'verifier';
  readonly verifierId: VerifierId;
  readonly orgId: OrgId | null;
}

/** Keyward itself acting on the store: an operator command (leak reports have their own actor type). */
export interface SystemActor extends RequestOrigin {
  readonly type: 'system';
  readonly orgId: OrgId;
  /** Who acted, for the audit log's actor id (default `operator`). */
  readonly label?: 'operator';
}

export function auditActorOf(actor: Actor | SystemActor): AuditActor {
  switch (actor.type) {
    case 'user':
      return { type: 'user', id: actor.userId };
    case 'system':
      return { type: 'system', id: actor.label ?? 'operator' };
    default:
      return { type: actor.type, id: actor.keyId, preview: actor.key.preview };
  }
}

/** The person behind an actor, if any: the user, or a personal key's owner. */
export function actingUserId(actor: Actor): UserId | null {
  return actor.type === 'user' ? actor.userId : actor.key.ownerUserId;
}
