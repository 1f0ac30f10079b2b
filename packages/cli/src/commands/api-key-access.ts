import type { Command } from 'commander';
import type { ApiKey, CreateApiKeyBody, UpdateApiKeyBody } from '@keyward/wire';
import { usageError } from '../cli-error.js';
import { parseExpiry } from '../durations.js';
import { collect } from './common.js';

type Binding = ApiKey['bindings'][number];
type Scope = ApiKey['scopes'][number];
type BindingRole = Binding['role'];

/** The access flags `api-key create` and `api-key edit` share. */
export interface AccessOptions {
  readonly name?: string;
  readonly description?: string;
  readonly project?: string[];
  readonly role?: string[];
  readonly scopeType?: string[];
  readonly scopeId?: string[];
  readonly permission?: string[];
  readonly scope?: string[];
  readonly allowIp?: string[];
  readonly expires?: string;
}

export function withAccessFlags(command: Command): Command {
  return command
    .option('--description <text>', 'what the key is for')
    .option('--project <id>', 'a project the key reaches (repeatable): service keys get ADMIN there, personal keys your role or --role, project keys exactly one', collect)
    .option('--role <role>', 'ADMIN, MEMBER or VIEWER: with --scope-type and --scope-id a binding (repeatable, paired in order), or the role on --project', collect)
    .option('--scope-type <type>', 'ORGANIZATION, TEAM or PROJECT (repeatable)', collect)
    .option('--scope-id <id>', 'the organization, team or project id of the binding (repeatable)', collect)
    .option('--permission <category:action>', 'restrict the key to these permissions, e.g. traces:read (repeatable)', collect)
    .option('--scope <action:resource>', 'restrict the key to resources, e.g. read:reports/* (repeatable; action read, write, admin or *)', collect)
    .option('--allow-ip <cidr>', 'accept the key only from these addresses, e.g. 203.0.113.0/24 (repeatable)', collect)
    .option('--expires <when>', 'a duration (30d, 12h), a date (2027-01-01) or an RFC 3339 time');
}

const bindingRoles = ['ADMIN', 'MEMBER', 'VIEWER'];
const scopeTypes = ['ORGANIZATION', 'TEAM', 'PROJECT'];

function upperChoice(value: string, choices: readonly string[], flag: string): string {
  const upper = value.toUpperCase();
  if (!choices.includes(upper)) throw usageError(`${flag} takes ${choices.join(', ')}, not "${value}".`);
  return upper;
}

/**
 * Bindings from --role/--scope-type/--scope-id triples and from --project; `projectRole` is the
 * role a --project binding gets when --role does not say. Undefined when no flag asks for any.
 */
export function bindingsFrom(options: AccessOptions, projectRole: BindingRole): Binding[] | undefined {
  const roles = (options.role ?? []).map((r) => upperChoice(r, bindingRoles, '--role') as BindingRole);
  const types = (options.scopeType ?? []).map((t) => upperChoice(t, scopeTypes, '--scope-type') as Binding['scopeType']);
  const ids = options.scopeId ?? [];
  const projects = options.project ?? [];
  if (types.length !== ids.length) throw usageError('Give --scope-type and --scope-id in pairs, one of each per binding.');
  if (types.length > 0 && roles.length !== types.length) throw usageError('Give one --role per --scope-type/--scope-id binding, in the same order.');
  if (types.length === 0 && roles.length > 1) throw usageError('With --project, give at most one --role (the role on those projects).');
  const explicit = types.map((scopeType, i) => ({ role: roles[i]!, scopeType, scopeId: ids[i]! }));
  const role = types.length === 0 && roles[0] ? roles[0] : projectRole;
  const onProjects = projects.map((scopeId) => ({ role, scopeType: 'PROJECT' as const, scopeId }));
  const all = [...explicit, ...onProjects];
  if (all.length === 0 && roles.length === 0) return undefined;
  if (all.length === 0) throw usageError('--role needs --project, or --scope-type with --scope-id.');
  return all;
}

export function scopesFrom(values: readonly string[] | undefined): Scope[] | undefined {
  if (!values?.length) return undefined;
  return values.map((value) => {
    const at = value.indexOf(':');
    const action = at > 0 ? value.slice(0, at) : '';
    if (!['read', 'write', 'admin', '*'].includes(action) || at === value.length - 1) {
      throw usageError(`--scope takes ACTION:RESOURCE with action read, write, admin or *, e.g. read:reports/*; not "${value}".`);
    }
    return { action: action as Scope['action'], resource: value.slice(at + 1) };
  });
}

/** The create body the flags ask for. `personRole` is the caller's binding role, for --project on personal keys. */
export function createBody(options: AccessOptions & { type?: string; assignTo?: string }, personRole: BindingRole): CreateApiKeyBody {
  const keyType = (options.type ?? 'personal') as CreateApiKeyBody['keyType'] & string;
  if (!['personal', 'service', 'project'].includes(keyType)) throw usageError(`--type takes personal, service or project, not "${options.type}".`);
  const body: CreateApiKeyBody = { name: options.name!, keyType };
  const projects = options.project ?? [];
  if (keyType === 'project') {
    if (projects.length !== 1) throw usageError('A project key belongs to exactly one project: give one --project ID.');
    if (options.role?.length || options.scopeType?.length) throw usageError('A project key takes no --role or bindings: it acts on its one project.');
    body.projectId = projects[0];
  } else if (keyType === 'service' && !options.role?.length && !options.scopeType?.length) {
    if (projects.length) body.projectIds = projects;
  } else {
    const bindings = bindingsFrom(options, keyType === 'service' ? 'ADMIN' : personRole);
    if (bindings) body.bindings = bindings;
  }
  if (options.description !== undefined) body.description = options.description;
  if (options.assignTo) body.assignedToUserId = options.assignTo;
  if (options.permission?.length) {
    body.permissionMode = 'restricted';
    body.permissions = options.permission;
  }
  const scopes = scopesFrom(options.scope);
  if (scopes) body.scopes = scopes;
  if (options.allowIp?.length) body.allowedCidrs = options.allowIp;
  if (options.expires) body.expiresAt = parseExpiry(options.expires);
  return body;
}

export interface EditOptions extends AccessOptions {
  readonly expiry?: boolean;
  readonly allPermissions?: boolean;
  readonly anyIp?: boolean;
  readonly scopes?: boolean;
  readonly yes?: boolean;
}

export function withEditFlags(command: Command): Command {
  return command
    .option('--name <name>', 'a new name')
    .option('--no-expiry', 'remove the expiry')
    .option('--all-permissions', "lift a --permission restriction: the key gets all of its bindings' permissions")
    .option('--any-ip', 'remove the IP restriction')
    .option('--no-scopes', 'remove the resource restriction');
}

/** The PATCH body the edit flags ask for; `projectRole` is the role --project binds with. */
export function updateBody(options: EditOptions, key: ApiKey, projectRole: BindingRole): UpdateApiKeyBody {
  const body: UpdateApiKeyBody = {};
  if (options.name !== undefined) body.name = options.name;
  if (options.description !== undefined) body.description = options.description === '' ? null : options.description;
  if (options.expires && options.expiry === false) throw usageError('Give either --expires or --no-expiry.');
  if (options.expires) body.expiresAt = parseExpiry(options.expires);
  if (options.expiry === false) body.expiresAt = null;
  if (options.permission?.length && options.allPermissions) throw usageError('Give either --permission or --all-permissions.');
  if (options.permission?.length) {
    body.permissionMode = 'restricted';
    body.permissions = options.permission;
  }
  if (options.allPermissions) {
    body.permissionMode = 'all';
    body.permissions = [];
  }
  if (key.keyType === 'project' && (options.project?.length || options.role?.length || options.scopeType?.length)) {
    throw usageError('A project key stays on its one project: it takes no --project, --role or bindings.');
  }
  const bindings = bindingsFrom(options, key.keyType === 'service' ? 'ADMIN' : projectRole);
  if (bindings) body.bindings = bindings;
  const scopes = scopesFrom(options.scope);
  if (scopes && options.scopes === false) throw usageError('Give either --scope or --no-scopes.');
  if (scopes) body.scopes = scopes;
  if (options.scopes === false) body.scopes = [];
  if (options.allowIp?.length && options.anyIp) throw usageError('Give either --allow-ip or --any-ip.');
  if (options.allowIp?.length) body.allowedCidrs = options.allowIp;
  if (options.anyIp) body.allowedCidrs = [];
  return body;
}

/**
 * What an edit takes away from a key: callers that relied on it fail at once, so the CLI asks
 * first when the key is in use. Widening changes (more rights, a later expiry) are not listed.
 */
export function narrowings(key: ApiKey, body: UpdateApiKeyBody): string[] {
  const found: string[] = [];
  const bindingKey = (b: Binding) => `${b.role} ${b.scopeType} ${b.scopeId}`;
  if (body.bindings) {
    const kept = new Set(body.bindings.map(bindingKey));
    const removed = key.bindings.filter((b) => !kept.has(bindingKey(b)));
    if (removed.length) found.push(`removes access: ${removed.map(bindingKey).join(', ')}`);
  }
  if (body.permissionMode === 'restricted') {
    const kept = new Set(body.permissions ?? []);
    if (key.permissionMode === 'all') found.push(`restricts the key to ${[...kept].join(', ')}`);
    else {
      const removed = key.permissions.filter((p) => !kept.has(p));
      if (removed.length) found.push(`removes permissions: ${removed.join(', ')}`);
    }
  }
  if (body.scopes && body.scopes.length > 0) {
    const kept = new Set(body.scopes.map((s) => `${s.action}:${s.resource}`));
    if (key.scopes.length === 0 || key.scopes.some((s) => !kept.has(`${s.action}:${s.resource}`))) found.push('narrows the resources it reaches');
  }
  if (body.allowedCidrs && body.allowedCidrs.length > 0) {
    const kept = new Set(body.allowedCidrs);
    if (key.allowedCidrs.length === 0 || key.allowedCidrs.some((c) => !kept.has(c))) found.push(`limits it to addresses ${body.allowedCidrs.join(', ')}`);
  }
  if (body.expiresAt && (!key.expiresAt || new Date(body.expiresAt) < new Date(key.expiresAt))) found.push(`makes it expire sooner, at ${body.expiresAt}`);
  return found;
}
