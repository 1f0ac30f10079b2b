import { CommanderError } from 'commander';
import { ApiFailure } from './api-failure.js';
import { CliError } from './cli-error.js';
import { exitCodeForStatus, exitCodes, type ExitCode } from './exit-codes.js';
import { hintFor } from './failure-hints.js';
import { colours, colourWanted } from './output/style.js';

/**
 * Reports a failed command on standard error and answers the exit code: what went wrong, details, and
 * what to do next. With --json, standard output also carries the failure as its one JSON document,
 * `{"error":{"code","message",...}}`, so a script piping to jq reads an error instead of nothing; the
 * exit code is the same either way.
 */
export function reportFailure(err: unknown, argv: readonly string[] = process.argv): ExitCode {
  const json = argv.includes('--json');
  if (err instanceof CommanderError) {
    // Commander has already printed the usage error or the help.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return exitCodes.ok;
    if (json) writeJsonError({ code: 'usage_error', message: err.message.replace(/^error: /, '') });
    return exitCodes.usage;
  }
  const error = toCliError(err);
  const style = colours(colourWanted(process.stderr, json));
  const lines = [`${style.red('Error:')} ${error.message}`, ...error.details.map((d) => `  ${d}`)];
  if (error.hint) lines.push(error.hint);
  process.stderr.write(`${lines.join('\n')}\n`);
  if (json) writeJsonError(jsonErrorOf(err, error));
  return error.exitCode;
}

/** The `error` of a --json failure: the API's code and message when the API refused, else the CLI's. */
export interface JsonError {
  readonly code: string;
  readonly message: string;
  /** The HTTP status, when the API answered with an error. */
  readonly status?: number;
  /** Per-field reasons of a 422, as the API gave them. */
  readonly reasons?: readonly { path: string; message: string }[];
  readonly hint?: string;
}

/** The code of a failure that did not come from the API, by its exit code. */
const codeByExitCode: Record<ExitCode, string> = {
  [exitCodes.ok]: 'ok',
  [exitCodes.error]: 'error',
  [exitCodes.usage]: 'usage_error',
  [exitCodes.notAuthenticated]: 'not_authenticated',
  [exitCodes.notFound]: 'not_found',
  [exitCodes.forbidden]: 'forbidden',
  [exitCodes.interrupted]: 'interrupted',
};

export function jsonErrorOf(err: unknown, error: CliError = toCliError(err)): JsonError {
  const hint = error.hint ? { hint: error.hint } : {};
  if (err instanceof ApiFailure) {
    const reasons = err.body?.reasons?.length ? { reasons: err.body.reasons.map((r) => ({ path: r.path, message: r.message })) } : {};
    return { code: err.code, message: err.message, status: err.status, ...reasons, ...hint };
  }
  return { code: error.code ?? codeByExitCode[error.exitCode], message: error.message, ...hint };
}

function writeJsonError(error: JsonError): void {
  process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
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
