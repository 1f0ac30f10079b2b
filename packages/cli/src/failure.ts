import { CommanderError } from 'commander';
import { ApiFailure } from './api-failure.js';
import { CliError } from './cli-error.js';
import { exitCodeForStatus, exitCodes, type ExitCode } from './exit-codes.js';
import { hintFor } from './failure-hints.js';
import { colours, colourWanted } from './output/style.js';

/**
 * Reports a failed command on standard error (never on standard output, which --json keeps for one
 * document) and answers the exit code: what went wrong, details, and what to do next.
 */
export function reportFailure(err: unknown): ExitCode {
  if (err instanceof CommanderError) {
    // Commander has already printed the usage error or the help.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return exitCodes.ok;
    return exitCodes.usage;
  }
  const error = toCliError(err);
  const style = colours(colourWanted(process.stderr, process.argv.includes('--json')));
  const lines = [`${style.red('Error:')} ${error.message}`, ...error.details.map((d) => `  ${d}`)];
  if (error.hint) lines.push(error.hint);
  process.stderr.write(`${lines.join('\n')}\n`);
  return error.exitCode;
}

export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ApiFailure) {
    const details = (err.body?.reasons ?? []).map((r) => `${r.path || '(body)'}: ${r.message}`);
    if (err.status >= 500 && err.body?.requestId) details.push(`request id: ${err.body.requestId}`);
    const message = `${err.message} (${err.code}, HTTP ${err.status})`;
    return new CliError(message, exitCodeForStatus(err.status), hintFor(err), details);
  }
  return new CliError(err instanceof Error ? err.message : String(err));
}
