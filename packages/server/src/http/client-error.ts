import type { Socket } from 'node:net';
import type { ErrorBody } from '@keyward/wire';

const statusText: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Answers a request Node's HTTP parser refused before Fastify saw it: a header holding NUL or
 * another control character, a malformed request line, headers too large, a request too slow to
 * arrive. Fastify's default writes `{"error":"Bad Request",…}`, which is not an API error code; this
 * writes the documented shape (`invalid_request`), so no input, however malformed, gets an answer
 * outside CONTRACT.md's "Errors". A reset connection gets nothing.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message =
    status === 408
      ? 'The request took too long to arrive.'
      : status === 431
        ? 'The request headers are too large.'
        : 'The request is malformed: a header holds a control character, or the request line is not HTTP/1.1.';
  const body = JSON.stringify({ error: 'invalid_request', message } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${statusText[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
