// Section (f): OAuth token issuance (client credentials, ES256 JWT access tokens), Keyward against
// oidc-provider, measured by bench/oauth-issuance.js (also runnable alone).

import { runOAuthIssuanceBench } from '../oauth-issuance.js';
import { fixed, int, ms, table } from '../lib/report.js';

const CLIENTS = 300;
const CONNECTIONS = 50;

export default {
  name: 'oauth',

  async run(ctx) {
    ctx.log('OAuth token issuance: Keyward and oidc-provider');
    ctx.results.oauth = await runOAuthIssuanceBench({
      connections: CONNECTIONS,
      durationSeconds: ctx.settings.durationSeconds,
      rounds: ctx.settings.rounds,
      clients: CLIENTS,
      log: (line) => ctx.log(`  ${line}`),
    });
  },

  render(ctx, report) {
    const rows = ctx.results.oauth;
    if (!rows) return;
    report.push('## (f) OAuth token issuance (client credentials, ES256 JWT access tokens)');
    report.push('');
    report.push(`\`bench/oauth-issuance.js\`: Keyward against \`oidc-provider\` with ${CLIENTS} clients each, HTTP Basic, a client drawn at random for every request (wrk), ${CONNECTIONS} connections, ${ctx.settings.rounds} interleaved round(s) of ${ctx.settings.durationSeconds} s, medians.`);
    report.push('');
    report.push(table(['server', 'tokens/s (median)', 'p50 ms', 'p99 ms'], rows.map((r) => [r.name, int(r.requestsPerSecond), ms(r.p50Ms), ms(r.p99Ms)])));
    report.push('');
  },

  targets(ctx, report) {
    const rows = ctx.results.oauth;
    if (!rows) return;
    const [keyward, oidc] = rows;
    const r = keyward.requestsPerSecond / oidc.requestsPerSecond;
    report.target('token issuance vs oidc-provider', '≥ 2× (aim 4×)', `${fixed(r)}×`, r >= 2);
    report.target(`token issuance p99 @${CONNECTIONS}`, '< 20 ms', `${ms(keyward.p99Ms)} ms`, keyward.p99Ms < 20);
  },
};
