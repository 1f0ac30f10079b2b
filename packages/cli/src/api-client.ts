import { ApiFailure, type CredentialSource } from './api-failure.js';
import { CliError } from './cli-error.js';
import { cliVersion } from './version.js';

export interface ApiClientOptions {
  readonly baseUrl: string;
  readonly token: string | null;
  readonly credentialSource: CredentialSource;
  /** Extra headers on every request: X-Organization-Id, X-Project-Id. */
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

interface Page<T> {
  readonly data: T[];
  readonly nextCursor: string | null;
}

/** A small fetch client of the Keyward HTTP API. Error answers throw ApiFailure. */
export class ApiClient {
  readonly baseUrl: string;
  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body: body ?? {} });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  /** A DELETE, with a JSON body only when one is given (a revoke's reason). */
  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, { body });
  }

  /** Every item of a paged list, following nextCursor. */
  async all<T>(path: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.get<Page<T>>(path, { ...query, limit: 100, cursor });
      items.push(...page.data);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }

  /** Up to `limit` items of a paged list, newest first as the API orders them. */
  async first<T>(path: string, limit: number, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.get<Page<T>>(path, { ...query, limit: Math.min(100, limit - items.length), cursor });
      items.push(...page.data);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && items.length < limit);
    return items;
  }

  async request<T>(method: string, path: string, init: { query?: Query | undefined; body?: unknown }): Promise<T> {
    const url = new URL(path, `${this.baseUrl}/`);
    for (const [name, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': `keyward-cli/${cliVersion}`, ...this.options.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
    } catch (err) {
      throw unreachable(this.baseUrl, err);
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (response.ok) return parsed as T;
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new ApiFailure(
      response.status,
      isErrorBody(parsed) ? parsed : null,
      { method, url: url.pathname, baseUrl: this.baseUrl, credentialSource: this.options.credentialSource },
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    );
  }
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isErrorBody(value: unknown): value is ApiFailure['body'] & object {
  return typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string';
}

function unreachable(baseUrl: string, err: unknown): CliError {
  const cause = err instanceof Error ? ((err.cause as { code?: string; message?: string } | undefined) ?? err) : undefined;
  const reason = err instanceof Error && err.name === 'TimeoutError' ? 'no answer within 30 seconds' : (cause as { code?: string })?.code ?? cause?.message ?? String(err);
  return new CliError(
    `Could not reach Keyward at ${baseUrl} (${reason}).`,
    1,
    'Check that the server is running and that the URL is right (keyward auth login --url URL, or KEYWARD_URL).',
    [],
    'server_unreachable',
  );
}
