// Section (h): a revoke reaching the other instances, measured by bench/fanout.js over
// bench/lib/fanout.js (the same measurement as tests/process/fanout.test.ts). Rendered between
// markers, so that a run of this section alone replaces it in place in docs/benchmarks.md.

import { renderFanout, runFanoutBench } from '../fanout.js';

export default {
  name: 'fanout',

  async run(ctx) {
    ctx.log(`fan-out: 3 instances on PostgreSQL, ${ctx.settings.revokes.toLocaleString('en-US')} revokes per mode, without Redis, with Redis, and with the notifications cut`);
    ctx.results.fanout = await runFanoutBench({ revokes: ctx.settings.revokes, log: (line) => ctx.log(`  ${line}`) });
  },

  render(ctx, report) {
    if (!ctx.results.fanout) return;
    report.push(renderFanout(ctx.results.fanout, { command: ctx.command, machine: ctx.machine }));
    report.push('');
  },
};
