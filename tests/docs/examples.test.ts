import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleCommands, expectation, linePattern, segments, shellBlocks, statusLinePrefixes, type DocBlock } from './markdown.js';
import { DocShell, curlLog, shims } from './shell.js';

/**
 * Every shell example in the README and docs/ runs as written (issue 12), against a fresh server
 * started as `npm start` starts it: the built `packages/server/dist/main.js serve`, in a folder of
 * its own (so its database is the default `./.keyward/keyward.db` there, and the operator commands
 * run in that folder find it as they would in the checkout), on a free port. Each page gets its own
 * server and its own bash, which first runs the README's examples (the pages say they assume them),
 * then the page's, in order. Conventions: tests/docs/markdown.ts.
 *
 * What the test stands in for, and nothing else:
 * - `http://127.0.0.1:4000` (where `npm start` serves) is the test server's address;
 * - `kwsetup_...`, the token a reader copies from the setup link `npm start` printed, is the one
 *   this server printed; `/path/to/keyward`, the reader's checkout, is this one;
 * - `keyward` is on the PATH as `npx keyward` (the alias docs/cli.md suggests), and `npx keyward`
 *   runs it directly (the first test checks that npx itself runs this CLI from a folder of the checkout);
 * - a transcript's ids (`key_60NYs9xl75crPjG8`) are the reader's own: the ids the same step printed
 *   in this run stand for them in later commands, as a reader substitutes theirs;
 * - usage is written every 100 ms rather than 5 s: a reader takes longer than that between two
 *   commands that the docs show depend on it.
 * `npm` itself is refused (it would build, install or serve from this checkout): blocks that run it
 * are the ones marked skip.
 */

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const allPages = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
/** `KEYWARD_DOCS_PAGES=docs/api.md,docs/cli.md` runs only those pages (while editing them). */
const only = process.env.KEYWARD_DOCS_PAGES?.split(',').filter(Boolean);
const pages = only ? allPages.filter((page) => only.includes(page)) : allPages;
const blocksOf = (page: string) => shellBlocks(readFileSync(join(root, page), 'utf8'), page);
const readme = blocksOf('README.md');
const stepTimeoutMs = 120_000; // a block of operator commands on a loaded 2-core machine
/** `KEYWARD_DOCS_VERBOSE=1` prints what each block printed. */
const verbose = process.env.KEYWARD_DOCS_VERBOSE === '1';

const realCurl = execFileSync('bash', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();
const realNpx = execFileSync('bash', ['-c', 'command -v npx'], { encoding: 'utf8' }).trim();
const hasJq = (() => {
  try {
    execFileSync('bash', ['-c', 'command -v jq'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The environment without Keyward's own variables, which would change what an example does. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('KEYWARD_') && !name.startsWith('VITEST') && name !== 'NODE_OPTIONS') env[name] = value;
  return env;
}

interface Server {
  readonly url: string;
  readonly setupToken: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** A free loopback port (bound, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `npm start`'s server (after its build), in `cwd`. */
async function startServer(cwd: string): Promise<Server> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(root, 'packages/server/dist/main.js'), 'serve'], {
    cwd,
    env: { ...cleanEnv(), KEYWARD_PORT: String(port), KEYWARD_CONSOLE_DIR: '', KEYWARD_LOG_LEVEL: 'warn', KEYWARD_USAGE_FLUSH_MS: '100' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const deadline = Date.now() + 30_000;
  let token: string | undefined;
  while (!(token = /setup#token=(kwsetup_[0-9A-Za-z]+)/.exec(output)?.[1])) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not print its setup link:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    setupToken: token,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT'); // Ctrl-C, as a person stops npm start
      await exited;
    },
  };
}

interface Run {
  readonly shell: DocShell;
  readonly server: Server;
  readonly curlLogPath: string;
  logOffset: number;
  /** Transcript ids → this run's ids. */
  readonly ids: Map<string, string>;
}

function where(block: DocBlock, line?: number | null): string {
  return `${block.file}:${line ?? block.line}`;
}

/** The text as the reader would paste it here (see the header). */
function localise(run: Run, text: string): string {
  let out = text
    .replaceAll('http://127.0.0.1:4000', run.server.url)
    .replace(/kwsetup_(\.\.\.|…)/g, run.server.setupToken)
    .replaceAll('/path/to/keyward', root);
  for (const [example, actual] of run.ids) out = out.replaceAll(example, actual);
  return out;
}

function failure(block: DocBlock, what: string, detail: { stdout?: string; stderr?: string; script?: string }): Error {
  const parts = [`${where(block)}: ${what}`];
  if (detail.script) parts.push(`--- ran\n${detail.script}`);
  if (detail.stdout) parts.push(`--- stdout\n${detail.stdout.slice(-3000)}`);
  if (detail.stderr) parts.push(`--- stderr\n${detail.stderr.slice(-3000)}`);
  return new Error(parts.join('\n'));
}

function takeCurlLog(run: Run): string[] {
  const { lines, end } = curlLog(run.curlLogPath, run.logOffset);
  run.logOffset = end;
  return lines;
}

async function runShBlock(run: Run, block: DocBlock): Promise<void> {
  const pieces = segments(block);
  const body = pieces.map((piece, k) => `${localise(run, piece.lines.join('\n'))}\n__kw_mark "seg ${k}"`).join('\n');
  const script = `set -e -o pipefail\n{\n${body}\n} </dev/null\nset +e +o pipefail`;
  takeCurlLog(run);
  const result = await run.shell.run(script, stepTimeoutMs);
  const log = takeCurlLog(run);
  if (verbose) console.info(`--- ${where(block)}\n${result.stdout}\n${result.stderr}\n${log.join('\n')}`);
  if (result.timedOut) throw failure(block, `did not finish within ${stepTimeoutMs / 1000} s`, { ...result, script });
  if (result.exitedWith !== null) throw failure(block, `a command failed (exit ${result.exitedWith}) under set -e -o pipefail`, { ...result, script });
  const outputs = result.stdout.split(/\n?<<kw:seg \d+>>\n?/);
  const statuses: number[][] = [[]];
  for (const line of log) {
    if (line.startsWith('<<kw:seg ')) statuses.push([]);
    const status = /^<<kw:status (\d{3}) /.exec(line);
    if (status) statuses.at(-1)!.push(Number(status[1]));
  }
  const comments = block.lines.filter((line) => /^\s*#|\s#\s/.test(line)).join('\n');
  for (const status of statuses.flat()) {
    if (status >= 400 && !new RegExp(`\\b${status}\\b`).test(comments)) {
      throw failure(block, `a request answered ${status}, which no comment in the block announces`, { ...result, script });
    }
    if (status === 0) throw failure(block, 'curl got no answer', { ...result, script });
  }
  pieces.forEach((piece, k) => {
    if (piece.expected === null) return;
    const { status, keys } = expectation(piece.expected);
    const output = outputs[k] ?? '';
    const got = statuses[k] ?? [];
    if (status !== null && got.at(-1) !== status) {
      throw failure(block, `${where(block, piece.expectedLine)} shows ${status}, the request there answered ${got.at(-1) ?? 'nothing (no curl ran)'}`, { stdout: output, stderr: result.stderr });
    }
    const missing = keys.filter((key) => !output.includes(`"${key}"`));
    if (missing.length > 0) {
      throw failure(block, `${where(block, piece.expectedLine)} shows ${missing.map((k) => `"${k}"`).join(', ')}, not in what ran there`, { stdout: output, stderr: result.stderr });
    }
  });
}

async function runConsoleBlock(run: Run, block: DocBlock): Promise<void> {
  for (const command of consoleCommands(block)) {
    const typed = localise(run, command.command);
    const script = `(exit \${__kw_status:-0})\n{ ${typed}\n} </dev/null 2>&1\n__kw_status=$?\nprintf '\\n<<kw:exit %d>>\\n' "$__kw_status"`;
    const result = await run.shell.run(script, stepTimeoutMs);
    if (result.timedOut || result.exitedWith !== null) throw failure(block, `$ ${typed}: the shell ${result.timedOut ? 'timed out' : 'ended'}`, result);
    const exit = /<<kw:exit (\d+)>>\s*$/.exec(result.stdout);
    const output = result.stdout.replace(/\n?<<kw:exit \d+>>\s*$/, '');
    const code = exit ? Number(exit[1]) : NaN;
    if (verbose) console.info(`--- ${where(block)} $ ${typed}\n${output}\n(exit ${code})`);
    if (code !== command.exitCode) throw failure(block, `$ ${typed}: exit ${code}, the transcript shows ${command.exitCode}`, { stdout: output, stderr: result.stderr });
    const actualLines = output.split('\n').map((line) => line.trim());
    for (const prefix of statusLinePrefixes(command.output.map((line) => localise(run, line)))) {
      if (!actualLines.some((line) => line.startsWith(prefix))) {
        throw failure(block, `$ ${typed}: the transcript shows a line starting "${prefix}", which it did not print`, { stdout: output, stderr: result.stderr });
      }
    }
    learnIds(run, command.output, actualLines);
  }
}

/** Where a transcript's output line holds ids and this run printed the same line, its ids are this run's. */
function learnIds(run: Run, expected: readonly string[], actual: readonly string[]): void {
  for (const line of expected) {
    const shape = linePattern(line.replaceAll('http://127.0.0.1:4000', run.server.url));
    if (!shape) continue;
    const unknown = shape.ids.filter((id) => !run.ids.has(id));
    if (unknown.length === 0) continue;
    for (const candidate of actual) {
      const match = shape.pattern.exec(candidate);
      if (!match) continue;
      shape.ids.forEach((id, i) => {
        if (!run.ids.has(id)) run.ids.set(id, match[i + 1]!);
      });
      break;
    }
  }
}

async function runPage(page: string): Promise<void> {
  const own = blocksOf(page);
  const blocks = [...(page === 'README.md' ? [] : readme), ...own].filter((block) => block.skip === null);
  mkdirSync(join(root, '.test-tmp'), { recursive: true });
  const dir = mkdtempSync(join(root, '.test-tmp', 'docs-'));
  const server = await startServer(dir);
  const bin = join(dir, '.bin');
  shims(bin, root, realCurl, realNpx);
  const curlLogPath = join(dir, '.curl.log');
  const shell = new DocShell(dir, {
    ...cleanEnv(),
    PATH: `${bin}:${process.env.PATH}`,
    KW_CURL_LOG: curlLogPath,
    XDG_CONFIG_HOME: join(dir, '.config'),
    KEYWARD_URL: server.url, // the CLI's default server is http://127.0.0.1:4000, where npm start serves
  });
  const run: Run = { shell, server, curlLogPath, logOffset: 0, ids: new Map() };
  try {
    for (const block of blocks) {
      if (block.kind === 'sh') await runShBlock(run, block);
      else await runConsoleBlock(run, block);
    }
  } catch (err) {
    (err as Error).message += `\n--- server output (tail)\n${server.output().slice(-2000)}`;
    throw err;
  } finally {
    await shell.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** At most `size` pages at once. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free === 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.free--;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
const slots = new Slots(3);

const skipped = allPages.flatMap((page) => blocksOf(page).filter((block) => block.skip !== null));

describe('the examples in the README and docs/ run as written', () => {
  afterAll(() => {
    // The reader sees these and the reasons; keep them few.
    console.info(`${skipped.length} blocks not run:\n${skipped.map((b) => `  ${b.file}:${b.line}: ${b.skip}`).join('\n')}`);
  });

  it('finds the examples of the pages a newcomer reads first, and runs most of them', () => {
    const all = allPages.flatMap(blocksOf);
    for (const page of ['README.md', 'docs/api.md', 'docs/cli.md', 'docs/sdk.md']) {
      expect(blocksOf(page).filter((block) => block.skip === null).length, page).toBeGreaterThan(0);
    }
    expect(all.filter((block) => block.kind === 'console' && block.skip === null).length).toBeGreaterThan(0);
    // Blocks marked skip are the exception: each says why, and they stay few.
    expect(all.filter((block) => block.skip !== null).length).toBeLessThanOrEqual(all.length / 4);
  });

  it('has jq, which the examples use to pick values out of answers', () => {
    expect(hasJq, 'jq is needed: apt install jq (brew install jq)').toBe(true);
  });

  it("runs the checkout's keyward with npx keyward, from a folder of the checkout", () => {
    mkdirSync(join(root, '.test-tmp'), { recursive: true });
    const dir = mkdtempSync(join(root, '.test-tmp', 'docs-npx-'));
    try {
      const version = execFileSync(realNpx, ['keyward', '--version'], { cwd: dir, encoding: 'utf8', env: cleanEnv() }).trim();
      expect(version).toBe(JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')).version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Pages run side by side, a few at a time: most of the time goes to starting node processes.
  it.concurrent.each(pages.filter((page) => blocksOf(page).some((block) => block.skip === null)))('%s', async (page) => {
    await slots.run(() => runPage(page));
  }, 300_000);
});
