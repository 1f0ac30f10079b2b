import type { ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Composed } from '../compose.js';

export interface DrainTimings {
  /**
   * How long idle keep-alive connections stay open after the signal (default 2 s): a load balancer
   * may still send on a pooled connection until its health check has seen `/readyz` answer 503, and
   * such a request is answered (with `Connection: close`) instead of meeting a closed socket.
   */
  readonly idleGraceMs: number;
  /** When connections still open are cut (default 8 s): long requests, streams. */
  readonly forceCloseAfterMs: number;
}

export const defaultDrainTimings: DrainTimings = { idleGraceMs: 2000, forceCloseAfterMs: 8000 };

export interface Drainable {
  /** Drains the instance and closes it; resolves when usage is flushed and the store closed. */
  drain(timings?: DrainTimings): Promise<void>;
}

/**
 * Prepares a graceful stop (CONTRACT.md, "Several instances and operations"); call before listening.
 * It keeps the set of open connections (per connection, nothing per request), so that a drain can
 * mark the answers already in flight `Connection: close` as well.
 *
 * The drain: from the call on, `/readyz` answers 503 and every answer carries `Connection: close`;
 * the listening socket closes at once, so new connections go to other instances; requests in flight
 * and requests arriving on already open connections are answered normally. After the idle grace,
 * idle connections and event streams are closed and the app waits for the last answers (cut at
 * `forceCloseAfterMs`); then usage is flushed and the store and buses are closed.
 */
export function drainable(composed: Composed): Drainable {
  const { app, services } = composed;
  const server = app.server;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    async drain(timings = defaultDrainTimings) {
      services.operations.draining = true;
      server.prependListener('request', (_req: unknown, res: ServerResponse) => closeAfter(res));
      // Answers whose headers are not written yet (the same as http-terminator does).
      for (const socket of sockets) {
        const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
        if (res) closeAfter(res);
      }
      // Stop accepting now, but without http.Server#close, which would also drop idle keep-alive
      // connections on which a balancer may be sending a request at this very moment.
      const connectionsEnded = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      // Fastify's close (below) calls server.close to wait for open connections; the socket is
      // already closed, so that call must wait for the connections instead of failing at once.
      server.close = ((done?: (err?: Error) => void) => {
        server.closeIdleConnections();
        void connectionsEnded.then(() => done?.());
        return server;
      }) as typeof server.close;

      await untilNoConnectionOrElapsed(sockets, timings.idleGraceMs);
      const force = setTimeout(() => {
        app.log.warn({ connections: sockets.size }, 'drain deadline: closing the connections still open');
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }, Math.max(0, timings.forceCloseAfterMs - timings.idleGraceMs));
      force.unref();
      try {
        // Ends event streams (their preClose hook), closes idle connections, waits for the rest,
        // then flushes usage and closes the store and buses.
        await composed.close();
      } finally {
        clearTimeout(force);
      }
    },
  };
}

function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}

/** Waits `ms`, or less once no connection is open. */
async function untilNoConnectionOrElapsed(sockets: Set<Socket>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (sockets.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, deadline - Date.now())));
  }
}
