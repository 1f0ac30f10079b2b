import { StoreConflict, StoreUnavailable } from '@keyward/core';

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '53300', // too_many_connections
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
]);

/**
 * Driver errors in store terms: a unique violation is a `StoreConflict`; a database that cannot
 * answer (refused, timed out, shut down, locked, full) is `StoreUnavailable`. Anything else is a bug
 * and passes through. Messages never carry SQL.
 */
export function translateDriverError(err: unknown): unknown {
  if (err instanceof StoreConflict || err instanceof StoreUnavailable) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : '';
  if (code === '23505' || (typeof code === 'string' && /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(code))) {
    return new StoreConflict('a record with the same unique value exists', { cause: err });
  }
  if (typeof code === 'string' && (unavailableCodes.has(code) || code.startsWith('08') || code.startsWith('SQLITE_IOERR'))) {
    return new StoreUnavailable('the database is not available', { cause: err });
  }
  if (/timeout exceeded when trying to connect|Connection terminated|Query read timeout|connect ECONNREFUSED|Client has encountered a connection error/i.test(message)) {
    return new StoreUnavailable('the database is not available', { cause: err });
  }
  return err;
}

/** Wraps every method of a repository so that driver errors come out translated. */
export function guarded<T extends object>(repository: T): T {
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          throw translateDriverError(err);
        }
      };
    },
  });
}
