#!/usr/bin/env node
// The `keyward` command. This file exists before the first build, so `npm install` can link it; the
// CLI itself is compiled to dist/ by `npm run build` (which `npm start` and `npm test` run).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('keyward: the CLI is not built yet; run `npm run build` in the Keyward checkout first.\n');
  process.exit(1);
}
await import(compiled.href);
