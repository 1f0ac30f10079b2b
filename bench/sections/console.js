// Section (g): the console's first usable page in Chromium, measured by bench/console-load.js (also
// runnable alone).

import { runConsoleLoadBench } from '../console-load.js';
import { int, table } from '../lib/report.js';

const TARGET_MS = 1000;

export default {
  name: 'console',

  async run(ctx) {
    ctx.log('the console in Chromium: the login page and Settings → API Keys, cold and warm');
    ctx.results.console = await runConsoleLoadBench({ rounds: ctx.settings.quick ? 3 : 15 });
  },

  render(ctx, report) {
    const rows = ctx.results.console;
    if (!rows) return;
    report.push('## (g) The console: first page usable');
    report.push('');
    report.push(
      "`bench/console-load.js`: the production build served by Keyward on loopback, loaded in Debian's Chromium (headless, playwright-core) in a fresh browser context each time (cold: no HTTP cache), and once more in the same context (warm). Timed from navigation to the page being usable: the login form's email field visible; on Settings → API Keys, the newest of the keys listed (session, directory and key list loaded). The floor is the same browser loading a one-line HTML page from a bare Node server.",
    );
    report.push('');
    report.push(table(['page', 'cold median ms', 'cold worst ms', 'warm ms'], rows.map((r) => [r.page, int(r.coldMedianMs), int(r.coldWorstMs), int(r.warmMs)])));
    report.push('');
  },

  targets(ctx, report) {
    const keysPage = ctx.results.console?.find((r) => r.page.startsWith('Settings'));
    if (keysPage) report.target('console: API Keys page usable (cold, median)', `< ${int(TARGET_MS)} ms`, `${int(keysPage.coldMedianMs)} ms`, keysPage.coldMedianMs < TARGET_MS);
  },
};
