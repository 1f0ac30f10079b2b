import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import type { AuditFilter, Page, PageRequest } from '../ports.js';
import type { AuditEntry } from './audit-entry.js';

/** The organization's audit log, newest first. Owners and admins (and keys with organization:manage). */
export function listAuditLog(
  deps: Pick<CoreDeps, 'store' | 'catalogue'>,
  actor: Actor,
  filter: AuditFilter,
  page: PageRequest,
): Promise<Page<AuditEntry>> {
  assertCanManageOrganization(deps.catalogue, actor);
  return deps.store.audit.list(actor.orgId, filter, page);
}
