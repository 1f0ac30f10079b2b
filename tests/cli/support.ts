import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliBin, runCli } from '../support/process.js';

export interface CliRun {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The built `keyward` CLI as a person runs it: a config folder of their own, no credential in the
 * environment, no colour. Every run is recorded so a test can search all output for secrets.
 */
export class CliUser {
  readonly configHome = mkdtempSync(join(tmpdir(), 'keyward-cli-'));
  readonly runs: CliRun[] = [];
  constructor(readonly url: string) {}

  get env(): Record<string, string> {
    return { XDG_CONFIG_HOME: this.configHome, KEYWARD_URL: this.url, KEYWARD_TOKEN: '', KEYWARD_API_KEY: '', NO_COLOR: '1', COLUMNS: '200' };
  }

  async run(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
    const result = await runCli(args, { ...this.env, ...options.env }, options.stdin);
    const run = { args, ...result };
    this.runs.push(run);
    return run;
  }

  /** Runs a command that must succeed with --json, and answers its parsed document. */
  async json<T = any>(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<T> {
    const run = await this.run([...args, '--json'], options);
    if (run.code !== 0) throw new Error(`keyward ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
  }

  async login(email: string, password: string): Promise<CliRun> {
    const run = await this.run(['auth', 'login', '--email', email, '--password-stdin'], { stdin: `${password}\n` });
    if (run.code !== 0) throw new Error(`login failed: ${run.stderr}`);
    return run;
  }
}

/** A tmux session running one command in a real pseudo-terminal, on a private tmux server. */
export class Terminal {
  private readonly socket = `keyward-test-${randomBytes(6).toString('hex')}`;
  private readonly name = 'cli';

  /** `env` is set in the terminal; names in `unset` are removed from it (NO_COLOR, say). */
  constructor(args: readonly string[], env: Record<string, string>, unset: readonly string[] = []) {
    const envFlags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const command = [process.execPath, cliBin, ...args].map(shellQuote).join(' ');
    const unsets = unset.map((name) => `unset ${name}; `).join('');
    // The pane stays open after the command so its last screen and exit code can be read.
    this.tmux(['new-session', '-d', '-s', this.name, '-x', '120', '-y', '30', ...envFlags, `${unsets}${command}; echo "EXIT=$?"; sleep 60`]);
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** What the pane shows; with `escapes`, the colour codes too. */
  screen(escapes = false): string {
    return this.tmux(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name]);
  }

  /** Types text literally (no key names), then optionally Enter. */
  type(text: string, enter = true): void {
    this.tmux(['send-keys', '-t', this.name, '-l', text]);
    if (enter) this.tmux(['send-keys', '-t', this.name, 'Enter']);
  }

  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // already gone
    }
  }
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
