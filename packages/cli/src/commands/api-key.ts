import { Option, type Command } from 'commander';
import type { ApiKey, CreateApiKeyResponse, KeyUsageResponse, KeyWarning, Member, RollApiKeyResponse, RollWarning, UpdateApiKeyResponse, WhoamiResponse } from '@keyward/wire';
import type { ApiClient } from '../api-client.js';
import { ApiFailure } from '../api-failure.js';
import { CliError, usageError } from '../cli-error.js';
import { exitCodes } from '../exit-codes.js';
import { connect, type CommonOptions, type Context } from '../context.js';
import { minute, parseDuration, relativeTime } from '../durations.js';
import type { Output } from '../output/output.js';
import { confirm, isInteractive } from '../prompt.js';
import { createBody, narrowings, updateBody, withAccessFlags, withEditFlags, type AccessOptions, type EditOptions } from './api-key-access.js';
import { registerCreditsCommand } from './api-key-credits.js';
import { createLimits, updateLimits, withLimitEditFlags, withLimitFlags, type LimitOptions } from './api-key-limits.js';
import { creditsText, keyTable, printKey, printSecret, rateLimitWords, usageChart, type CreatorNames } from './api-key-view.js';
import { terminalWidth, withCommon, withExamples } from './common.js';

export function registerApiKeyCommands(program: Command): void {
  const keys = withExamples(program.command('api-key').alias('api-keys').description('create, list, edit, roll and revoke API keys'), [
    'keyward api-key create --name "Production automation"',
    'keyward api-key list',
    'keyward api-key revoke key_2kP9xQ --yes',
  ]);

  withExamples(
    withCommon(
      withLimitFlags(
        withAccessFlags(
          keys
            .command('create')
            .description('create a key; its secret is printed once and never again')
            .requiredOption('--name <name>', 'a name that says where the key is used')
            .addOption(new Option('--type <type>', 'personal (yours, within your rights), service (for CI; admins) or project (one project; admins)').choices(['personal', 'service', 'project']).default('personal'))
            .option('--assign-to <member>', "admins: a personal key for another member, by email or usr_ id"),
        ),
      ).option('-q, --quiet', 'print only the secret (for piping into a secret store)'),
    ),
    [
      'keyward api-key create --name "Production automation"',
      'keyward api-key create --name ci-deploy --type service --project proj_8Hq2 --expires 90d',
      'keyward api-key create --name reports --permission traces:read --allow-ip 203.0.113.0/24 --expires 30d',
      'keyward api-key create --name partner --type service --rate-limit requests=100/1m --rate-limit daily=10000/1d --credits 100000 --refill 100000/month',
      'keyward api-key create --name ci --type service --expires 30d --quiet | gh secret set KEYWARD_API_KEY',
    ],
  ).action((options: CreateOptions) => create(options));

  withExamples(
    withCommon(
      keys
        .command('list')
        .alias('ls')
        .description('list the keys you may see, newest first, as a table that fits the terminal')
        .addOption(new Option('--status <status>', 'which keys').choices(['active', 'expired', 'revoked', 'disabled', 'all']).default('active'))
        .option('--search <text>', 'a name (contains, case-insensitive), a key id, the last four characters of a token, or a whole pasted token')
        .addOption(new Option('--type <type>', 'one type of key').choices(['personal', 'service', 'project']))
        .option('--owner <userId>', 'only the personal keys of this member (usr_...)')
        .addOption(
          new Option('--sort <order>', 'createdAt, lastUsedAt, expiresAt or name; a leading "-" for descending (never used, never expiring: last)')
            .choices(['createdAt', '-createdAt', 'lastUsedAt', '-lastUsedAt', 'expiresAt', '-expiresAt', 'name', '-name'])
            .default('-createdAt'),
        ),
    ),
    [
      'keyward api-key list',
      'keyward api-key list --status all --search deploy',
      'keyward api-key list --status all --search "$LEAKED_TOKEN"',
      'keyward api-key list --sort=-lastUsedAt',
      'keyward api-key list --json | jq -r ".[].id"',
    ],
  ).action((options: ListOptions) => list(options));

  withExamples(withCommon(keys.command('get').description('show one key').argument('<id>', 'the key id (key_...)')), ['keyward api-key get key_2kP9xQ']).action(
    async (id: string, options: CommonOptions) => {
      const context = await connect(options);
      const key = await context.client.get<ApiKey>(`/api/api-keys/${encodeURIComponent(id)}`);
      if (context.output.json) context.output.document(key);
      else printKey(context.output, key, await creatorNames(context, [key]));
    },
  );

  withExamples(
    withCommon(
      withLimitEditFlags(
        withLimitFlags(
          withEditFlags(withAccessFlags(keys.command('edit').description("change a key's name, description, expiry, access, rate limits or credits").argument('<id>', 'the key id'))),
        ),
      ).option('-y, --yes', 'do not ask before narrowing the access of a key in use'),
    ),
    [
      'keyward api-key edit key_2kP9xQ --name "Nightly export"',
      'keyward api-key edit key_2kP9xQ --permission traces:read --yes',
      'keyward api-key edit key_2kP9xQ --expires 2027-01-01',
      'keyward api-key edit key_2kP9xQ --rate-limit requests=100/1m --rate-limit burst=10/1s',
      'keyward api-key edit key_2kP9xQ --no-rate-limits --unlimited-credits',
    ],
  ).action((id: string, options: EditOptions & LimitOptions & CommonOptions) => edit(id, options));

  withExamples(
    withCommon(
      keys
        .command('roll')
        .description('give a key a new secret (printed once); the old secret works for --overlap, then stops')
        .argument('<id>', 'the key id')
        .option('--overlap <duration>', 'how long the old secret keeps working, e.g. 24h (default: it stops now)')
        .option('-q, --quiet', 'print only the new secret'),
    ),
    ['keyward api-key roll key_2kP9xQ --overlap 24h', 'keyward api-key roll key_2kP9xQ --quiet | vault kv put secret/ci KEYWARD_API_KEY=-'],
  ).action((id: string, options: CommonOptions & { overlap?: string }) => roll(id, options));

  withExamples(
    withCommon(
      keys
        .command('revoke')
        .description('revoke a key: permanent and immediate. Asks first; without a terminal, needs --yes')
        .argument('<id>', 'the key id')
        .option('--reason <text>', 'why, kept with the key and in the audit log (at most 200 characters; default "revoked")')
        .option('-y, --yes', 'revoke without asking'),
    ),
    ['keyward api-key revoke key_2kP9xQ', 'keyward api-key revoke key_2kP9xQ --reason "laptop stolen" --yes'],
  ).action((id: string, options: CommonOptions & { yes?: boolean; reason?: string }) => revoke(id, options));

  registerCreditsCommand(keys);

  withExamples(
    withCommon(
      keys
        .command('usage')
        .description('valid and rejected requests of a key over time, as a small chart')
        .argument('<id>', 'the key id')
        .option('--since <duration>', 'how far back, e.g. 24h, 7d, 30d', '7d')
        .addOption(new Option('--interval <interval>', 'bucket size (default: by --since)').choices(['minute', 'hour', 'day'])),
    ),
    ['keyward api-key usage key_2kP9xQ', 'keyward api-key usage key_2kP9xQ --since 24h --interval hour --json'],
  ).action((id: string, options: CommonOptions & { since: string; interval?: string }) => usage(id, options));
}

type CreateOptions = AccessOptions & LimitOptions & CommonOptions & { type?: string; assignTo?: string };

interface ListOptions extends CommonOptions {
  status: string;
  search?: string;
  type?: string;
  owner?: string;
  sort: string;
}

function printWarnings(output: Output, warnings: readonly (KeyWarning | RollWarning)[]): void {
  for (const warning of warnings) output.warn(`${warning.message} (${warning.code})`);
}

/** The binding role a person's org role gives: what --project on a personal key binds with. */
async function personBindingRole(client: ApiClient): Promise<'ADMIN' | 'MEMBER' | 'VIEWER'> {
  const whoami = await client.get<WhoamiResponse>('/api/auth/whoami');
  if (whoami.role === 'OWNER' || whoami.role === 'ADMIN') return 'ADMIN';
  return whoami.role === 'VIEWER' ? 'VIEWER' : 'MEMBER';
}

/** The member with this email (case-insensitive), or exit 4 naming it. */
async function memberIdByEmail(client: Awaited<ReturnType<typeof connect>>['client'], email: string): Promise<string> {
  const wanted = email.trim().toLowerCase();
  const member = (await client.all<Member>('/api/members')).find((m) => m.email.toLowerCase() === wanted);
  if (!member) throw new CliError(`No member of this organization has the email ${email}; see keyward members list.`, exitCodes.notFound);
  return member.userId;
}

async function create(options: CreateOptions): Promise<void> {
  const limits = createLimits(options);
  const { client, output } = await connect(options);
  const needsRole = (options.type ?? 'personal') === 'personal' && options.project?.length && !options.role?.length;
  const assignTo = options.assignTo?.includes('@') ? await memberIdByEmail(client, options.assignTo) : options.assignTo;
  const body = { ...createBody({ ...options, assignTo }, needsRole ? await personBindingRole(client) : 'MEMBER'), ...limits };
  const created = await client.post<CreateApiKeyResponse>('/api/api-keys', body);
  printWarnings(output, created.warnings);
  if (output.json) return output.document(created);
  if (output.quiet) return output.bare(created.token);
  const key = created.apiKey;
  output.line(`${output.style.green('✓')} Created ${key.keyType} key ${output.style.bold(`"${key.name}"`)} (${key.id}).`);
  printSecret(output, created.token);
  output.line(`  Preview ${key.preview} · expires ${key.expiresAt ? minute(key.expiresAt) : 'never'} · see it with keyward api-key get ${key.id}`);
  if (key.rateLimits.length > 0) output.line(`  Rate limits ${key.rateLimits.map(rateLimitWords).join(' · ')}`);
  if (key.credits) output.line(`  Credits ${creditsText(key.credits)}`);
  if (key.keyType !== 'project' && key.bindings.filter((b) => b.scopeType === 'PROJECT').length > 1) {
    output.line('  It reaches several projects: callers name one with the X-Project-Id header.');
  }
}

async function list(options: ListOptions): Promise<void> {
  const context = await connect(options);
  const query = { status: options.status, q: options.search, keyType: options.type, ownerUserId: options.owner, sort: options.sort === '-createdAt' ? undefined : options.sort };
  const keys = await context.client.all<ApiKey>('/api/api-keys', query);
  const { output } = context;
  if (output.json) return output.document(keys);
  if (keys.length === 0) {
    const which = options.status === 'all' ? '' : `${options.status} `;
    output.line(`No ${which}keys${options.search ? ` matching "${options.search}"` : ''}. Create one: keyward api-key create --name NAME`);
    return;
  }
  output.line(keyTable(keys, await creatorNames(context, keys), terminalWidth(), output.style));
  output.note(output.style.dim(`${keys.length} key${keys.length === 1 ? '' : 's'}${options.status === 'active' ? ' (active; --status all for every key)' : ''}`));
}

/**
 * Names for the "created by" column: "you", else members' emails when the caller may list
 * members (owners and admins), else the ids.
 */
async function creatorNames(context: Context, keys: readonly ApiKey[]): Promise<CreatorNames> {
  const me = context.credentialSource === 'session' ? context.session?.user.id : undefined;
  const emails = new Map<string, string>();
  if (!context.output.json && keys.some((k) => k.createdByUserId && k.createdByUserId !== me)) {
    try {
      for (const m of await context.client.all<Member>('/api/members')) emails.set(m.userId, m.email);
    } catch (err) {
      if (!(err instanceof ApiFailure && err.status === 403)) throw err;
    }
  }
  return (key) => {
    if (key.createdByUserId) return key.createdByUserId === me ? 'you' : (emails.get(key.createdByUserId) ?? key.createdByUserId);
    return key.createdByKeyId ? `key ${key.createdByKeyId}` : '-';
  };
}

async function edit(id: string, options: EditOptions & LimitOptions & CommonOptions): Promise<void> {
  const limitsFor = updateLimits(options);
  const context = await connect(options);
  const { client, output } = context;
  const path = `/api/api-keys/${encodeURIComponent(id)}`;
  const key = await client.get<ApiKey>(path);
  const needsRole = key.keyType === 'personal' && options.project?.length && !options.role?.length;
  const body = { ...updateBody(options, key, needsRole ? await personBindingRole(client) : 'MEMBER'), ...limitsFor(key) };
  if (Object.keys(body).length === 0) throw usageError('Nothing to change: give at least one flag.', `See: keyward api-key edit --help`);
  const narrowed = narrowings(key, body);
  if (narrowed.length > 0 && key.lastUsedAt && !options.yes) {
    const what = `This change ${narrowed.join('; ')}. "${key.name}" was last used ${relativeTime(key.lastUsedAt)}: callers relying on that access will be refused at once.`;
    if (!isInteractive()) throw usageError(what, `Add --yes to make the change anyway: keyward api-key edit ${id} ... --yes`);
    process.stderr.write(`${what}\n`);
    if (!(await confirm('Make the change?'))) throw new CliError('Not changed.', 1);
  }
  const updated = await client.patch<UpdateApiKeyResponse>(path, body);
  printWarnings(output, updated.warnings);
  if (output.json) return output.document(updated);
  const { warnings: _warnings, ...changed } = updated;
  output.line(`${output.style.green('✓')} Updated "${changed.name}" (${changed.id}).`);
  printKey(output, changed, await creatorNames(context, [changed]));
}

async function roll(id: string, options: CommonOptions & { overlap?: string }): Promise<void> {
  const { client, output } = await connect(options);
  const overlapMs = options.overlap ? parseDuration(options.overlap, '--overlap') : 0;
  const body = overlapMs ? { oldKeyExpiresAt: new Date(Date.now() + overlapMs).toISOString() } : {};
  const rolled = await client.post<RollApiKeyResponse>(`/api/api-keys/${encodeURIComponent(id)}/roll`, body);
  printWarnings(output, rolled.warnings);
  if (output.json) return output.document(rolled);
  if (output.quiet) return output.bare(rolled.token);
  const key = rolled.apiKey;
  output.line(`${output.style.green('✓')} Rolled "${key.name}" (${key.id}): here is its new secret.`);
  printSecret(output, rolled.token);
  const until = key.rollOverlapEndsAt && new Date(key.rollOverlapEndsAt) > new Date() ? key.rollOverlapEndsAt : null;
  output.line(until ? `  The previous secret keeps working until ${minute(until)}.` : '  The previous secret has stopped working.');
}

async function revoke(id: string, options: CommonOptions & { yes?: boolean; reason?: string }): Promise<void> {
  const { client, output } = await connect(options);
  const path = `/api/api-keys/${encodeURIComponent(id)}`;
  const key = await client.get<ApiKey>(path);
  if (!options.yes) {
    if (!isInteractive()) {
      throw usageError(`Not revoking "${key.name}" (${key.id}) without a confirmation, and standard input is not a terminal.`, `To revoke it from a script, add --yes: keyward api-key revoke ${key.id} --yes`);
    }
    const lastUse = key.lastUsedAt ? `last used ${relativeTime(key.lastUsedAt)} (${minute(key.lastUsedAt)})` : 'never used';
    process.stderr.write(`Key "${key.name}" (${key.id}, ${key.keyType}, ${key.preview}), ${lastUse}.\n`);
    process.stderr.write('Revoking is permanent and immediate: every request with this key will be refused.\n');
    if (!(await confirm(`Revoke "${key.name}"?`))) throw new CliError('Not revoked.', 1);
  }
  const answer = await client.delete<{ success: true }>(path, options.reason === undefined ? undefined : { reason: options.reason });
  if (output.json) return output.document(answer);
  const why = options.reason?.trim() ? ` Reason: ${options.reason.trim()}.` : '';
  output.line(`${output.style.green('✓')} Revoked "${key.name}" (${key.id}). Requests with it are refused from now on.${why}`);
}

function intervalFor(sinceMs: number): 'minute' | 'hour' | 'day' {
  if (sinceMs <= 3 * 3_600_000) return 'minute';
  if (sinceMs <= 3 * 86_400_000) return 'hour';
  return 'day';
}

async function usage(id: string, options: CommonOptions & { since: string; interval?: string }): Promise<void> {
  const { client, output } = await connect(options);
  const sinceMs = parseDuration(options.since, '--since');
  const interval = (options.interval ?? intervalFor(sinceMs)) as 'minute' | 'hour' | 'day';
  const from = new Date(Date.now() - sinceMs).toISOString();
  const report = await client.get<KeyUsageResponse>(`/api/api-keys/${encodeURIComponent(id)}/usage`, { from, interval });
  if (output.json) return output.document(report);
  const { style } = output;
  output.line(`Requests with ${report.keyId} since ${minute(report.from)}, by ${interval}:`);
  output.line('');
  output.line(usageChart(report, style, terminalWidth()));
  output.line('');
  const codes = Object.entries(report.totals.rejectedByCode).map(([code, n]) => `${code} ${n}`).join(', ');
  output.line(`Total: ${style.green(String(report.totals.valid))} valid, ${style.red(String(report.totals.rejected))} rejected${codes ? ` (${codes})` : ''}.`);
}
