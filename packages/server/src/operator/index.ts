import { Command, InvalidArgumentError } from 'commander';
import { createOrganization, PepperRing, createKeyFormat, prefixedIds, systemClock } from '@keyward/core';
import { registerCatalogueCommands } from './catalogue-commands.js';
import { registerVerifierCommands } from './verifier-commands.js';
import { registerPasswordCommands } from './password-commands.js';
import { migrateToLatest, openStore, storeProblem } from '@keyward/store';
import { ConfigError, DEFAULT_DATABASE_URL, loadConfig, type Config } from '../config.js';

/** Operator commands: they act on the store directly, with the same environment as the server. */
export function registerOperatorCommands(program: Command): void {
  program
    .command('serve')
    .description('Start the Keyward server (API and console). Applies pending migrations first.')
    .addHelpText('after', '\nExamples:\n  $ keyward serve\n  $ KEYWARD_DATABASE_URL=postgres://localhost/keyward KEYWARD_PEPPER=... KEYWARD_ENCRYPTION_KEY=... keyward serve\n')
    .action(async () => {
      // Loaded only for serve: the whole server takes about a second to import, which no other command needs.
      const { serve } = await import('./serve.js');
      await serve(config());
    });

  program
    .command('migrate')
    .description('Apply pending database migrations and exit.')
    .action(async () => {
      const cfg = config();
      const applied = await migrateToLatest(cfg.databaseUrl);
      process.stdout.write(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'The database is up to date.\n');
    });

  const admin = program.command('admin').description('Operator administration on the store (no server needed).');

  admin
    .command('create-org')
    .description('Create an organization with its owner, bootstrap it, and create an org-wide ADMIN service key.')
    .requiredOption('--name <name>', 'the organization name')
    .requiredOption('--owner-email <email>', "the owner's email (an existing user joins as owner)")
    .option('--owner-password-stdin', "read the owner's password from the first line of standard input")
    .option('--no-bootstrap', 'leave the organization un-bootstrapped (no signing keys, no admin key)')
    .option('--json', 'print one JSON document')
    .addHelpText('after', '\nExample:\n  $ echo "$PASSWORD" | keyward admin create-org --name Acme --owner-email ada@acme.test --owner-password-stdin --json\n')
    .action(async (options: { name: string; ownerEmail: string; ownerPasswordStdin?: boolean; bootstrap: boolean; json?: boolean }) => {
      const cfg = await existingStoreConfig();
      const password = options.ownerPasswordStdin ? await readFirstLine() : undefined;
      await withStore(cfg, async (store) => {
        const created = await createOrganization(
          {
            store,
            clock: systemClock,
            ids: prefixedIds,
            peppers: new PepperRing(cfg.peppers),
            keyFormat: createKeyFormat(cfg.keyPrefix),
            encryptionKey: cfg.encryptionKey,
          },
          { name: options.name, ownerEmail: options.ownerEmail, ownerPassword: password, bootstrap: options.bootstrap, createAdminKey: options.bootstrap },
        );
        const out = {
          organizationId: created.organization.id,
          ownerUserId: created.ownerUserId,
          ...(created.generatedOwnerPassword ? { ownerPassword: created.generatedOwnerPassword } : {}),
          ...(created.adminKey ? { adminKey: created.adminKey } : {}),
        };
        if (options.json) {
          process.stdout.write(`${JSON.stringify(out)}\n`);
          return;
        }
        process.stdout.write(`Created organization ${out.organizationId} (${options.name}); owner ${out.ownerUserId}.\n`);
        if (out.ownerPassword) process.stdout.write(`Owner password (shown once): ${out.ownerPassword}\n`);
        if (out.adminKey) process.stdout.write(`Admin key ${out.adminKey.id} (shown once, store it now):\n${out.adminKey.token}\n`);
        else process.stdout.write('Not bootstrapped: POST /api/organization/bootstrap as its owner before creating keys.\n');
      });
    });

  registerVerifierCommands(admin, { existingStoreConfig, withStore });
  registerPasswordCommands(admin, { existingStoreConfig, withStore });
  registerCatalogueCommands(program, admin);

  admin
    .command('rotate-signing-key')
    .description("Rotate an organization's signing keys: the next key signs from now on (planned: once published ten minutes), or --emergency: the current key is retired at once as compromised.")
    .requiredOption('--organization <orgId>', 'the organization', (value: string) => {
      if (!/^org_[0-9A-Za-z]+$/.test(value)) throw new InvalidArgumentError('an organization id starts with org_');
      return value;
    })
    .option('--emergency', 'the current key may have leaked: refuse its tokens at once')
    .option('--json', 'print one JSON document: {"data":[signing keys]}')
    .addHelpText('after', '\nExample:\n  $ keyward admin rotate-signing-key --organization org_123 --json\n')
    .action(async (options: { organization: string; emergency?: boolean; json?: boolean }) => {
      const { runRotateSigningKey } = await import('../oauth/rotate-signing-key-command.js');
      await runRotateSigningKey(await existingStoreConfig(), options);
    });
}

/**
 * The configuration for a command that acts on an existing store: refuses (exit 2) a database that
 * does not exist or holds no Keyward store, before anything (such as SQLite's generated secrets file)
 * is written beside it. Only `serve` and `migrate` create a store.
 */
async function existingStoreConfig(): Promise<Config> {
  const url = process.env.KEYWARD_DATABASE_URL || DEFAULT_DATABASE_URL;
  const problem = await storeProblem(url);
  if (problem) {
    process.stderr.write(`keyward: ${problem}\n`);
    process.exit(2);
  }
  return config();
}

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keyward: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function withStore<T>(cfg: Config, fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(cfg.databaseUrl, { migrate: true, lockWaitMs: cfg.sqliteLockWaitMs });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** The operator program on its own (what `npm start` runs through `main.ts`). */
export async function runOperator(argv: string[]): Promise<void> {
  const program = new Command('keyward').description('Keyward: API keys for your API.');
  // Usage errors (a missing option, an unknown command) exit with 2; help exits with 0.
  program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  registerOperatorCommands(program);
  await program.parseAsync(argv);
}
