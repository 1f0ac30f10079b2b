/**
 * The permission catalogue: the feature areas (categories) of the operator's product, each with the
 * actions a key may be granted on it. The operator declares it in configuration; the default is the
 * fourteen categories of the LangWatch seed. A permission is written `category:action`.
 */
export type PermissionAction = 'read' | 'write';
export type Permission = `${string}:${string}`;

export interface CatalogueCategory {
  /** The name used in permission strings, e.g. `traces`. `[a-z][a-zA-Z0-9]*`. */
  readonly name: string;
  readonly label: string;
  /** `['read']` for read-only categories such as cost and the audit log. */
  readonly actions: readonly PermissionAction[];
  /** The highest action the built-in MEMBER role has here: `read` for secrets, team and project. */
  readonly memberAccess: PermissionAction;
  readonly descriptions?: Partial<Record<PermissionAction, string>>;
}

export interface PermissionCatalogue {
  readonly categories: readonly CatalogueCategory[];
}

/** The permission to administer an organization: members, keys, signing keys. Only ADMIN at org scope. */
export const ORGANIZATION_MANAGE = 'organization:manage' as const;

const rw = ['read', 'write'] as const;
const ro = ['read'] as const;

export const defaultCatalogue: PermissionCatalogue = {
  categories: [
    { name: 'traces', label: 'Traces', actions: rw, memberAccess: 'write', descriptions: { read: 'View traces and spans', write: 'Create, update, and share traces' } },
    { name: 'cost', label: 'Cost', actions: ro, memberAccess: 'read', descriptions: { read: 'View cost analytics' } },
    { name: 'scenarios', label: 'Scenarios', actions: rw, memberAccess: 'write', descriptions: { read: 'View test scenarios', write: 'Create and manage scenarios' } },
    { name: 'annotations', label: 'Annotations', actions: rw, memberAccess: 'write', descriptions: { read: 'View annotations', write: 'Create and manage annotations' } },
    { name: 'analytics', label: 'Analytics', actions: rw, memberAccess: 'write', descriptions: { read: 'View analytics dashboards', write: 'Create and manage dashboards' } },
    { name: 'evaluations', label: 'Evaluations', actions: rw, memberAccess: 'write', descriptions: { read: 'View evaluations', write: 'Create and manage evaluations' } },
    { name: 'datasets', label: 'Datasets', actions: rw, memberAccess: 'write', descriptions: { read: 'View datasets', write: 'Create and manage datasets' } },
    { name: 'triggers', label: 'Triggers', actions: rw, memberAccess: 'write', descriptions: { read: 'View triggers', write: 'Create and manage triggers' } },
    { name: 'workflows', label: 'Workflows', actions: rw, memberAccess: 'write', descriptions: { read: 'View workflows', write: 'Create and manage workflows' } },
    { name: 'prompts', label: 'Prompts', actions: rw, memberAccess: 'write', descriptions: { read: 'View prompts', write: 'Create and manage prompts' } },
    { name: 'secrets', label: 'Secrets', actions: rw, memberAccess: 'read', descriptions: { read: 'View secrets', write: 'Create and manage secrets' } },
    { name: 'auditLog', label: 'Audit Log', actions: ro, memberAccess: 'read', descriptions: { read: 'View audit log' } },
    { name: 'team', label: 'Team', actions: rw, memberAccess: 'read', descriptions: { read: 'View team members', write: 'Manage team membership' } },
    { name: 'project', label: 'Project', actions: rw, memberAccess: 'read', descriptions: { read: 'View project settings', write: 'Create, update, and delete projects' } },
  ],
};

const categoryName = /^[a-z][a-zA-Z0-9]{0,39}$/;

/**
 * Checks an operator-supplied catalogue. Throws with a message naming the bad entry, so a wrong
 * configuration stops the server at start rather than at the first request.
 */
export function parseCatalogue(input: unknown): PermissionCatalogue {
  if (typeof input !== 'object' || input === null || !Array.isArray((input as { categories?: unknown }).categories)) {
    throw new Error('permission catalogue: expected {"categories":[...]}');
  }
  const seen = new Set<string>();
  const categories = (input as { categories: unknown[] }).categories.map((raw, index): CatalogueCategory => {
    const entry = raw as Record<string, unknown>;
    const name = entry.name;
    if (typeof name !== 'string' || !categoryName.test(name) || name === 'organization') {
      throw new Error(`permission catalogue: categories[${index}].name must match ${categoryName} and not be "organization"`);
    }
    if (seen.has(name)) throw new Error(`permission catalogue: category "${name}" appears twice`);
    seen.add(name);
    const actions = entry.actions ?? ['read', 'write'];
    if (!Array.isArray(actions) || actions.length === 0 || !actions.every((a) => a === 'read' || a === 'write') || !actions.includes('read')) {
      throw new Error(`permission catalogue: categories[${index}].actions must be ["read"] or ["read","write"]`);
    }
    const memberAccess = entry.memberAccess ?? (actions.includes('write') ? 'write' : 'read');
    if (memberAccess !== 'read' && memberAccess !== 'write') {
      throw new Error(`permission catalogue: categories[${index}].memberAccess must be "read" or "write"`);
    }
    return {
      name,
      label: typeof entry.label === 'string' ? entry.label : name,
      actions: actions as PermissionAction[],
      memberAccess: actions.includes(memberAccess) ? memberAccess : 'read',
      ...(typeof entry.descriptions === 'object' && entry.descriptions !== null
        ? { descriptions: entry.descriptions as Partial<Record<PermissionAction, string>> }
        : {}),
    };
  });
  return { categories };
}

/** Every permission the catalogue defines, `organization:manage` included, in a stable order. */
export function allPermissions(catalogue: PermissionCatalogue): Permission[] {
  const out: Permission[] = [];
  for (const category of catalogue.categories) {
    for (const action of category.actions) out.push(`${category.name}:${action}`);
  }
  out.push(ORGANIZATION_MANAGE);
  return out;
}

export function isKnownPermission(catalogue: PermissionCatalogue, permission: string): permission is Permission {
  if (permission === ORGANIZATION_MANAGE) return true;
  const [category, action, extra] = permission.split(':');
  if (extra !== undefined || !category || !action) return false;
  const entry = catalogue.categories.find((c) => c.name === category);
  return entry !== undefined && (entry.actions as readonly string[]).includes(action);
}

export function findCategory(catalogue: PermissionCatalogue, name: string): CatalogueCategory | undefined {
  return catalogue.categories.find((c) => c.name === name);
}
