import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './process.js';

const run = promisify(execFile);

/**
 * A PostgreSQL server of the test's own: `initdb` into a temporary folder, `pg_ctl` on a free
 * loopback port, trust authentication. A test can stop it (fast shutdown) and start it again on the
 * same port and data, or hang it (SIGSTOP of the postmaster and every backend: connections stay open,
 * nothing answers), harming no other test. Run as the `postgres` user when the test runs as root,
 * since initdb and postgres refuse root.
 */
export interface OwnPostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  url(database?: string): string;
  /** Creates a database and answers its URL. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl stop -m fast`: backends end, connections close, clean shutdown. */
  stop(): Promise<void>;
  /** Starts again on the same port and data, after `stop`. */
  start(): Promise<void>;
  /** SIGSTOP to the postmaster and all its children: the database hangs, connections stay open. */
  pause(): void;
  /** SIGCONT to all of them. */
  resume(): void;
  /** Ends it whatever its state and removes its folder; for afterAll. */
  cleanup(): Promise<void>;
}

/** The folder holding initdb and pg_ctl: the newest /usr/lib/postgresql/<version>/bin, else the PATH. */
function binaryFolder(): string | null {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((name) => /^\d+$/.test(name) && existsSync(join(base, name, 'bin', 'pg_ctl')))
      .sort((x, y) => Number(y) - Number(x));
    if (versions.length > 0) return join(base, versions[0]!, 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Whether this machine can run a PostgreSQL of a test's own (the binaries exist; as root, a `postgres` user). */
export function ownPostgresAvailable(): boolean {
  const bin = binaryFolder();
  if (!bin || !existsSync(join(bin, 'initdb'))) return false;
  if (!asRoot) return true;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return existsSync('/usr/sbin/runuser') || existsSync('/sbin/runuser') || existsSync('/usr/bin/runuser');
  } catch {
    return false;
  }
}

/** Runs a PostgreSQL binary, as `postgres` when the test runs as root. */
function runPostgresBinary(bin: string, name: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const command = join(bin, name);
  return asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
}

/** The process ids whose parent is `parent` (Linux: /proc). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = binaryFolder();
  if (!bin) throw new Error('No PostgreSQL binaries (initdb, pg_ctl) found');
  const folder = mkdtempSync(join(tmpdir(), 'keyward-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(folder, uid, gid);
  }
  const data = join(folder, 'data');
  const logFile = join(folder, 'postgres.log');
  const port = await freePort();
  let postmaster: number | null = null;
  let paused = false;

  // If the test process dies before its afterAll, take the server down with it (immediate shutdown).
  const onExit = () => {
    if (postmaster === null) return;
    signal(postmaster, 'SIGCONT');
    signal(postmaster, 'SIGQUIT');
  };
  process.once('exit', onExit);

  const readPostmaster = (): number => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const start = async () => {
    await runPostgresBinary(bin, 'pg_ctl', [
      '-D', data, '-l', logFile, '-w', '-t', '60',
      '-o', `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      'start',
    ]);
    postmaster = readPostmaster();
  };
  const stopWith = async (mode: 'fast' | 'immediate') => {
    if (postmaster === null) return;
    if (paused) resume();
    await runPostgresBinary(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    postmaster = null;
  };
  const everyProcess = (): number[] => (postmaster === null ? [] : [postmaster, ...childrenOf(postmaster)]);
  const resume = () => {
    for (const pid of everyProcess()) signal(pid, 'SIGCONT');
    paused = false;
  };

  try {
    await runPostgresBinary(bin, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await start();
  } catch (err) {
    process.removeListener('exit', onExit);
    rmSync(folder, { recursive: true, force: true });
    throw new Error(`could not start a PostgreSQL of the test's own: ${(err as Error).message}${existsSync(logFile) ? `\n${readFileSync(logFile, 'utf8')}` : ''}`);
  }

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error('a plain database name, please');
      const client = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop: () => stopWith('fast'),
    start,
    pause() {
      if (postmaster === null) throw new Error('PostgreSQL is not running');
      // The postmaster first, so that it forks no new backend that would escape the stop.
      signal(postmaster, 'SIGSTOP');
      for (const pid of childrenOf(postmaster)) signal(pid, 'SIGSTOP');
      paused = true;
    },
    resume,
    async cleanup() {
      try {
        await stopWith('immediate');
      } catch {
        onExit();
      }
      process.removeListener('exit', onExit);
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
