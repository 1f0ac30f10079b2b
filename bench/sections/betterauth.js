// Section (e): Better Auth's API-key plugin side by side, in process (bench/workers/
// better-auth-in-process.js) and over HTTP (bench/servers/better-auth-http.js, a bare node:http route
// calling it), with SQLite's synchronous FULL (what Keyward's store uses) and NORMAL.

import { join } from 'node:path';
import { BETTER_AUTH_KEYS } from '../lib/better-auth.js';
import { root, runNode } from '../lib/processes.js';
import { fixed, int, ms, profileLines, table, version } from '../lib/report.js';
import { startScript } from '../lib/servers.js';
import { variantsFile } from '../lib/wrk.js';

const MODES = ['NORMAL', 'FULL'];

export default {
  name: 'betterauth',
  databases: ['betterAuth'],

  async prepare(ctx) {
    const betterAuth = await ctx.database('betterAuth');
    const bodies = variantsFile('body', betterAuth.tokens.map((key) => JSON.stringify({ key })));
    const cases = [];
    for (const synchronous of MODES) {
      const copy = betterAuth.copyForRun();
      const server = ctx.track(await startScript('bench/servers/better-auth-http.js', [copy.databaseFile, synchronous], { label: `Better Auth over HTTP (${synchronous})` }));
      server.copy = copy;
      const probe = await fetch(`${server.url}/verify`, { method: 'POST', body: JSON.stringify({ key: betterAuth.tokens[0] }) });
      const answer = await probe.json();
      if (!answer.valid) throw new Error(`Better Auth refused its own key: ${JSON.stringify(answer)}`);
      cases.push({
        id: `better-auth-http-${synchronous.toLowerCase()}`,
        section: 'betterauth',
        label: `Better Auth api-key verify over HTTP, synchronous ${synchronous} (random of ${BETTER_AUTH_KEYS.toLocaleString('en-US')})`,
        connections: 50,
        target: { url: server.url, path: '/verify', method: 'POST', headers: { 'content-type': 'application/json' }, pids: [server.pid], databaseFile: copy.databaseFile, variants: bodies, label: 'better auth' },
        profile: [{ pid: server.pid, label: 'server' }],
      });
    }
    return cases;
  },

  async run(ctx) {
    const betterAuth = await ctx.database('betterAuth');
    const results = {};
    for (const synchronous of MODES) {
      ctx.log(`Better Auth in process (synchronous ${synchronous})`);
      const copy = betterAuth.copyForRun();
      try {
        const args = { databaseFile: copy.databaseFile, metaFile: join(betterAuth.dir, 'meta.json'), seconds: ctx.settings.inProcessSeconds, synchronous };
        const result = JSON.parse(await runNode([join(root, 'bench/workers/better-auth-in-process.js'), JSON.stringify(args)], { core: 1, label: 'Better Auth in process' }));
        results[synchronous.toLowerCase()] = result;
        ctx.log(`  ${result.opsPerSecond} verifications/s, ${result.rowWritesPerVerification} rows written per verification`);
      } finally {
        copy.remove();
      }
    }
    ctx.results.betterauth = results;
  },

  render(ctx, report) {
    const http = { normal: ctx.row('better-auth-http-normal'), full: ctx.row('better-auth-http-full') };
    const inProcess = ctx.results.betterauth ?? {};
    if (!http.normal && !http.full && !inProcess.normal && !inProcess.full) return;
    const ip = ctx.results.inprocess?.small;
    report.push("## (e) Better Auth's API-key plugin, side by side");
    report.push('');
    report.push(
      `Better Auth ${version('better-auth')} with \`@better-auth/api-key\` ${version('@better-auth/api-key')} on a SQLite file in WAL mode, ${int(BETTER_AUTH_KEYS)} keys made through \`auth.api.createApiKey\`, its per-key rate limit raised so it never refuses (otherwise the plugin's defaults). It writes to the database on every verification, so the disk's sync speed matters: it runs with \`synchronous = FULL\` (what Keyward's store uses) and with \`synchronous = NORMAL\` (no fsync per commit in WAL mode, the setting kindest to it); the targets are judged against NORMAL. Its \`verifyApiKey\` endpoint is server-only, so over HTTP a bare \`node:http\` route calls it (\`bench/servers/better-auth-http.js\`), one process on core 0 like Keyward's server.`,
    );
    report.push('');
    const keywardHttp = ctx.row('verify-valid-50');
    const rows = [];
    const times = (a, b) => (a && b ? `Keyward: ${fixed(a / b, 0)}×` : '');
    if (ip) rows.push(['in process, Keyward (core, 10k keys, warm cache)', int(ip.opsPerSecond), 'none (the verifier never writes; usage is counted by the server)', '']);
    for (const mode of ['normal', 'full']) {
      const r = inProcess[mode];
      if (r) rows.push([`in process, Better Auth (synchronous ${mode.toUpperCase()})`, int(r.opsPerSecond), `${r.rowWritesPerVerification} rows per verification`, times(ip?.opsPerSecond, r.opsPerSecond)]);
    }
    const polls = (row) => `commits seen in ${row.commitPolls?.changed ?? 'n/a'} of ${row.commitPolls?.polls ?? 'n/a'} polls`;
    if (keywardHttp) rows.push(['over HTTP @50, Keyward (10k keys)', int(keywardHttp.requestsPerSecond), polls(keywardHttp), `p99 ${ms(keywardHttp.p99Ms)} ms`]);
    for (const mode of ['normal', 'full']) {
      const row = http[mode];
      if (row) rows.push([`over HTTP @50, Better Auth (synchronous ${mode.toUpperCase()})`, int(row.requestsPerSecond), polls(row), `p99 ${ms(row.p99Ms)} ms. ${times(keywardHttp?.requestsPerSecond, row.requestsPerSecond)}`]);
    }
    report.push(table(['case', 'verifications/s', 'database writes', ''], rows));
    report.push('');
    const profiles = profileLines([http.normal, http.full]);
    if (profiles.length) {
      report.push("Where Better Auth's HTTP server spent its CPU time, from one more run per case with its CPU profiler on (self time; shares of the time it was not idle):");
      report.push('');
      report.push(...profiles);
      report.push('');
    }
  },

  targets(ctx, report) {
    const ip = ctx.results.inprocess?.small;
    const inProcess = ctx.results.betterauth ?? {};
    const v50 = ctx.row('verify-valid-50');
    const normal = ctx.row('better-auth-http-normal');
    const full = ctx.row('better-auth-http-full');
    if (ip && inProcess.normal) {
      const r = ip.opsPerSecond / inProcess.normal.opsPerSecond;
      report.target('in process vs Better Auth (synchronous NORMAL)', '≥ 100×', `${fixed(r, 0)}×${inProcess.full ? ` (${fixed(ip.opsPerSecond / inProcess.full.opsPerSecond, 0)}× against FULL)` : ''}`, r >= 100);
    }
    if (v50 && normal) {
      const r = v50.requestsPerSecond / normal.requestsPerSecond;
      report.target('over HTTP @50 vs Better Auth (synchronous NORMAL)', '≥ 20×', `${fixed(r, 0)}×${full ? ` (${fixed(v50.requestsPerSecond / full.requestsPerSecond, 0)}× against FULL)` : ''}`, r >= 20);
    }
  },
};
