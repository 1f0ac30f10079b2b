import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { domainErrorCodes } from '@keyward/core';
import { apiErrorCodes } from '@keyward/wire';
import { openApiDocument } from '../../packages/server/src/scripts/openapi-document.js';

const errorsPage = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const committedOpenApi = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));

describe('error codes, docs/errors.md and the OpenAPI document stay in step', () => {
  it('documents every API error code in docs/errors.md, and nothing else', () => {
    const documented = [...errorsPage.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...apiErrorCodes].sort());
  });

  it('answers every domain code with a documented API code', () => {
    for (const code of domainErrorCodes) {
      if (code === 'invalid_field') continue; // answered as validation_failed with reasons
      expect(apiErrorCodes, code).toContain(code);
    }
  });

  it('keeps docs/openapi.json equal to what the server generates (run `npm run openapi` after changing a route)', async () => {
    const generated = JSON.parse(JSON.stringify(await openApiDocument()));
    expect(generated).toEqual(committedOpenApi);
  });

  it('lists the same error codes in the OpenAPI Error schema', () => {
    const enumCodes = committedOpenApi.components.schemas.Error.properties.error.enum as string[];
    expect([...enumCodes].sort()).toEqual([...apiErrorCodes].sort());
  });
});
