import { issueSetupToken, keysNamingRemovedPermissions } from '@keyward/core';
import { describeDatabase } from '@keyward/store';
import { compose } from '../compose.js';
import type { Config } from '../config.js';
import { defaultDrainTimings, drainable } from './drain.js';

/** The stop after a signal must be over by then (CONTRACT.md: exit 0 within 10 s). */
const EXIT_DEADLINE_MS = 9500;

/**
 * Starts the server: migrations, then listen, then (when no organization exists yet) a one-time setup
 * link on standard output. SIGTERM and SIGINT drain it (operator/drain.ts): `/readyz` answers 503,
 * no new connections, what is in flight is answered, usage is flushed and the store closed, so
 * nothing acknowledged is lost; then the process exits 0.
 */
export async function serve(config: Config): Promise<void> {
  const composed = await compose(config);
  const { app, services } = composed;
  const removed = await keysNamingRemovedPermissions(services.deps.store, config.catalogue, services.deps.clock.now());
  if (removed.total > 0) {
    const lines = removed.keys.map((k) => `  ${k.id} (${k.name}, ${k.orgId}): ${k.missing.join(', ')}`);
    const more = removed.total > removed.keys.length ? `\n  ... and ${removed.total - removed.keys.length} more` : '';
    if (!config.allowRemovedPermissions) {
      process.stderr.write(
        `keyward: the permission catalogue (${config.catalogueSource}) lacks permissions that ${removed.total} active key(s) name:\n${lines.join('\n')}${more}\n` +
          'Put them back in the catalogue, edit or revoke those keys, or start with KEYWARD_CATALOGUE_ALLOW_REMOVED=1 (those permissions then grant nothing).\n',
      );
      await composed.close();
      process.exit(2);
    }
    app.log.warn({ keys: removed.total, examples: removed.keys }, 'active keys name permissions the catalogue lacks; they grant nothing (KEYWARD_CATALOGUE_ALLOW_REMOVED=1)');
  }
  const instance = drainable(composed);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'draining, then shutting down');
    setTimeout(() => {
      app.log.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, EXIT_DEADLINE_MS).unref();
    // Ctrl-C at a terminal has no balancer to wait for.
    instance.drain(signal === 'SIGINT' ? { ...defaultDrainTimings, idleGraceMs: 0 } : defaultDrainTimings).then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = config.publicUrlConfigured ? config.publicUrl : `http://${host}:${port}`;
  const setupToken = await issueSetupToken(services.deps);
  const database = describeDatabase(config.databaseUrl);
  const catalogue = `${config.catalogueSource === 'default' ? 'the default catalogue' : config.catalogueSource}, ${config.catalogue.categories.length} categories`;
  app.log.info({ database, catalogue: config.catalogueSource, categories: config.catalogue.categories.length }, 'store and permission catalogue');
  process.stdout.write(`\nKeyward is running at ${base}\n  database: ${database}\n  permissions: ${catalogue}\n`);
  if (setupToken) {
    process.stdout.write(`\nFirst run: open this one-time setup link to create your organization:\n  ${base}/setup#token=${setupToken}\n\n`);
    process.stdout.write(`Or with curl:\n  curl -X POST ${base}/api/setup -H 'content-type: application/json' \\\n    -d '{"token":"${setupToken}","organizationName":"Acme","email":"you@example.com","password":"choose-a-password"}'\n\n`);
  }
}
