import { recordAudit } from '../audit/record-audit.js';
import { keyEventData, recordEvent } from '../webhooks/record-event.js';
import { actingUserId, type Actor } from '../auth/actor.js';
import { loadUserGrants } from '../auth/grants.js';
import { assertMayGrantKey, canManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError, forbidden, notFound } from '../errors.js';
import type { ProjectId, UserId } from '../ids.js';
import { bindingRoleForOrgRole, type Binding } from '../permissions/roles.js';
import type { Grant } from '../permissions/rights.js';
import type { Scope } from '../resources/resource-filter.js';
import { keyIdFromLookupId, type ApiKeyRecord, type KeyType, type PermissionMode } from './api-key.js';
import {
  assertRestrictedPermissionsGrantable,
  assertWithinCeiling,
  canonicalCidrs,
  resolveBindings,
  validateExpiry,
  validatePermissions,
  validateScopes,
  type KeyWarning,
} from './key-input.js';
import { LOOKUP_ID_LENGTH } from './key-format.js';
import { randomBase62 } from '../ids.js';
import { loadPolicy } from '../policy/manage-policy.js';
import { applyPolicyToNewKey } from '../policy/organization-policy.js';
import type { RateLimit } from '../limits/key-limits.js';
import { validateCredits, validateRateLimits, type CreditsInput } from '../limits/limits-input.js';

export interface CreateKeyInput {
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly keyType?: KeyType | undefined;
  readonly bindings?: readonly Binding[] | undefined;
  readonly projectIds?: readonly string[] | undefined;
  readonly projectId?: string | undefined;
  readonly assignedToUserId?: string | undefined;
  readonly permissionMode?: PermissionMode | undefined;
  readonly permissions?: readonly string[] | undefined;
  readonly scopes?: readonly Scope[] | undefined;
  readonly allowedCidrs?: readonly string[] | undefined;
  readonly expiresAt?: Date | null | undefined;
  readonly rateLimits?: readonly RateLimit[] | undefined;
  /** Only owners and admins may give a key credits; null or absent: unlimited. */
  readonly credits?: CreditsInput | null | undefined;
}

export interface CreatedKey {
  /** The whole token: returned once, never stored. */
  readonly token: string;
  readonly key: ApiKeyRecord;
  readonly warnings: KeyWarning[];
}

export type CreateKeyDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers' | 'keyFormat' | 'catalogue' | 'bus' | 'limits'>;

/**
 * Creates a key. Only admins create service and project keys. A personal key belongs to the calling
 * person (or, for admins, to `assignedToUserId`) and may not exceed its owner's current rights; no key
 * may do what its creator cannot do at this moment (the granting rule, `assertMayGrantKey`): asking
 * for more is refused with `api_key_scope_violation`. The owner's membership row is locked while the
 * check and the insert run, so a concurrent demotion cannot slip between them (R19).
 */
export async function createKey(deps: CreateKeyDeps, actor: Actor, input: CreateKeyInput): Promise<CreatedKey> {
  const keyType = input.keyType ?? 'personal';
  const mode = input.permissionMode ?? 'all';
  const now = deps.clock.now();
  const isAdmin = canManageOrganization(deps.catalogue, actor);
  if (keyType !== 'personal' && !isAdmin) {
    throw forbidden(`Only organization owners and admins may create ${keyType} keys.`);
  }
  const permissions = validatePermissions(deps.catalogue, mode, input.permissions ?? []);
  const scopes = validateScopes(input.scopes ?? [], deps.limits);
  const { cidrs, warnings } = canonicalCidrs(input.allowedCidrs ?? [], deps.limits);
  const requestedExpiresAt = validateExpiry(input.expiresAt, now);
  const rateLimits = validateRateLimits(input.rateLimits ?? []);
  if (input.credits != null && !isAdmin) throw forbidden('Only organization owners and admins may set credits.');
  const credits = validateCredits(input.credits ?? null, 0, now);
  if (keyType !== 'service' && input.projectIds && input.projectIds.length > 0) {
    throw new FieldError('projectIds', 'projectIds is for service keys; personal keys take bindings, project keys projectId.');
  }
  if (keyType !== 'project' && input.projectId !== undefined) {
    throw new FieldError('projectId', 'projectId is for project keys.');
  }

  const created = await deps.store.transaction(async (tx) => {
    const org = await tx.orgs.findById(actor.orgId);
    if (!org) throw notFound.organization();
    if (!org.bootstrappedAt) {
      throw new DomainError('organization_not_bootstrapped', 'Bootstrap the organization before creating API keys: POST /api/organization/bootstrap.');
    }
    // The organization's key policy: refuses what it forbids, and gives a default expiry.
    const policy = await loadPolicy(tx, actor.orgId);
    const { expiresAt, warnings: policyWarnings } = applyPolicyToNewKey(policy, { keyType, expiresAt: requestedExpiresAt, allowedCidrs: cidrs }, now);
    warnings.push(...policyWarnings);

    let ownerUserId: UserId | null = null;
    let projectId: ProjectId | null = null;
    let bindings: Binding[] = [];
    let ownerGrants: Grant[] | null = null;

    if (keyType === 'personal') {
      const self = actingUserId(actor);
      const requested = input.assignedToUserId as UserId | undefined;
      if (requested && requested !== self && !isAdmin) throw forbidden('Only admins may create keys for other members.');
      ownerUserId = requested ?? (actor.type === 'user' ? actor.userId : null);
      if (!ownerUserId) {
        throw new FieldError('assignedToUserId', 'A personal key created with an API key needs assignedToUserId: the member who will own it.');
      }
      const owner = await tx.members.findForUpdate(actor.orgId, ownerUserId);
      if (!owner || owner.status !== 'active') throw notFound.member();
      const { grants } = await loadUserGrants(tx, deps.catalogue, actor.orgId, ownerUserId);
      ownerGrants = grants;
      bindings = input.bindings?.length
        ? [...input.bindings]
        : [{ role: bindingRoleForOrgRole(owner.role), scopeType: 'ORGANIZATION', scopeId: actor.orgId }];
      const resolved = await resolveBindings(tx, deps.catalogue, actor.orgId, bindings, deps.limits);
      assertWithinCeiling(deps.catalogue, resolved, mode, permissions, grants, `org role ${owner.role}`);
      bindings = resolved.map((r) => r.binding);
      const active = await tx.keys.countActiveForOwner(actor.orgId, ownerUserId, now);
      if (active >= deps.limits.maxActiveKeysPerOwner) {
        throw new DomainError('conflict', `This member already has ${active} active keys; revoke some first.`);
      }
    } else if (keyType === 'service') {
      if (input.bindings?.length && input.projectIds?.length) {
        throw new FieldError('bindings', 'Give either bindings or projectIds, not both.');
      }
      bindings = input.bindings?.length
        ? [...input.bindings]
        : input.projectIds?.length
          ? [...new Set(input.projectIds)].map((id) => ({ role: 'ADMIN' as const, scopeType: 'PROJECT' as const, scopeId: id }))
          : [{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: actor.orgId }];
      const resolved = await resolveBindings(tx, deps.catalogue, actor.orgId, bindings, deps.limits);
      if (mode === 'restricted') assertRestrictedPermissionsGrantable(deps.catalogue, resolved, permissions);
      bindings = resolved.map((r) => r.binding);
      if (!input.bindings?.length && !input.projectIds?.length) {
        warnings.push({ code: 'service_key_organization_wide', message: 'Without projectIds this service key is ADMIN on the whole organization; scope it to projects where you can.' });
      }
      if (!expiresAt) warnings.push({ code: 'service_key_without_expiry', message: 'This service key never expires; consider an expiry and a rotation schedule.' });
    } else {
      if (!input.projectId) throw new FieldError('projectId', 'A project key needs projectId.');
      const project = await tx.projects.findById(actor.orgId, input.projectId as ProjectId);
      if (!project) throw notFound.project();
      if (project.archivedAt) throw new DomainError('project_archived', 'This project is archived.', { projectId: project.id });
      projectId = project.id;
    }
    await assertMayGrantKey(tx, deps.catalogue, actor, { keyType, projectId, bindings, permissionMode: mode, permissions, scopes, ownerUserId }, ownerGrants);

    const { token, key } = mintKey(deps, {
      orgId: actor.orgId,
      keyType,
      name: input.name,
      description: input.description ?? null,
      ownerUserId,
      createdByUserId: actingUserId(actor),
      createdByKeyId: actor.type === 'user' ? null : actor.keyId,
      projectId,
      bindings,
      permissionMode: mode,
      permissions,
      scopes,
      allowedCidrs: cidrs,
      expiresAt,
      rateLimits,
      credits,
      now,
    });
    await tx.keys.insert(key);
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'api_key.created',
      targetType: 'api_key',
      targetId: key.id,
      details: {
        name: key.name,
        keyType,
        preview: key.preview,
        ownerUserId,
        permissionMode: mode,
        ...(rateLimits.length ? { rateLimits } : {}),
        ...(credits ? { credits: { remaining: credits.remaining, refill: credits.refill } } : {}),
      },
    });
    await recordEvent(tx, deps.ids, now, key.orgId, 'api_key.created', keyEventData(key, actor, now, policy));
    await tx.invalidations.append({ type: 'key', orgId: key.orgId, keyId: key.id }, now);
    return { token, key };
  });
  // A verifier may hold a negative cache entry for this id; drop it before answering.
  await deps.bus.publish({ type: 'key', orgId: created.key.orgId, keyId: created.key.id });
  return { ...created, warnings };
}

type MintFields = Pick<
  ApiKeyRecord,
  | 'orgId' | 'keyType' | 'name' | 'description' | 'ownerUserId' | 'createdByUserId' | 'createdByKeyId' | 'projectId'
  | 'bindings' | 'permissionMode' | 'permissions' | 'scopes' | 'allowedCidrs' | 'expiresAt'
> & Partial<Pick<ApiKeyRecord, 'rateLimits' | 'credits'>> & { now: Date };

/** A new key record and its token: a fresh secret, its digest under the current pepper, the preview. */
export function mintKey(deps: Pick<CoreDeps, 'ids' | 'peppers' | 'keyFormat'>, fields: MintFields): { token: string; key: ApiKeyRecord } {
  const { now, ...rest } = fields;
  const lookupId = fields.keyType === 'project' ? null : randomBase62(LOOKUP_ID_LENGTH);
  const generated = lookupId ? deps.keyFormat.generate(lookupId) : deps.keyFormat.generateProjectKey();
  const key: ApiKeyRecord = {
    ...rest,
    id: lookupId ? keyIdFromLookupId(lookupId) : deps.ids.next('key'),
    lookupId,
    secret: { digest: deps.peppers.digest(generated.secret).toString('hex'), pepperVersion: deps.peppers.current.version },
    previousSecret: null,
    previousSecretExpiresAt: null,
    preview: deps.keyFormat.preview(generated.token),
    lastUsedAt: null,
    createdAt: now,
    updatedAt: now,
    revokedAt: null,
    revokedReason: null,
    disabledAt: null,
    rateLimits: fields.rateLimits ?? [],
    credits: fields.credits ?? null,
  };
  return { token: generated.token, key };
}
