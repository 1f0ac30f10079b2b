#!/usr/bin/env node
import { Command } from 'commander';

/**
 * `keyward`: one command for operators (`serve`, `migrate`, `admin ...`, which act on the store and
 * come from @keyward/server, loaded only when used) and for people (`auth login`, `api-key ...`, pure
 * HTTP clients of the API).
 */
const operatorCommands = new Set(['serve', 'migrate', 'admin']);

async function main(argv: string[]): Promise<void> {
  const first = argv.slice(2).find((arg) => !arg.startsWith('-'));
  if (first && operatorCommands.has(first)) {
    const { runOperator } = await import('@keyward/server/operator');
    await runOperator(argv);
    return;
  }
  const program = new Command('keyward')
    .description('Keyward: API keys for your API.')
    .addHelpText(
      'after',
      '\nOperator commands (run where the server runs, with its environment):\n  serve                 start the server (API and console)\n  migrate               apply database migrations\n  admin create-org      create an organization, its owner and an admin key\n  admin create-verifier create a credential for POST /api/keys/verify\n',
    );
  const { registerPersonCommands } = await import('./commands.js');
  registerPersonCommands(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`keyward: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
