import { DomainError, createLocalCacheBus, notFound, prefixedIds, rotateSigningKey, systemClock, type CacheBus, type OrgId } from '@keyward/core';
import { createRedisCacheBus } from '@keyward/redis';
import { openStore } from '@keyward/store';
import type { Config } from '../config.js';
import { signingKeyView } from '../routes/signing-keys.js';

/**
 * `keyward admin rotate-signing-key --organization <orgId> [--emergency] [--json]`: the rotation of
 * `POST /api/signing-keys/rotate`, on the store directly, audited as the operator. With Redis
 * configured the running servers drop their cached key sets at once; without it they see the
 * rotation within five seconds (SigningKeyRing's maximum age). Exit codes: 0, 1 (refused, e.g. the
 * next key is not yet promotable), 4 (no such organization).
 */
export async function runRotateSigningKey(config: Config, options: { organization: string; emergency?: boolean; json?: boolean }): Promise<void> {
  const store = await openStore(config.databaseUrl, { migrate: true });
  let bus: CacheBus = createLocalCacheBus();
  if (config.redisUrl) {
    const redisBus = createRedisCacheBus({ url: config.redisUrl, prefix: config.redisPrefix });
    await redisBus.ready();
    bus = redisBus;
  }
  try {
    const orgId = options.organization as OrgId;
    if (!(await store.orgs.findById(orgId))) throw notFound.organization();
    const keys = await rotateSigningKey(
      { store, bus, clock: systemClock, ids: prefixedIds, encryptionKey: config.encryptionKey, catalogue: config.catalogue },
      { type: 'system', orgId, ip: null, requestId: null },
      { emergency: options.emergency === true },
    );
    const data = keys.map(signingKeyView);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ data })}\n`);
      return;
    }
    const current = data.find((k) => k.state === 'current');
    process.stdout.write(`${options.emergency ? 'Emergency rotation' : 'Rotated'}: ${current?.id ?? '(none)'} signs from now on.\n`);
    for (const key of data) process.stdout.write(`  ${key.id}  ${key.algorithm.padEnd(5)}  ${key.state}${key.compromisedAt ? ' (compromised)' : ''}\n`);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    process.stderr.write(`keyward: ${err.message}\n`);
    process.exitCode = err.code === 'organization_not_found' ? 4 : 1;
  } finally {
    await bus.close();
    await store.close();
  }
}
