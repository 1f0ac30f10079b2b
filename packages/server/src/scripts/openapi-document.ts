import { randomBytes } from 'node:crypto';
import { compose } from '../compose.js';
import { loadConfig } from '../config.js';

/**
 * The OpenAPI document as the server serves it at /api/openapi.json, built from the route schemas
 * over a throwaway in-memory store, for docs/openapi.json.
 */
export async function openApiDocument(): Promise<unknown> {
  const config = loadConfig({
    KEYWARD_DATABASE_URL: 'sqlite::memory:',
    KEYWARD_PEPPER: randomBytes(32).toString('hex'),
    KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    KEYWARD_PUBLIC_URL: 'http://127.0.0.1:4000',
    KEYWARD_CONSOLE_DIR: '',
  });
  const composed = await compose(config, { logger: false });
  try {
    await composed.app.ready();
    return composed.app.swagger();
  } finally {
    await composed.close();
  }
}
