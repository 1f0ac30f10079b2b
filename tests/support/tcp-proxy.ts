import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a dependency (PostgreSQL), that a test can cut (every connection closed,
 * nothing listening: the database went away) or hang (connections stay open and accepted, but no byte
 * goes through either way: the database stopped answering).
 */
export interface TcpProxy {
  readonly port: number;
  listen(): Promise<void>;
  cut(): Promise<void>;
  hang(): void;
  close(): Promise<void>;
}

export function tcpProxy(target: { host: string; port: number }): TcpProxy {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let hung = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  };
  const closeServer = () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  return {
    get port() {
      return port;
    },
    listen() {
      hung = false;
      return new Promise<void>((resolve) => {
        server = createServer((client) => {
          track(client);
          if (hung) return; // accepted, never answered
          const upstream = connect(target.port, target.host);
          track(upstream);
          client.on('data', (data) => void (hung || upstream.write(data)));
          upstream.on('data', (data) => void (hung || client.write(data)));
          client.on('close', () => upstream.destroy());
          upstream.on('close', () => client.destroy());
        });
        server.listen(port, '127.0.0.1', () => {
          const address = server!.address();
          port = typeof address === 'object' && address ? address.port : port;
          resolve();
        });
      });
    },
    async cut() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closeServer();
    },
    hang() {
      hung = true;
    },
    async close() {
      hung = true;
      for (const socket of sockets) socket.destroy();
      await closeServer();
    },
  };
}
