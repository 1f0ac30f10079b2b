import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import {
  MAX_VERIFIER_OVERLAP_MS,
  PepperRing,
  createLocalCacheBus,
  createVerifier,
  revokeVerifier,
  rollVerifier,
  systemClock,
  type OrgId,
  type Store,
  type VerifierId,
} from '@keyward/core';
import type { Config } from '../config.js';

interface Tools {
  existingStoreConfig(): Promise<Config>;
  withStore<T>(cfg: Config, fn: (store: Store) => Promise<T>): Promise<T>;
}

const verifierIdPattern = /^ver_[0-9A-Za-z]{16}$/;

function verifierId(value: string): string {
  if (!verifierIdPattern.test(value)) throw new InvalidArgumentError('a verifier id looks like ver_ and 16 letters or digits (see `keyward admin verifier list`)');
  return value;
}

/** `30s`, `45m`, `1h`, `7d`, or `0`: a duration in milliseconds, at most 7 days. */
export function parseOverlap(value: string): number {
  const match = /^(\d+)(s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('give a duration such as 30m, 1h or 7d (0: the old token stops at once)');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  const ms = Number(match[1]) * unit;
  if (ms > MAX_VERIFIER_OVERLAP_MS) throw new InvalidArgumentError('the overlap is at most 7d');
  return ms;
}

function fail(message: string, code: number): void {
  process.stderr.write(`keyward: ${message}\n`);
  process.exitCode = code;
}

/**
 * `keyward admin verifier list|create|revoke <id>|roll <id>`: verifier credentials on the store. A
 * revoke or roll reaches every running server through the invalidation log within a second.
 */
export function registerVerifierCommands(admin: Command, tools: Tools): void {
  const verifier = admin
    .command('verifier')
    .description('List, create, revoke and roll verifier credentials (for POST /api/keys/verify and the SDK).')
    .addHelpText('after', '\nExamples:\n  $ keyward admin verifier list\n  $ keyward admin verifier create --name gateway --json\n  $ keyward admin verifier roll ver_0123456789abcdef --overlap 1h --json\n  $ keyward admin verifier revoke ver_0123456789abcdef --yes\n');

  verifier
    .command('list')
    .description('Every verifier credential, oldest first (revoked ones marked).')
    .option('--json', 'print one JSON array of {id, name, organizationId, createdAt, lastUsedAt, revokedAt}')
    .action(async (options: { json?: boolean }) => {
      const cfg = await tools.existingStoreConfig();
      await tools.withStore(cfg, async (store) => {
        const all = await store.verifiers.list();
        const rows = all.map((v) => ({
          id: v.id,
          name: v.name,
          organizationId: v.orgId,
          createdAt: v.createdAt.toISOString(),
          lastUsedAt: v.lastUsedAt?.toISOString() ?? null,
          revokedAt: v.revokedAt?.toISOString() ?? null,
        }));
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('No verifier credentials yet. Create one: keyward admin verifier create --name gateway\n');
          return;
        }
        for (const r of rows) {
          const scope = r.organizationId ?? 'every organization';
          const state = r.revokedAt ? `revoked ${r.revokedAt}` : `last used ${r.lastUsedAt ?? 'never'}`;
          process.stdout.write(`${r.id}  ${r.name}  (${scope}; created ${r.createdAt}; ${state})\n`);
        }
      });
    });

  const create = async (options: { name: string; organization?: string; json?: boolean }) => {
    const cfg = await tools.existingStoreConfig();
    await tools.withStore(cfg, async (store) => {
      const orgId = (options.organization ?? null) as OrgId | null;
      if (orgId && !(await store.orgs.findById(orgId))) return fail(`No organization ${orgId}.`, 4);
      const { id, token } = await createVerifier({ store, clock: systemClock, peppers: new PepperRing(cfg.peppers) }, { name: options.name, orgId });
      if (options.json) process.stdout.write(`${JSON.stringify({ id, token })}\n`);
      else process.stdout.write(`Verifier ${id} (shown once, store it now):\n${token}\n`);
    });
  };
  const organization = (value: string) => {
    if (!/^org_[0-9A-Za-z]+$/.test(value)) throw new InvalidArgumentError('an organization id starts with org_');
    return value;
  };
  for (const [parent, name] of [
    [verifier, 'create'],
    [admin, 'create-verifier'],
  ] as const) {
    parent
      .command(name)
      .description('Create a verifier credential for POST /api/keys/verify (all organizations, or one). The token is shown once.')
      .requiredOption('--name <name>', 'what the credential is for, e.g. "api-gateway"')
      .option('--organization <orgId>', 'limit it to one organization', organization)
      .option('--json', 'print one JSON document: {id, token}')
      .addHelpText('after', `\nExample:\n  $ keyward admin ${parent === admin ? 'create-verifier' : 'verifier create'} --name gateway --json\n`)
      .action(create);
  }

  verifier
    .command('revoke')
    .argument('<id>', 'the verifier id (ver_...)', verifierId)
    .description('Revoke a verifier credential for good; every server refuses it within a second and ends its invalidation streams.')
    .option('--yes', 'do not ask (required without a terminal)')
    .option('--json', 'print one JSON document: {"success":true}')
    .action(async (id: string, options: { yes?: boolean; json?: boolean }) => {
      const cfg = await tools.existingStoreConfig();
      await tools.withStore(cfg, async (store) => {
        const record = await store.verifiers.findForVerification(id as VerifierId);
        if (!record) return fail(`No verifier ${id}.`, 4);
        if (record.revokedAt) return fail(`Verifier ${id} was already revoked at ${record.revokedAt.toISOString()}.`, 1);
        if (!options.yes) {
          if (!process.stdin.isTTY) return fail('Revoking cannot be undone: add --yes to confirm without a terminal.', 2);
          const prompt = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await prompt.question(`Revoke verifier ${id} (${record.name})? Servers using it stop verifying keys. [y/N] `);
          prompt.close();
          if (!/^y(es)?$/i.test(answer.trim())) return fail('Not revoked.', 1);
        }
        const bus = createLocalCacheBus();
        await revokeVerifier({ store, clock: systemClock, bus }, id as VerifierId);
        if (options.json) process.stdout.write(`${JSON.stringify({ success: true })}\n`);
        else process.stdout.write(`Revoked ${id} (${record.name}).\n`);
      });
    });

  verifier
    .command('roll')
    .argument('<id>', 'the verifier id (ver_...)', verifierId)
    .description('A new token for the same verifier id; the old one keeps working for --overlap.')
    .option('--overlap <duration>', 'how long the old token keeps working: 0, 30m, 1h (default), up to 7d', parseOverlap, 3_600_000)
    .option('--json', 'print one JSON document: {id, token}')
    .action(async (id: string, options: { overlap: number; json?: boolean }) => {
      const cfg = await tools.existingStoreConfig();
      await tools.withStore(cfg, async (store) => {
        const rolled = await rollVerifier({ store, clock: systemClock, peppers: new PepperRing(cfg.peppers), bus: createLocalCacheBus() }, id as VerifierId, options.overlap);
        if (!rolled) return fail(`No active verifier ${id} (unknown or revoked).`, 4);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rolled)}\n`);
          return;
        }
        const until = options.overlap > 0 ? `until ${new Date(Date.now() + options.overlap).toISOString()}` : 'no longer (stopped at once)';
        process.stdout.write(`Rolled ${id}: the old token works ${until}. New token (shown once, store it now):\n${rolled.token}\n`);
      });
    });
}
