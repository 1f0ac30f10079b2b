#!/usr/bin/env node
import { Command } from 'commander';
import { reportFailure } from './failure.js';
import { cliVersion } from './version.js';

/**
 * `keyward`: one command for operators (`serve`, `migrate`, `admin ...`, which act on the store and
 * come from @keyward/server, loaded only when used) and for people (`auth login`, `api-key ...`, pure
 * HTTP clients of the API).
 */
const operatorCommands = new Set(['serve', 'migrate', 'admin', 'init']);

const helpAfter = `
Examples:
  $ keyward auth login --url https://keyward.example.com
  $ keyward api-key create --name "Production automation"
  $ keyward api-key list --json
  $ keyward orgs switch Acme

Every person command takes --json (one JSON document on standard output), --org and --url.
Environment: KEYWARD_URL (server), KEYWARD_TOKEN (an API key or session token, for scripts),
XDG_CONFIG_HOME (where the session is kept), NO_COLOR (no colour).
Exit codes: 0 ok, 1 error, 2 usage, 3 not authenticated, 4 not found, 5 forbidden.

Operator commands (run where the server runs, with its environment):
  init                  write a starter permission catalogue for your API
  serve                 start the server (API and console)
  migrate               apply database migrations
  admin create-org      create an organization, its owner and an admin key
  admin verifier        list, create, roll and revoke credentials for POST /api/keys/verify
  admin catalogue check validate a permission catalogue file

Guide: docs/cli.md
`;

/** Runs the command; answers true for person commands, which end the process when done. */
async function main(argv: string[]): Promise<boolean> {
  const first = argv.slice(2).find((arg) => !arg.startsWith('-'));
  if (first && operatorCommands.has(first)) {
    // `serve` keeps running after this resolves: the operator commands end the process themselves.
    const { runOperator } = await import('@keyward/server/operator');
    await runOperator(argv);
    return false;
  }
  // Usage errors throw instead of exiting, so they leave with exit code 2; subcommands inherit this.
  const program = new Command('keyward')
    .description('Keyward: API keys for your API.')
    .version(cliVersion, '-V, --version')
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText('after', helpAfter);
  const { registerPersonCommands } = await import('./commands.js');
  registerPersonCommands(program);
  await program.parseAsync(argv);
  return true;
}

/**
 * Exits once standard output and error have flushed. A finished person command must not wait for
 * fetch's idle keep-alive socket to time out, but writes to a pipe are asynchronous on POSIX and a
 * plain process.exit could cut a long --json document short.
 */
function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

// A reader that stops early (`keyward api-key list --json | head -1`) is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv).then(
  (isPersonCommand) => {
    if (isPersonCommand) exitWhenFlushed(Number(process.exitCode ?? 0));
  },
  (err: unknown) => exitWhenFlushed(reportFailure(err)),
);
