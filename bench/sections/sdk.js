// Section (c): the SDK's Fastify middleware in a service (bench/servers/sdk-fastify-service.js), with
// a remote verifier against its own Keyward server (another copy of the 10k-key database, so the
// usage counts of section (b) stay exact), next to the same service's route without authentication.

import { HTTP_HEADERS, httpRow, int, pct, profileLines, ratio, table } from '../lib/report.js';
import { startKeyward, startScript } from '../lib/servers.js';
import { variantsFile, warmEveryVariant } from '../lib/wrk.js';

const SMALL_KEYS = 10_000;
/** A key set small enough that every verdict stays in the SDK's cache (fetched again at most once per TTL). */
const CACHED_KEYS = 100;

const IDS = ['sdk-open', 'sdk-cached', 'sdk'];

export default {
  name: 'sdk',
  databases: ['small'],

  async prepare(ctx) {
    const { log } = ctx;
    const small = await ctx.database('small');
    log('starting Keyward and the SDK example service');
    const upstream = ctx.track(await startKeyward(small, 'keyward for the SDK service (10k keys)'));
    const service = ctx.track(
      await startScript('bench/servers/sdk-fastify-service.js', [], {
        label: 'SDK example service',
        env: { KEYWARD_URL: upstream.url, KEYWARD_VERIFIER_TOKEN: small.verifierToken },
      }),
    );
    const headers = Array.from({ length: SMALL_KEYS }, (_, i) => `Bearer ${small.tokenOf(i).token}`);
    const probe = await fetch(`${service.url}/v1/traces`, { headers: { authorization: headers[0] } });
    if (probe.status !== 200) throw new Error(`the SDK service answered ${probe.status}: ${await probe.text()}`);
    const all = variantsFile('header:Authorization', headers);
    const few = variantsFile('header:Authorization', headers.slice(0, CACHED_KEYS));
    const base = { url: service.url, path: '/v1/traces', pids: [service.pid, upstream.pid] };
    log(`warming the SDK's verdict cache with the ${SMALL_KEYS.toLocaleString('en-US')} keys`);
    await warmEveryVariant({ ...base, variants: all, label: 'sdk (warm-up)' });
    const stats = async () => {
      try {
        const s = await (await fetch(`${service.url}/stats`)).json();
        return { hits: s.hits, misses: s.misses, requests: s.requests };
      } catch {
        return null;
      }
    };
    const profile = [
      { pid: service.pid, label: 'service' },
      { pid: upstream.pid, label: 'Keyward' },
    ];
    return [
      {
        id: 'sdk-open',
        section: 'sdk',
        label: 'the same service, a route without authentication (same headers)',
        connections: 50,
        target: { ...base, path: '/v1/open/traces', pids: [service.pid], variants: all, label: 'sdk open' },
        profile: [{ pid: service.pid, label: 'service' }],
      },
      {
        id: 'sdk-cached',
        section: 'sdk',
        label: `SDK Fastify middleware, remote verifier, cached verdicts (random of ${CACHED_KEYS} keys)`,
        connections: 50,
        target: { ...base, variants: few, label: 'sdk cached' },
        stats,
        profile,
      },
      {
        id: 'sdk',
        section: 'sdk',
        label: `SDK Fastify middleware, remote verifier (random of ${SMALL_KEYS.toLocaleString('en-US')} keys)`,
        connections: 50,
        target: { ...base, variants: all, label: 'sdk' },
        stats,
        profile,
      },
    ];
  },

  render(ctx, report) {
    const rows = IDS.map(ctx.row).filter(Boolean);
    if (rows.length === 0) return;
    const hello = ctx.row('hello-node');
    report.push("## (c) The SDK's Fastify middleware in a service");
    report.push('');
    report.push(
      `\`bench/servers/sdk-fastify-service.js\`: a Fastify service whose route asks \`@keyward/sdk/fastify\` for \`traces:read\`, with a remote verifier (\`createRemoteVerifier\`, default options) against its own Keyward server on a copy of the 10k-key database, and the same route without authentication. Every key was presented once before the runs. Both processes share core 0; the CPU column adds them up. The verdict cache's hits and misses (\`verifier.stats()\`) were read before and after each measured run.`,
    );
    report.push('');
    report.push(table(HTTP_HEADERS, rows.map((row) => httpRow(row, hello))));
    report.push('');
    const hitsOf = (row) => (row.statsDelta ? `${int(row.statsDelta.hits)} hits, ${int(row.statsDelta.misses)} misses` : 'n/a');
    report.push(table(['case', 'requests measured', 'verdict cache during the measured runs'], rows.filter((r) => r.stats).map((row) => [row.label, int(row.total), hitsOf(row)])));
    report.push('');
    const profiles = profileLines(rows);
    if (profiles.length) {
      report.push('Where the processes spent their CPU time, from one more run per case with their CPU profilers on (self time; shares of the time each was not idle):');
      report.push('');
      report.push(...profiles);
      report.push('');
    }
  },

  targets(ctx, report) {
    const open = ctx.row('sdk-open');
    const cached = ctx.row('sdk-cached');
    if (!open || !cached) return;
    const r = ratio(cached.requestsPerSecond, open.requestsPerSecond);
    const misses = cached.statsDelta?.misses;
    report.target(
      'SDK Fastify middleware with a cached verdict vs the same service with no auth',
      '≥ 80%',
      `${pct(r)} (${int(cached.requestsPerSecond)} / ${int(open.requestsPerSecond)} req/s; ${misses === undefined ? 'cache counters not read' : `${int(misses)} verdict cache misses in ${int(cached.total)} requests`})`,
      r >= 0.8,
    );
    for (const p of cached.profiles ?? []) report.why(`${cached.label} (${p.label}): ${p.text}.`);
  },
};
