import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/** What one attempt came to. Only a short excerpt of the response is kept, never its body. */
export interface SendOutcome {
  readonly statusCode: number | null;
  readonly durationMs: number;
  readonly error: string | null;
  readonly responseExcerpt: string | null;
  /** The receiver's `Retry-After` on a failed attempt, in seconds (not stored). */
  readonly retryAfterSeconds: number | null;
}

export interface WebhookSender {
  send(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome>;
  /** Aborts the sends in flight (their deliveries are leased, and retried once the lease ends). */
  abortAll(): void;
  close(): void;
}

const EXCERPT_BYTES = 256;
const ERROR_CHARS = 200;

const short = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * Sends webhook requests with Node's http and https clients through request-filtering-agent, which
 * checks the address a name resolved to when the socket connects (so DNS rebinding between a check and
 * the connection gets nowhere) and refuses loopback, private, link-local and metadata addresses unless
 * they are allowed. Redirects are never followed (Node's client does not follow them): a 3xx is a
 * failed attempt. One deadline covers the whole attempt, connection to last header; the body is read
 * only as far as a short excerpt, so a huge or endless body costs nothing.
 */
export function createWebhookSender(options: { timeoutMs: number; allowPrivateTargets: boolean }): WebhookSender {
  const filter = { allowPrivateIPAddress: options.allowPrivateTargets, allowMetaIPAddress: options.allowPrivateTargets };
  const httpAgent = new RequestFilteringHttpAgent({ keepAlive: true, maxSockets: 64, ...filter });
  const httpsAgent = new RequestFilteringHttpsAgent({ keepAlive: true, maxSockets: 64, ...filter });
  const inFlight = new Set<() => void>();

  function send(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise<SendOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: Omit<SendOutcome, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        inFlight.delete(abort);
        req.destroy();
        resolve({ ...outcome, durationMs: elapsed() });
      };
      const fail = (error: string) => finish({ statusCode: null, error: short(error, ERROR_CHARS), responseExcerpt: null, retryAfterSeconds: null });
      const isHttps = url.startsWith('https:');
      const requestFn = isHttps ? httpsRequest : httpRequest;
      const req = requestFn(url, {
        method: 'POST',
        agent: isHttps ? httpsAgent : httpAgent,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Keyward-Webhooks/1', ...headers },
      });
      const abort = () => fail('The server stopped before the attempt finished.');
      inFlight.add(abort);
      const timer = setTimeout(() => fail(`No answer within ${options.timeoutMs} ms.`), options.timeoutMs);
      req.on('error', (err) => fail(describeError(err)));
      req.on('response', (res) => readExcerpt(res, (excerpt) => finish(outcomeOf(res, excerpt))));
      req.end(body);
    });
  }

  return {
    send,
    abortAll() {
      for (const abort of [...inFlight]) abort();
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function outcomeOf(res: IncomingMessage, excerpt: string): Omit<SendOutcome, 'durationMs'> {
  const statusCode = res.statusCode ?? null;
  let error: string | null = null;
  if (statusCode === null || statusCode < 200 || statusCode >= 300) {
    error =
      statusCode !== null && statusCode >= 300 && statusCode < 400
        ? `Redirect (${statusCode}) not followed: webhooks go to the URL configured.`
        : `The endpoint answered ${statusCode}.`;
  }
  return { statusCode, error, responseExcerpt: excerpt === '' ? null : excerpt, retryAfterSeconds: error ? retryAfterOf(res.headers['retry-after']) : null };
}

/** `Retry-After` as delay-seconds or an HTTP date; null when absent or unreadable. */
function retryAfterOf(header: string | undefined): number | null {
  if (!header) return null;
  if (/^\d{1,9}$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Reads at most EXCERPT_BYTES of the body, then stops reading (the socket is destroyed by the caller). */
function readExcerpt(res: IncomingMessage, done: (excerpt: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let called = false;
  const end = () => {
    if (called) return;
    called = true;
    done(short(Buffer.concat(chunks).toString('utf8', 0, Math.min(size, EXCERPT_BYTES)).replace(/\uFFFD+$/, ''), EXCERPT_BYTES));
  };
  res.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= EXCERPT_BYTES) end();
  });
  res.on('end', end);
  res.on('error', end);
  res.on('aborted', end);
}

function describeError(err: Error & { code?: string }): string {
  // request-filtering-agent's refusal names the address and why ("... is not allowed. Because, It is private IP address.").
  if (/is not allowed/i.test(err.message)) return `Refused: the target resolves to a forbidden address (${err.message})`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'The host name does not resolve.';
  if (err.code === 'ECONNREFUSED') return 'Connection refused.';
  if (err.code === 'ECONNRESET') return 'The connection was reset.';
  return err.code ? `${err.code}: ${err.message}` : err.message;
}
