import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { OrganizationSummary, PublicUser } from '@keyward/wire';
import { CliError } from './cli-error.js';

/** What `keyward auth login` keeps between commands. Never printed: the token is a credential. */
export interface StoredSession {
  readonly url: string;
  readonly sessionToken: string;
  readonly expiresAt: string;
  readonly user: PublicUser;
  readonly organizations: OrganizationSummary[];
  /** The organization commands act on unless --org names another; set by login and `orgs switch`. */
  readonly organizationId: string | null;
}

/** `$XDG_CONFIG_HOME/keyward`, or `~/.config/keyward`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'keyward');
}

export function sessionPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'session.json');
}

export function readSession(env: NodeJS.ProcessEnv = process.env): StoredSession | null {
  let text: string;
  try {
    text = readFileSync(sessionPath(env), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`Could not read the session file ${sessionPath(env)}: ${(err as Error).message}`);
  }
  try {
    const session = JSON.parse(text) as StoredSession;
    if (typeof session.sessionToken !== 'string' || typeof session.url !== 'string') return null;
    return session;
  } catch {
    return null;
  }
}

/**
 * Writes the session readable by its owner only: the folder 0700 and the file 0600. The token goes
 * into a fresh 0600 file that is then renamed over the old one, so it is never, even briefly, in a
 * file with a wider mode (an old session file keeps its mode when overwritten in place).
 */
export function writeSession(session: StoredSession, env: NodeJS.ProcessEnv = process.env): void {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = sessionPath(env);
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export function removeSession(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(sessionPath(env), { force: true });
}
