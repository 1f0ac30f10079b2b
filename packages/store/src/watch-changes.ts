import pg from 'pg';
import type { Connection } from './connect.js';
import { INVALIDATION_CHANNEL } from './repositories/invalidation-repository.js';

/** How often SQLite's `data_version` is read: a cheap pragma, no statement against a table. */
const SQLITE_CHECK_MS = 20;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2000;

export interface ChangeWatch {
  close(): Promise<void>;
}

/**
 * Calls `onWake` soon after another connection commits a change (see `Store.watchChanges`). A hint
 * only: readers of the invalidation log also poll, so a lost wake-up costs latency, never correctness.
 */
export function watchChanges(connection: Connection, onWake: () => void): ChangeWatch {
  if (connection.dialect === 'sqlite') return watchSqlite(connection, onWake);
  if (!connection.url) return { close: async () => {} };
  return watchPostgres(connection.url, onWake);
}

/**
 * SQLite: `PRAGMA data_version` changes when another connection (another process, or another store
 * on the same file) commits; this connection's own commits leave it alone.
 */
function watchSqlite(connection: Connection, onWake: () => void): ChangeWatch {
  const sqlite = connection.sqlite;
  if (!sqlite || sqlite.memory) return { close: async () => {} };
  let version: unknown = null;
  const timer = setInterval(() => {
    if (!sqlite.open) return;
    try {
      const current = sqlite.pragma('data_version', { simple: true });
      if (version !== null && current !== version) onWake();
      version = current;
    } catch {
      // A busy or closing database: the next check, or the reader's poll, catches up.
    }
  }, SQLITE_CHECK_MS);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
    },
  };
}

/**
 * PostgreSQL: LISTEN on a dedicated connection (a pooled client would silently drop its LISTEN when
 * returned). A lost connection is re-established with backoff; each (re)connection wakes the reader,
 * since notifications sent while it was down are lost.
 */
function watchPostgres(url: string, onWake: () => void): ChangeWatch {
  let closed = false;
  let client: pg.Client | null = null;
  let delay = RECONNECT_MIN_MS;
  let retry: NodeJS.Timeout | null = null;

  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void connectOnce();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };

  const connectOnce = async () => {
    const next = new pg.Client({ connectionString: url, application_name: 'keyward-listen', connectionTimeoutMillis: 5000, keepAlive: true });
    client = next;
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      next.removeAllListeners('notification');
      void next.end().catch(() => {});
      if (client === next) client = null;
      schedule();
    };
    next.on('error', drop);
    next.on('end', drop);
    next.on('notification', (message) => {
      if (message.channel === INVALIDATION_CHANNEL) onWake();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${INVALIDATION_CHANNEL}`);
      if (closed) {
        await next.end().catch(() => {});
        return;
      }
      delay = RECONNECT_MIN_MS;
      onWake();
    } catch {
      drop();
    }
  };

  void connectOnce();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = null;
      if (current) {
        current.removeAllListeners();
        current.on('error', () => {});
        await current.end().catch(() => {});
      }
    },
  };
}
