import type { ErrorBody } from '@keyward/wire';

/**
 * The console's only way to the server: same-origin fetch with the session cookie (never a token in
 * JS-readable storage). Every request names the chosen organization; every non-GET request carries the
 * CSRF header the server demands of cookie-authenticated calls.
 */
const ORGANIZATION_KEY = 'keyward.organizationId';

let organizationId: string | null = readStoredOrganization();

function readStoredOrganization(): string | null {
  try {
    return window.localStorage.getItem(ORGANIZATION_KEY);
  } catch {
    return null;
  }
}

export function currentOrganizationId(): string | null {
  return organizationId;
}

/** The organization is not secret: keeping the choice across reloads is a convenience. */
export function setOrganizationId(id: string | null): void {
  organizationId = id;
  try {
    if (id) window.localStorage.setItem(ORGANIZATION_KEY, id);
    else window.localStorage.removeItem(ORGANIZATION_KEY);
  } catch {
    // storage unavailable (private mode): the choice lasts for this page only
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Partial<ErrorBody> & Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Per-field messages of a 422, keyed by path (`name`, `allowedCidrs[0]`, `scopes[1].resource`). */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const reason of this.body.reasons ?? []) out[reason.path] ??= reason.message;
    return out;
  }

  /** The permissions a 403 api_key_scope_violation says are missing. */
  get missing(): string[] {
    const missing = this.body.missing;
    return Array.isArray(missing) ? missing.filter((m): m is string => typeof m === 'string') : [];
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when a request answers 401: the session ended (expired, logged out elsewhere). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** Do not announce a 401 as the end of the session (login, whoami). */
  readonly quiet401?: boolean;
  readonly organizationId?: string | null;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const org = options.organizationId === undefined ? organizationId : options.organizationId;
  if (org) headers['x-organization-id'] = org;
  if (method !== 'GET' && method !== 'HEAD') headers['x-keyward-console'] = '1';
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store', signal: options.signal ?? null });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'The server could not be reached. Check that Keyward is running, then try again.', {});
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    const errorBody = (parsed && typeof parsed === 'object' ? parsed : {}) as Partial<ErrorBody> & Record<string, unknown>;
    const code = typeof errorBody.error === 'string' ? errorBody.error : `http_${response.status}`;
    const message = typeof errorBody.message === 'string' ? errorBody.message : `The server answered ${response.status}.`;
    if (response.status === 401 && !options.quiet401) for (const listener of unauthorizedListeners) listener();
    throw new ApiError(response.status, code, message, errorBody);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, { ...options, body: body ?? {} }),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PATCH', path, { ...options, body }),
  /** A body only when given (revoking a key takes an optional `{"reason"}`). */
  delete: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('DELETE', path, body === undefined ? options : { ...options, body }),
};

/** A query string from the defined values only. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}
