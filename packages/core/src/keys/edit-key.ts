import { recordAudit } from '../audit/record-audit.js';
import { keyEventData, recordEvent } from '../webhooks/record-event.js';
import type { Actor } from '../auth/actor.js';
import { loadUserGrants } from '../auth/grants.js';
import { assertKeyManageable, assertMayGrantKey } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError } from '../errors.js';
import type { KeyId } from '../ids.js';
import type { Binding } from '../permissions/roles.js';
import type { KeyPatch } from '../ports.js';
import type { Scope } from '../resources/resource-filter.js';
import { loadPolicy } from '../policy/manage-policy.js';
import { assertEditWithinPolicy } from '../policy/organization-policy.js';
import type { ApiKeyRecord, PermissionMode } from './api-key.js';
import { canManageOrganization } from '../auth/policy.js';
import { forbidden } from '../errors.js';
import type { RateLimit } from '../limits/key-limits.js';
import { validateCredits, validateRateLimits, type CreditsInput } from '../limits/limits-input.js';
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

export interface EditKeyInput {
  readonly name?: string | undefined;
  readonly description?: string | null | undefined;
  readonly expiresAt?: Date | null | undefined;
  readonly permissionMode?: PermissionMode | undefined;
  readonly permissions?: readonly string[] | undefined;
  readonly bindings?: readonly Binding[] | undefined;
  readonly scopes?: readonly Scope[] | undefined;
  readonly allowedCidrs?: readonly string[] | undefined;
  /** Replaces the list; [] removes every limit. */
  readonly rateLimits?: readonly RateLimit[] | undefined;
  /** Replaces the credits (owners and admins only); null: unlimited. */
  readonly credits?: CreditsInput | null | undefined;
}

export type EditKeyDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue' | 'bus' | 'limits'>;

const accessFields = ['expiresAt', 'permissionMode', 'permissions', 'bindings', 'scopes', 'allowedCidrs'] as const;

/**
 * Edits a key's name, description, expiry and access. A personal key's new access is checked against
 * its owner's current rights, as at creation, and a key whose access changes must stay within the
 * editor's own current rights (the granting rule). The change is live on the key's next use; when the key
 * has been used, the answer warns that callers relying on removed access fail at once.
 */
export async function editKey(
  deps: EditKeyDeps,
  actor: Actor,
  keyId: KeyId,
  input: EditKeyInput,
): Promise<{ key: ApiKeyRecord; warnings: KeyWarning[] }> {
  const orgId = actor.orgId;
  const now = deps.clock.now();
  const result = await deps.store.transaction(async (tx) => {
    const key = assertKeyManageable(deps.catalogue, actor, await tx.keys.findById(orgId, keyId));
    if (key.revokedAt) throw new DomainError('api_key_already_revoked', 'A revoked key cannot be edited.');
    const mode = input.permissionMode ?? key.permissionMode;
    const permissions = validatePermissions(
      deps.catalogue,
      mode,
      input.permissions ?? (input.permissionMode === 'all' ? [] : key.permissions),
    );
    const warnings: KeyWarning[] = [];
    const patch: { -readonly [K in keyof KeyPatch]: KeyPatch[K] } = { updatedAt: now };
    if (input.name !== undefined) patch.name = input.name;
    if (input.description !== undefined) patch.description = input.description;
    if (input.expiresAt !== undefined) patch.expiresAt = validateExpiry(input.expiresAt, now);
    if (input.scopes !== undefined) patch.scopes = validateScopes(input.scopes, deps.limits);
    if (input.rateLimits !== undefined) patch.rateLimits = validateRateLimits(input.rateLimits);
    if (input.credits !== undefined) {
      if (!canManageOrganization(deps.catalogue, actor)) throw forbidden('Only organization owners and admins may set credits.');
      patch.credits = validateCredits(input.credits, key.credits?.version ?? (await tx.keys.creditsVersion(orgId, keyId)), now);
    }
    if (input.allowedCidrs !== undefined) {
      const { cidrs, warnings: cidrWarnings } = canonicalCidrs(input.allowedCidrs, deps.limits);
      patch.allowedCidrs = cidrs;
      warnings.push(...cidrWarnings);
    }
    if (patch.expiresAt !== undefined || patch.allowedCidrs !== undefined) {
      assertEditWithinPolicy(await loadPolicy(tx, orgId), key, { expiresAt: patch.expiresAt, allowedCidrs: patch.allowedCidrs }, now);
    }
    if (input.permissionMode !== undefined || input.permissions !== undefined) {
      patch.permissionMode = mode;
      patch.permissions = permissions;
    }
    if (input.bindings !== undefined && key.keyType === 'project') {
      throw new FieldError('bindings', 'A project key is bound to its project; its bindings cannot be edited.');
    }
    const bindings = input.bindings ?? key.bindings;
    const resolved = await resolveBindings(tx, deps.catalogue, orgId, bindings, deps.limits);
    if (input.bindings !== undefined) {
      if (bindings.length === 0) throw new FieldError('bindings', 'A key needs at least one binding.');
      patch.bindings = resolved.map((r) => r.binding);
    }
    const owner = key.keyType === 'personal' && key.ownerUserId ? await loadUserGrants(tx, deps.catalogue, orgId, key.ownerUserId) : null;
    if (owner && (input.bindings || input.permissions || input.permissionMode)) {
      assertWithinCeiling(deps.catalogue, resolved, mode, permissions, owner.grants, `org role ${owner.membership?.role ?? 'none'}`);
    } else if (mode === 'restricted') {
      assertRestrictedPermissionsGrantable(deps.catalogue, resolved, permissions);
    }
    const accessChanged = accessFields.some((field) => input[field] !== undefined);
    if (accessChanged) {
      // Changing a key's access (or keeping it alive longer) is granting: the key as edited must lie
      // within the editor's own current rights.
      await assertMayGrantKey(tx, deps.catalogue, actor, { ...key, ...patch }, owner?.grants ?? null);
    }
    if (accessChanged && key.lastUsedAt) {
      warnings.push({
        code: 'access_changed_while_in_use',
        message: `This key was last used at ${key.lastUsedAt.toISOString()}; requests relying on access this change removes fail from now on.`,
      });
    }
    await tx.keys.update(orgId, keyId, patch);
    const changed = Object.keys(patch).filter((k) => k !== 'updatedAt');
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'api_key.updated',
      targetType: 'api_key',
      targetId: keyId,
      details: {
        name: patch.name ?? key.name,
        preview: key.preview,
        changed,
        ...(patch.rateLimits !== undefined ? { rateLimits: patch.rateLimits } : {}),
        ...(patch.credits !== undefined ? { credits: patch.credits && { remaining: patch.credits.remaining, refill: patch.credits.refill } } : {}),
      },
    });
    await tx.invalidations.append({ type: 'key', orgId, keyId }, now);
    const updated = { ...key, ...patch } as ApiKeyRecord;
    await recordEvent(tx, deps.ids, now, orgId, 'api_key.updated', keyEventData(updated, actor, now));
    return { key: updated, warnings };
  });
  await deps.bus.publish({ type: 'key', orgId, keyId });
  return result;
}
