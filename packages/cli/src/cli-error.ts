import { exitCodes, type ExitCode } from './exit-codes.js';

/**
 * A failure the CLI reports to the person: what went wrong (`message`), optional detail lines, and
 * what to do next (`hint`), with the exit code scripts see.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = exitCodes.error,
    readonly hint?: string,
    readonly details: readonly string[] = [],
    /** The code a --json failure shows; by default one named after the exit code (`not_authenticated`, ...). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A command used wrongly (exit 2): a bad flag value, a missing confirmation on a non-terminal, ... */
export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, exitCodes.usage, hint);
}
