#!/usr/bin/env node
import { runOperator } from './operator/index.js';

runOperator(process.argv).catch((err: unknown) => {
  process.stderr.write(`keyward: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
