// The console's load time: how long the production build takes, on loopback, from navigation to a
// page a person can use, in Debian's Chromium (playwright-core). Two pages: the login page (a first
// visit) and Settings → API Keys for a signed-in owner with 50 keys (the page people live in).
// Each is loaded `rounds` times in a fresh browser context (cold: no HTTP cache) and once more in the
// same context (warm); medians and the worst are reported against the one-second target, next to the
// floor: the same browser loading a one-line page from a bare Node server (what no app can beat).
//
//   npm run build && node bench/console-load.js [--rounds 15]
//
// `runConsoleLoadBench({ rounds })` returns the rows for `npm run bench`.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, killWithBench, waitForHttp } from './lib/processes.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'packages/server/dist/main.js');
const chromiumPath = process.env.KEYWARD_CHROMIUM ?? '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const password = 'bench-console-password';

/** Keyward on a fresh SQLite file serving the built console, with one owner and `keys` keys. */
async function startKeyward(keys) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-console-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    KEYWARD_DATABASE_URL: `sqlite:${join(dir, 'keyward.db')}`,
    KEYWARD_PORT: String(port),
    KEYWARD_HOST: '127.0.0.1',
    KEYWARD_PUBLIC_URL: url,
    KEYWARD_LOG_LEVEL: 'warn',
    // The setup makes its keys in a second: the per-person creation rate is off for it.
    KEYWARD_KEY_CREATIONS_PER_MINUTE: '0',
  };
  delete env.KEYWARD_CONSOLE_DIR;
  // Operator commands refuse a store that does not exist yet: `migrate` makes it, as an operator would.
  execFileSync(process.execPath, [main, 'migrate'], { cwd: root, env, stdio: 'ignore' });
  execFileSync(process.execPath, [main, 'admin', 'create-org', '--name', 'Bench', '--owner-email', 'owner@bench.test', '--owner-password-stdin', '--json'], {
    cwd: root,
    env,
    input: `${password}\n`,
    encoding: 'utf8',
  });
  const child = killWithBench(spawn(process.execPath, [main, 'serve'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] }));
  await waitForHttp(`${url}/healthz`);
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'owner@bench.test', password }),
  });
  if (!login.ok) throw new Error(`login: ${login.status} ${await login.text()}`);
  const { sessionToken } = await login.json();
  for (let i = 0; i < keys; i++) {
    const made = await fetch(`${url}/api/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sessionToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench key ${i}` }),
    });
    if (made.status !== 201) throw new Error(`creating a key: ${made.status} ${await made.text()}`);
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Milliseconds from `goto` to `usable(page)` resolving. */
async function timeLoad(page, url, usable) {
  const started = performance.now();
  await page.goto(url, { waitUntil: 'commit' });
  await usable(page);
  return performance.now() - started;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Loads each page `rounds` times cold (a fresh context) and once warm; returns one row per page. */
export async function runConsoleLoadBench({ rounds = 15 } = {}) {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath} (apt-get install chromium)`);
  if (!existsSync(join(root, 'packages/console/dist/index.html'))) throw new Error('the console is not built (npm run build)');
  const keyward = await startKeyward(50);
  // The floor: the same browser loading a one-line HTML page with one input from a bare Node server.
  const floor = createHttpServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>floor</title><label>Email <input type="email"></label>');
  });
  await new Promise((ready) => floor.listen(0, '127.0.0.1', ready));
  const floorUrl = `http://127.0.0.1:${floor.address().port}`;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const pages = [
    {
      name: 'floor: one-line HTML page',
      base: floorUrl,
      path: '/',
      signedIn: false,
      usable: (page) => page.getByLabel('Email').waitFor({ state: 'visible' }),
    },
    {
      name: 'login page',
      path: '/login',
      signedIn: false,
      usable: (page) => page.getByLabel('Email').waitFor({ state: 'visible' }),
    },
    {
      name: 'Settings → API Keys (50 keys)',
      path: '/settings/api-keys',
      signedIn: true,
      usable: (page) => page.getByRole('cell', { name: 'bench key 49' }).first().waitFor({ state: 'visible' }),
    },
  ];
  const rows = [];
  try {
    for (const target of pages) {
      const cold = [];
      let warm = NaN;
      for (let round = 0; round < rounds; round++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const base = target.base ?? keyward.url;
        if (target.signedIn) {
          const answer = await context.request.post(`${keyward.url}/api/auth/login`, { data: { email: 'owner@bench.test', password } });
          if (!answer.ok()) throw new Error(`login in the browser: ${answer.status()}`);
        }
        const page = await context.newPage();
        cold.push(await timeLoad(page, base + target.path, target.usable));
        if (round === rounds - 1) warm = await timeLoad(page, base + target.path, target.usable);
        await context.close();
      }
      rows.push({ page: target.name, coldMedianMs: median(cold), coldWorstMs: Math.max(...cold), warmMs: warm });
    }
  } finally {
    await browser.close();
    floor.close();
    await keyward.stop();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--rounds');
  const rounds = at > 0 ? Number(process.argv[at + 1]) : 15;
  const rows = await runConsoleLoadBench({ rounds });
  for (const row of rows) {
    console.log(
      `${row.page.padEnd(32)} cold median ${row.coldMedianMs.toFixed(0).padStart(5)} ms, worst ${row.coldWorstMs.toFixed(0).padStart(5)} ms; warm ${row.warmMs.toFixed(0).padStart(5)} ms (target < 1000 ms)`,
    );
  }
}
