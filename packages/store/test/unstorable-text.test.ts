import pg from 'pg';
import { DomainError, FieldError } from '@keyward/core';
import { expect, it } from 'vitest';
import { seedOrg } from '../src/contracts/seed.js';
import { translateDriverError } from '../src/index.js';
import { describeDialects, testPostgresUrl } from '../src/testing/open-test-store.js';

/**
 * The last line of defence behind the wire schemas (issue 10): text PostgreSQL cannot hold is bad
 * input, answered 422 `validation_failed` through a `FieldError`, never a 500.
 */
await describeDialects(
  'text PostgreSQL cannot store',
  (_dialect, open) => {
    it('turns a NUL in a lookup or a write into a FieldError (422), not a driver error (500)', async () => {
      const store = await open();
      await expect(store.orgs.findById('org_a\u0000b' as never)).rejects.toBeInstanceOf(FieldError);
      const written = seedOrg(store, { name: 'a\u0000b' });
      await expect(written).rejects.toBeInstanceOf(FieldError);
      await expect(written).rejects.toMatchObject({ code: 'invalid_field' });
    });

    it('translates both of PostgreSQL\'s codes for it: 22021 (NUL in text) and 22P05 (\\u0000 in JSON)', async () => {
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      try {
        const nul = await client.query('select $1::text', ['a\u0000b']).catch((err: unknown) => err);
        const json = await client.query(`select '"a\\u0000b"'::jsonb ->> 0`).catch((err: unknown) => err);
        expect(nul).toMatchObject({ code: '22021' });
        expect(json).toMatchObject({ code: '22P05' });
        for (const err of [nul, json]) {
          const translated = translateDriverError(err);
          expect(translated).toBeInstanceOf(DomainError);
          expect(translated).toMatchObject({ code: 'invalid_field' });
        }
      } finally {
        await client.end();
      }
    });
  },
  ['postgres'],
);
