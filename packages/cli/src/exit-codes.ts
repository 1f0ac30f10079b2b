/**
 * The exit codes scripts may rely on (CONTRACT.md, "CLI and console"). 130 is the shell's own code
 * for an interrupted command (Ctrl-C at a prompt).
 */
export const exitCodes = {
  ok: 0,
  error: 1,
  usage: 2,
  notAuthenticated: 3,
  notFound: 4,
  forbidden: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** The exit code of an HTTP error answer: 401 → 3, 403 → 5, 404 → 4, anything else → 1. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401) return exitCodes.notAuthenticated;
  if (status === 403) return exitCodes.forbidden;
  if (status === 404) return exitCodes.notFound;
  return exitCodes.error;
}
