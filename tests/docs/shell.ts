import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One bash, fed the docs' examples a step at a time (so that the test can read what a step printed
 * before it writes the next), as a person pastes them into one terminal: variables, aliases and the
 * working folder carry over from step to step. Every step runs with standard input from /dev/null,
 * as a paste into a script would, so nothing waits for a prompt.
 */
export interface StepResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The shell ended during the step (a failed command under `set -e`), with this code. */
  readonly exitedWith: number | null;
  readonly timedOut: boolean;
}

export class DocShell {
  private readonly child: ChildProcess;
  private stdout = '';
  private stderr = '';
  private readStdout = 0;
  private readStderr = 0;
  private steps = 0;
  private exitCode: number | null = null;
  private readonly exited: Promise<void>;
  private wake: () => void = () => {};

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['--noprofile', '--norc', '-s'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.wake();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : 1);
        this.wake();
        resolve();
      }),
    );
    this.child.stdin!.on('error', () => {}); // the shell may end before it reads everything
    this.child.stdin!.write(
      [
        'shopt -s expand_aliases', // pasted into a terminal, an alias the docs define is used
        "__kw_done() { printf '\\n<<kw:done %s>>\\n' \"$1\"; printf '\\n<<kw:done %s>>\\n' \"$1\" >&2; }",
        "__kw_mark() { printf '\\n<<kw:%s>>\\n' \"$1\"; printf '<<kw:%s>>\\n' \"$1\" >> \"$KW_CURL_LOG\"; }",
        '',
      ].join('\n'),
    );
  }

  /** Runs `script` (complete shell text) and returns what it printed. */
  async run(script: string, timeoutMs: number): Promise<StepResult> {
    const step = ++this.steps;
    const done = `<<kw:done ${step}>>\n`;
    if (this.exitCode === null) this.child.stdin!.write(`${script}\n__kw_done ${step}\n`);
    const deadline = Date.now() + timeoutMs;
    let timedOut = false;
    while (this.exitCode === null && !(this.stdout.includes(done, this.readStdout) && this.stderr.includes(done, this.readStderr))) {
      const left = deadline - Date.now();
      if (left <= 0) {
        timedOut = true;
        break;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const outEnd = this.stdout.indexOf(done, this.readStdout);
    const errEnd = this.stderr.indexOf(done, this.readStderr);
    const stdout = this.stdout.slice(this.readStdout, outEnd === -1 ? undefined : outEnd);
    const stderr = this.stderr.slice(this.readStderr, errEnd === -1 ? undefined : errEnd);
    this.readStdout = outEnd === -1 ? this.stdout.length : outEnd + done.length;
    this.readStderr = errEnd === -1 ? this.stderr.length : errEnd + done.length;
    return { stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, ''), exitedWith: outEnd === -1 ? this.exitCode : null, timedOut };
  }

  /** Ends the shell and whatever it started (its process group). */
  async close(): Promise<void> {
    if (this.exitCode === null) {
      this.child.stdin!.end();
      try {
        process.kill(-this.child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await this.exited;
  }
}

/**
 * A folder of commands put first on the shell's PATH:
 * - `curl`: the real curl, which also notes each answer's status (`<<kw:status 201 POST url>>`) in
 *   `$KW_CURL_LOG`, so that the test sees an example that got a 4xx although curl exits 0. A `-w` in
 *   the example itself wins over it (that answer's status is then not noted).
 * - `keyward`: the command `npx keyward` runs from the checkout, as the alias in docs/cli.md makes it.
 * - `npx`: `npx keyward ...` runs that same command at once, without npm's second of start-up (the
 *   test checks once that the real npx, in a folder of the checkout, runs this CLI); any other
 *   `npx` is the real one.
 * - `npm`: refused. `npm start`, `npm install`, `npm run bench` and the like build, install or serve
 *   from the checkout itself; a block holding one is marked `<!-- example: skip (why) -->`.
 */
export function shims(dir: string, root: string, realCurl: string, realNpx: string): void {
  mkdirSync(dir, { recursive: true });
  const curl = join(dir, 'curl');
  writeFileSync(
    curl,
    [
      '#!/usr/bin/env bash',
      'out=$(mktemp)',
      `${JSON.stringify(realCurl)} -w '%{stderr}<<kw:status %{http_code} %{method} %{url_effective}>>\\n' "$@" 2>"$out"`,
      'rc=$?',
      'grep -a "^<<kw:status " "$out" >> "$KW_CURL_LOG"',
      'grep -av "^<<kw:status " "$out" >&2',
      'rm -f "$out"',
      'exit $rc',
      '',
    ].join('\n'),
  );
  chmodSync(curl, 0o755);
  const keyward = join(dir, 'keyward');
  if (!existsSync(keyward)) symlinkSync(join(root, 'packages/cli/bin/keyward.js'), keyward);
  const npx = join(dir, 'npx');
  writeFileSync(
    npx,
    [
      '#!/usr/bin/env bash',
      `if [ "$1" = keyward ]; then shift; exec ${JSON.stringify(keyward)} "$@"; fi`,
      `exec ${JSON.stringify(realNpx)} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(npx, 0o755);
  const npm = join(dir, 'npm');
  writeFileSync(
    npm,
    [
      '#!/usr/bin/env bash',
      `echo 'tests/docs: an example runs "npm '"$*"'", which changes the checkout: mark its block <!-- example: skip (why) -->' >&2`,
      'exit 97',
      '',
    ].join('\n'),
  );
  chmodSync(npm, 0o755);
}

/** The lines `<<kw:...>>` the curl shim and the marks wrote since `from` (a byte offset). */
export function curlLog(path: string, from: number): { lines: string[]; end: number } {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return { lines: text.slice(from).split('\n').filter(Boolean), end: text.length };
}
