// `npm run bench`: Keyward's verification and token issuance measured side by side, in one run on
// one machine, with the references (bare node:http and Fastify servers) and the peers (Better Auth's
// API-key plugin, oidc-provider), and written to docs/benchmarks.md with the machine's description.
//
//   npm run bench                          full run, writes docs/benchmarks.md
//   node bench/run.js --quick              short runs, one round; writes bench/results/latest.md
//   node bench/run.js --only verify,sdk    some sections (ceiling is added for the ratios)
//   node bench/run.js --only fanout        the fan-out rows alone (3 instances on PostgreSQL, bench/fanout.js);
//                                          they replace section (h) of docs/benchmarks.md in place
//   options: --duration <s> --rounds <n> --keys <n> (default 1000000) --write (docs even when partial)
//            --note "<text>" (a line about the conditions, printed with the machine's description)
//            --revokes <n> (fan-out: revokes per mode, default 1000)
//
// One file per section in bench/sections/ (ceiling, verify, sdk, inprocess, betterauth, oauth,
// console, fanout, webhooks, limits), each with some of: `prepare(ctx)` (start its servers, return its HTTP cases),
// `afterHttp(ctx)`, `run(ctx)` (measurements that are not HTTP load), `render(ctx, report)` and
// `targets(ctx, report)`. This file parses the command line, builds the databases the sections ask
// for, measures every HTTP case of every section together (bench/lib/http-cases.js: wrk on core 1,
// servers on core 0, cases interleaved round by round, medians; then one profiled run per case), runs
// the other measurements, and writes the report: every figure and every explanation in it comes
// from the run. Progress goes to stderr; the report goes to stdout.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { renderFanout, spliceFanout } from './fanout.js';
import { BETTER_AUTH_KEYS, betterAuthDatabase } from './lib/better-auth.js';
import { profileCases, runHttpCases } from './lib/http-cases.js';
import { keywardDatabase } from './lib/keyward-db.js';
import { canPin, pinSelf, root, stopChild } from './lib/processes.js';
import { describeMachine, int, stealSnapshot, table, verdict, version } from './lib/report.js';
import { requireWrk, wrkVersion } from './lib/wrk.js';
import betterauth from './sections/betterauth.js';
import ceiling from './sections/ceiling.js';
import consoleSection from './sections/console.js';
import fanout from './sections/fanout.js';
import inprocess, { SMALL_KEYS } from './sections/inprocess.js';
import oauth from './sections/oauth.js';
import sdk from './sections/sdk.js';
import verify from './sections/verify.js';
import limits from './sections/limits.js';
import webhooks from './sections/webhooks.js';

const SECTIONS = [ceiling, verify, sdk, inprocess, betterauth, oauth, consoleSection, fanout, webhooks, limits];
const NAMES = SECTIONS.map((s) => s.name);
/** Sections whose figures are HTTP load (wrk). */
const HTTP_SECTIONS = new Set(['ceiling', 'verify', 'sdk', 'betterauth', 'oauth', 'limits']);

function parseArgs(argv) {
  const value = (name) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const only = value('only')?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
  for (const name of only ?? []) if (!NAMES.includes(name)) throw new Error(`--only: unknown section "${name}" (sections: ${NAMES.join(', ')})`);
  const sections = new Set(only ?? NAMES);
  if (sections.has('verify') || sections.has('sdk') || sections.has('limits')) sections.add('ceiling');
  return {
    quick,
    sections,
    partial: Boolean(only),
    durationSeconds: Number(value('duration') ?? (quick ? 2 : 6)),
    rounds: Number(value('rounds') ?? (quick ? 1 : 3)),
    warmupSeconds: 1,
    profileSeconds: quick ? 1 : 3,
    inProcessSeconds: quick ? 1 : 4,
    keys: Number(value('keys') ?? 1_000_000),
    /** Keys of the large set verified (and cached) by the runs that use every key: all, or at most 200k in a quick run. */
    get largeVerified() {
      return quick ? Math.min(this.keys, 200_000) : this.keys;
    },
    revokes: Number(value('revokes') ?? (quick ? 100 : 1000)),
    write: argv.includes('--write') || (!quick && !only),
    note: value('note') ?? null,
  };
}

const log = (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main() {
  const settings = parseArgs(process.argv.slice(2));
  const chosen = SECTIONS.filter((s) => settings.sections.has(s.name));
  if (chosen.some((s) => HTTP_SECTIONS.has(s.name))) requireWrk(log);
  pinSelf();
  const machine = describeMachine();
  const startedAt = new Date();
  const load = [loadavg()[0]];
  const stealStart = stealSnapshot();
  const quote = (arg) => (/^[\w./,=:-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, '\\$1')}"`);
  const command = ['node bench/run.js', ...process.argv.slice(2).map(quote)].join(' ');
  log(`${machine.model}, ${machine.cores} cores, node ${process.version}; sections: ${chosen.map((s) => s.name).join(', ')}${canPin ? '; servers on core 0, wrk and workers on core 1' : '; no taskset: processes are not pinned'}`);

  const databases = new Map();
  const builders = {
    small: () => keywardDatabase(SMALL_KEYS, { log }),
    large: () => keywardDatabase(settings.keys, { revokedCount: 0, log }),
    betterAuth: () => betterAuthDatabase(BETTER_AUTH_KEYS, { log }),
  };
  const servers = [];
  const ctx = {
    settings,
    log,
    command,
    machine,
    results: {},
    http: new Map(),
    /** The cached database `name` (small, large, betterAuth), built on first use. */
    database(name) {
      if (!databases.has(name)) databases.set(name, builders[name]());
      return databases.get(name);
    },
    /** Registers a started server, stopped (and its database copy removed) when the HTTP part ends. */
    track(server) {
      servers.push(server);
      return server;
    },
    row: (id) => ctx.http.get(id) ?? null,
  };
  const stopAll = async () => {
    for (const server of servers.splice(0)) {
      await stopChild(server.child);
      server.copy?.remove();
    }
  };

  try {
    const cases = [];
    for (const section of chosen) if (section.prepare) cases.push(...(await section.prepare(ctx)));
    if (cases.length > 0) {
      log(`HTTP: ${cases.length} cases, ${settings.rounds} interleaved round(s) of ${settings.durationSeconds} s each (after ${settings.warmupSeconds} s of warm-up)`);
      ctx.http = await runHttpCases(cases, settings, log);
      log(`profiling: one more run of ${settings.profileSeconds} s per case with the servers' CPU profilers on`);
      await profileCases(cases, ctx.http, { seconds: settings.profileSeconds, log });
    }
    for (const section of chosen) if (section.afterHttp && cases.some((c) => c.section === section.name)) await section.afterHttp(ctx);
    await stopAll();
    for (const section of chosen) if (section.run) await section.run(ctx);
  } finally {
    await stopAll();
  }

  const stealEnd = stealSnapshot();
  load.push(loadavg()[0]);
  const report = render(ctx, {
    startedAt,
    finishedAt: new Date(),
    load,
    steal: stealStart && stealEnd ? Math.round(((stealEnd.steal - stealStart.steal) / Math.max(1, stealEnd.total - stealStart.total)) * 1000) / 10 : null,
    chosen,
  });
  process.stdout.write(report);
  const file = settings.write ? join(root, 'docs/benchmarks.md') : join(root, 'bench/results/latest.md');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, report);
  log(`written to ${file.slice(root.length + 1)}`);
  if (ctx.results.fanout && !settings.write && !settings.quick) {
    // A run that measured fan-out without writing the whole report replaces only its own section.
    const docs = join(root, 'docs/benchmarks.md');
    writeFileSync(docs, spliceFanout(readFileSync(docs, 'utf8'), renderFanout(ctx.results.fanout, { command: ctx.command, machine: ctx.machine })));
    log('fan-out section (h) replaced in docs/benchmarks.md; the other sections are left as they were');
  }
}

function render(ctx, { startedAt, finishedAt, load, steal, chosen }) {
  const { settings, machine, command } = ctx;
  const lines = [];
  const targets = [];
  const whys = [];
  const report = {
    push: (...more) => lines.push(...more),
    target: (name, goal, measured, ok) => targets.push([name, goal, measured, verdict(ok)]),
    why: (line) => whys.push(line),
  };
  const duration = Math.round((finishedAt - startedAt) / 1000);
  report.push('# Benchmarks', '');
  report.push(`Generated by \`bench/run.js\` on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; the run took ${Math.floor(duration / 60)} min ${duration % 60} s.`);
  report.push('Every figure below comes from that one run on one machine; rerun it to get your own.', '');
  report.push('## Machine and conditions', '');
  report.push(`- CPU: ${machine.model}, ${machine.cores} cores${machine.mhz ? ` at ${Math.round(machine.mhz)} MHz` : ''} (${machine.hypervisor}); memory ${machine.memoryGb} GB`);
  report.push(`- OS: ${machine.os}`);
  report.push(`- Node ${process.version}; wrk ${wrkVersion()}; Fastify ${version('fastify')}, better-sqlite3 ${version('better-sqlite3')}, better-auth ${version('better-auth')} with @better-auth/api-key ${version('@better-auth/api-key')}, oidc-provider ${version('oidc-provider')}`);
  report.push(`- Command: \`${command}\` (after \`npm run build\`)`);
  report.push(
    `- ${canPin ? 'Servers pinned to core 0, and the load generator (wrk, one thread) and the in-process workers to core 1, with `taskset`' : 'No `taskset`: processes were not pinned'}; HTTP cases interleaved over ${settings.rounds} round(s) of ${settings.durationSeconds} s after ${settings.warmupSeconds} s of warm-up each, each case started once core 0 was quiet (under 10% busy for 250 ms, so that no server's leftover work shares the core), medians reported; then one more run of ${settings.profileSeconds} s per case with the servers' CPU profilers on (not counted in the figures).`,
  );
  report.push(`- Load average (1 min) at start / end: ${load.map((l) => l.toFixed(2)).join(' / ')}; hypervisor steal over the run: ${steal ?? 'n/a'}%.`);
  report.push('- "CPU server / wrk" is the share of one core the server process(es) and wrk used during the measured runs (from `/proc`); "server µs CPU per req." is the server\'s CPU time over the requests answered. Latency percentiles are wrk\'s, in µs.');
  if (settings.quick) report.push('- **Quick run** (`--quick`): short durations and one round; the figures are indicative only.');
  if (settings.note) report.push(`- Note from whoever ran it: ${settings.note}`);
  report.push('');

  const hello = ctx.row('hello-node');
  if (hello && hello.serverCpu < 85 && (hello.loaderCpu ?? 0) < 85) {
    report.push(
      `**This run was disturbed**: the node:http hello-world server used ${hello.serverCpu}% of its core and wrk ${hello.loaderCpu}% of theirs, so neither was the limit: other processes took CPU time (a shared machine). Throughput and latency figures are low and noisy; the "server µs CPU per req." column is the steadier comparison.`,
      '',
    );
  }

  for (const section of chosen) section.render?.(ctx, report);
  for (const section of chosen) section.targets?.(ctx, report);

  const loaderBound = [...ctx.http.values()].filter((row) => row.loaderCpu >= 90);
  if (loaderBound.length) {
    report.push(
      `In these rows wrk used 90% of its core or more, so it was as much the limit as the server: ${loaderBound.map((r) => `${r.label} @${r.connections}`).join('; ')}. Their requests per second are lower bounds of what the server can do; their server CPU per request is not affected.`,
      '',
    );
  }
  if (targets.length) {
    report.push('## Targets', '');
    report.push('From the issues that set them; each measured in this run.', '');
    report.push(table(['target', 'goal', 'measured', ''], targets), '');
    if (whys.length) {
      report.push('### What this run measured about where the time goes', '');
      report.push(...whys.map((line) => `- ${line}`), '');
    }
  }
  report.push('## Running it', '');
  // The docs' example runner (tests/docs/examples.test.ts) must not run these.
  report.push('<!-- example: skip (minutes of load on the machine, and it rewrites this page) -->');
  report.push('```sh');
  report.push('npm run bench                                # build, then the full run (writes this file)');
  report.push('node bench/run.js --quick                     # 2-second runs, one round (writes bench/results/latest.md)');
  report.push(`node bench/run.js --only verify,betterauth    # some sections: ${NAMES.join(', ')}`);
  report.push('node bench/run.js --only fanout               # section (h) alone (--revokes <n> per mode), replaced in place in this file');
  report.push('node bench/run.js --duration 10 --rounds 5    # longer runs; --keys <n> changes the large key set; --write writes this file anyway');
  report.push('node bench/run.js --note "quiet machine"      # a line about the conditions, printed under the machine');
  report.push('```', '');
  report.push(
    `It needs \`wrk\` (\`apt-get install -y wrk\`; without it the HTTP sections stop with exit code 2) and, for the instruction count, \`valgrind\`. The first run builds its databases and caches them in \`bench/.cache/\` (git-ignored): ${int(SMALL_KEYS)} keys and the revoked keys made through the API, and the large key set written straight into a SQLite file (rows cloned from a key made through the API, digests computed with core's key format and the server's pepper); later runs copy them. Servers run as child processes and are killed when the run ends, fails or is interrupted. One file per section: \`bench/sections/\`.`,
  );
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  // Exiting kills every process the benchmark started (bench/lib/processes.js).
  process.exit(1);
});
