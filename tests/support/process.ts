import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { migrateToLatest } from '@keyward/store';
import { testPostgresUrl } from '@keyward/store/testing';

export const root = resolve(new URL('../..', import.meta.url).pathname);
export const cliBin = join(root, 'packages/cli/dist/bin.js');

/** A free loopback port (bound, read, released). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Runs the built `keyward` CLI to completion. */
export function runCli(args: string[], env: Record<string, string>, stdin?: string, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  /** Resolves once /healthz answers 200. */
  ready(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `keyward serve` as a real process. */
export function startServerProcess(env: Record<string, string>, port: number): ServerProcess {
  const child = spawn(process.execPath, [cliBin, 'serve'], {
    env: { ...process.env, KEYWARD_PORT: String(port), KEYWARD_HOST: '127.0.0.1', KEYWARD_LOG_LEVEL: 'warn', KEYWARD_CONSOLE_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    url,
    output: () => output,
    async ready() {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
        try {
          const res = await fetch(`${url}/healthz`);
          if (res.status === 200) {
            // The setup link is printed right after listen; wait for the line when setup is pending.
            await new Promise((r) => setTimeout(r, 50));
            return;
          }
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`server not ready: ${output}`);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface DatabaseForProcess {
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * A fresh database for server processes: a SQLite file in a temp dir, or a new PostgreSQL database,
 * migrated (an empty Keyward store, as `keyward migrate` or a first `serve` leaves it: operator
 * commands refuse a database without one) unless `migrated: false`.
 */
export async function databaseForProcess(dialect: 'sqlite' | 'postgres', options: { migrated?: boolean } = {}): Promise<DatabaseForProcess> {
  const made = await freshDatabase(dialect);
  if (options.migrated !== false) await migrateToLatest(made.env.KEYWARD_DATABASE_URL!);
  return made;
}

async function freshDatabase(dialect: 'sqlite' | 'postgres'): Promise<DatabaseForProcess> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-proc-'));
    return { env: { KEYWARD_DATABASE_URL: `sqlite:${join(dir, 'keyward.db')}` }, drop: async () => {} };
  }
  const name = `kw_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  return {
    env: {
      KEYWARD_DATABASE_URL: url.toString(),
      KEYWARD_PEPPER: randomBytes(32).toString('hex'),
      KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    },
    async drop() {
      const cleanup = new pg.Client({ connectionString: testPostgresUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
