import type { ProjectId } from '../ids.js';
import type { VerifiedKey } from '../keys/verify-key.js';
import { isKnownPermission, type Permission, type PermissionCatalogue } from '../permissions/catalogue.js';
import { effectivePermissions } from '../permissions/decide.js';
import type { ScopeContext } from '../permissions/rights.js';
import { withImpliedReads } from '../permissions/roles.js';
import type { Project } from '../projects/project.js';

/** RFC 6749 §3.3: scope-tokens of %x21 / %x23-5B / %x5D-7E, separated by single spaces. */
const scopeGrammar = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;

export type ScopeProblem = { readonly problem: string };

/**
 * The permissions a `scope` parameter asks for: catalogue permissions, deduplicated, with the reads
 * that writes imply (as everywhere else, `write` includes `read`). A problem for anything outside the
 * grammar or the catalogue.
 */
export function parseScope(catalogue: PermissionCatalogue, scope: string): Permission[] | ScopeProblem {
  if (!scopeGrammar.test(scope)) return { problem: 'scope must be space-delimited permissions, e.g. "traces:read datasets:write".' };
  const asked = [...new Set(scope.split(' '))];
  const unknown = asked.filter((p) => !isKnownPermission(catalogue, p));
  if (unknown.length > 0) return { problem: `${unknown.join(', ')} ${unknown.length === 1 ? 'is not a permission' : 'are not permissions'} of this deployment.` };
  return [...withImpliedReads(asked)];
}

/**
 * Every permission the key effectively holds somewhere: at the organization, and at each team and
 * project its own or its owner's grants name (the key's grants ∩ its owner's current rights ∩ its
 * resource scopes). A token's `scope` may ask for any subset of it, never more.
 */
export async function grantablePermissions(
  verified: Pick<VerifiedKey, 'key' | 'grants' | 'ownerGrants' | 'subject'>,
  order: readonly Permission[],
  project: (projectId: ProjectId) => Promise<Project | null>,
): Promise<Permission[]> {
  const contexts: ScopeContext[] = [{}];
  const seen = new Set<string>();
  for (const grant of [...verified.grants, ...(verified.ownerGrants ?? [])]) {
    const name = `${grant.scopeType}:${grant.scopeId}`;
    if (grant.scopeType === 'ORGANIZATION' || seen.has(name)) continue;
    seen.add(name);
    if (grant.scopeType === 'TEAM') contexts.push({ teamId: grant.scopeId });
    else {
      const found = await project(grant.scopeId as ProjectId);
      if (found && !found.archivedAt) contexts.push({ projectId: found.id, teamId: found.teamId });
    }
  }
  const held = new Set<Permission>();
  for (const ctx of contexts) for (const p of effectivePermissions(verified.subject, ctx, order)) held.add(p);
  return order.filter((p) => held.has(p));
}
