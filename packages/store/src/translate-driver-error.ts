import { FieldError, StoreBusy, StoreConflict, StoreUnavailable } from '@keyward/core';

/** Driver error codes of a database that cannot answer now (retrying later may succeed). */
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '25P03', // idle_in_transaction_session_timeout
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
]);

const unavailablePrefixes = ['08', 'SQLITE_IOERR', 'SQLITE_READONLY'];

/** What pg reports without a code: pool checkout timeout, client-side query timeout, lost connection. */
const unavailableMessages = /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable/i;

/**
 * Driver errors in store terms: a unique violation is a `StoreConflict`; a database that cannot
 * answer (refused, timed out, shut down, full) is a `StoreUnavailable`, and a SQLite write lock held
 * elsewhere (SQLITE_BUSY) the narrower `StoreBusy`. Anything else is a bug
 * and passes through unchanged. The new messages are fixed and never carry SQL or values; the driver
 * error stays as `cause`, for logs only.
 */
export function translateDriverError(err: unknown): unknown {
  if (err instanceof StoreConflict || err instanceof StoreUnavailable) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StoreConflict('A record with the same unique value exists.', { cause: err });
  }
  // Text PostgreSQL cannot hold (NUL: 22021; \u0000 in JSON: 22P05) is bad input, 422, never a 500.
  // The wire schemas refuse it first; this is the last line of defence for a field they missed.
  if (code === '22021' || code === '22P05') {
    return new FieldError('', 'The request holds text the database cannot store (a NUL or an invalid character).');
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
    return new StoreBusy('Another process holds the database write lock.', { cause: err });
  }
  if (typeof code === 'string' && (unavailableCodes.has(code) || unavailablePrefixes.some((prefix) => code.startsWith(prefix)))) {
    return new StoreUnavailable('The database is not available.', { cause: err });
  }
  if (err instanceof Error && unavailableMessages.test(err.message)) {
    return new StoreUnavailable('The database is not available.', { cause: err });
  }
  return err;
}
