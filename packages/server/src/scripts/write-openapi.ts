import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openApiDocument } from './openapi-document.js';

/** `npm run openapi`: regenerates docs/openapi.json from the route schemas. */
const target = resolve(process.argv[2] ?? 'docs/openapi.json');
writeFileSync(target, `${JSON.stringify(await openApiDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
