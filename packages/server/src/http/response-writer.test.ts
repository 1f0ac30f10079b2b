import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedHeaders, writeAnswer } from './response-writer.js';

const headers = fixedHeaders({ 'content-type': 'application/json; charset=utf-8' }, { 'cache-control': 'no-store' });
const STATUSES = [200, 201, 400, 422, 429];
const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server that holds requests until `count` have arrived, then answers them all in one turn. */
async function answeringInOneTurn(count: number, answer: (req: IncomingMessage, res: ServerResponse, i: number) => void): Promise<string> {
  const held: Array<[IncomingMessage, ServerResponse]> = [];
  const server = createServer((req, res) => {
    held.push([req, res]);
    if (held.length === count) held.forEach(([q, s], i) => answer(q, s, i));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('writeAnswer', () => {
  it('writes every answer made in one turn, each with its status, headers, request id and length', async () => {
    const url = await answeringInOneTurn(5, (req, res, i) => writeAnswer(res, STATUSES[i]!, headers, `req_${i}`, JSON.stringify({ path: req.url }), i === 0 ? { 'retry-after': '1' } : undefined));
    const answers = await Promise.all([0, 1, 2, 3, 4].map((n) => fetch(`${url}/${n}`)));
    const seen = await Promise.all(answers.map(async (a) => ({ status: a.status, id: a.headers.get('x-request-id'), type: a.headers.get('content-type'), length: a.headers.get('content-length'), body: await a.text() })));
    for (const answer of seen) {
      expect(answer.type).toBe('application/json; charset=utf-8');
      expect(Number(answer.length)).toBe(Buffer.byteLength(answer.body));
      expect(answer.status).toBe(STATUSES[Number(answer.id!.slice(4))]);
    }
    expect(seen.map((a) => JSON.parse(a.body).path).sort()).toEqual(['/0', '/1', '/2', '/3', '/4']);
    expect(answers.filter((a) => a.headers.get('retry-after') === '1')).toHaveLength(1);
  });

  it('writes the other answers of a turn when one client went away before its answer was written', async () => {
    const url = await answeringInOneTurn(2, (req, res, i) => {
      if (req.url === '/gone') req.socket.destroy();
      writeAnswer(res, 200, headers, `req_${i}`, '{"ok":true}');
    });
    const gone = fetch(`${url}/gone`).catch((err: unknown) => err);
    // The second request arrives after the first is held.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const kept = await fetch(`${url}/kept`);
    expect(kept.status).toBe(200);
    expect(await kept.json()).toEqual({ ok: true });
    expect(await gone).toBeInstanceOf(Error);
  });

  it('ends an answer whose headers were already sent without writing a second one', async () => {
    const url = await answeringInOneTurn(1, (_req, res) => {
      res.writeHead(204).end();
      writeAnswer(res, 200, headers, 'req_x', '{"late":true}');
    });
    const answer = await fetch(url);
    expect(answer.status).toBe(204);
    expect(await answer.text()).toBe('');
  });
});
