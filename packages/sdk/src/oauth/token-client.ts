import type { OAuthErrorBody, TokenResponse } from '@keyward/wire';

/** How to get access tokens for one API key. */
export interface TokenClientOptions {
  /** The Keyward server's public URL, which is the token issuer (e.g. `https://keys.example.com`). */
  readonly issuer: string;
  /** The API key. Its id (`key_…`) is the OAuth `client_id`, read off the key unless given. */
  readonly apiKey: string;
  readonly clientId?: string | undefined;
  /** Permissions to narrow the tokens to (a subset of the key's); default: the key's own rights. */
  readonly scope?: string | readonly string[] | undefined;
  /** RFC 8707: the API the tokens are for (their `aud`); default: the issuer. */
  readonly resource?: string | undefined;
  /** Renew this long before expiry (default 60 s, at most half the token's lifetime). */
  readonly renewBeforeSeconds?: number | undefined;
  /** Gives up on a token request after this long (default 10 s). */
  readonly timeoutMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** The current time in milliseconds (tests). */
  readonly now?: (() => number) | undefined;
}

/** A token and when it stops working. */
export interface IssuedAccessToken {
  readonly accessToken: string;
  readonly expiresAt: Date;
  readonly scope: string[];
}

/** Gets, caches and renews the access tokens of one API key. */
export interface TokenClient {
  /**
   * A valid access token: the cached one, renewed in the background once it is within
   * `renewBeforeSeconds` of expiry, or a new one when there is none or it has expired.
   */
  getAccessToken(): Promise<string>;
  /** The same, with its expiry and scope. */
  getToken(): Promise<IssuedAccessToken>;
  /** Forgets the cached token (for example after a 401): the next call asks for a new one. */
  clear(): void;
}

/**
 * A refused token request: `error` is the RFC 6749 code (`invalid_client`, `invalid_scope`, ...), or
 * `network_error` when the server could not be reached.
 */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status: number | null,
  ) {
    super(`${error}: ${description}`);
  }
}

/**
 * The OAuth client id of an API key: `key_` and the key's lookup id. Null for legacy project keys,
 * which have none (and get no tokens).
 *
 * @example
 * clientIdOf('kw_4fQ9xZ2mB7nR1tLp_…'); // 'key_4fQ9xZ2mB7nR1tLp'
 */
export function clientIdOf(apiKey: string): string | null {
  const match = /^[A-Za-z][A-Za-z0-9-]*[_-]([0-9A-Za-z]{16})_[0-9A-Za-z]{49}$/.exec(apiKey);
  return match ? `key_${match[1]}` : null;
}

/** RFC 6749 Appendix B: form-encode id and secret before base64. */
function basicAuthorization(id: string, secret: string): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/**
 * A token client for an API key: client credentials at `POST /oauth/token` with HTTP Basic, one
 * request at a time however many callers wait, tokens cached until shortly before they expire.
 *
 * @example
 * const tokens = createTokenClient({ issuer: 'https://keys.example.com', apiKey: process.env.KEYWARD_API_KEY! });
 * const response = await fetch('https://api.example.com/v1/traces', {
 *   headers: { authorization: `Bearer ${await tokens.getAccessToken()}` },
 * });
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const clientId = options.clientId ?? clientIdOf(options.apiKey);
  if (!clientId) throw new TypeError('This API key has no client id (legacy project keys cannot get tokens); pass clientId if it is a key of another format.');
  const issuer = options.issuer.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const renewBeforeMs = (options.renewBeforeSeconds ?? 60) * 1000;
  const scope = Array.isArray(options.scope) ? options.scope.join(' ') : (options.scope as string | undefined);
  const authorization = basicAuthorization(clientId, options.apiKey);
  let cached: (IssuedAccessToken & { renewAt: number }) | null = null;
  let pending: Promise<IssuedAccessToken> | null = null;

  async function request(): Promise<IssuedAccessToken> {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) body.set('scope', scope);
    if (options.resource) body.set('resource', options.resource);
    const sentAt = now();
    let response: Response;
    try {
      response = await doFetch(`${issuer}/oauth/token`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new TokenRequestError('network_error', (err as Error).message, null);
    }
    const answer = (await response.json().catch(() => ({}))) as Partial<TokenResponse & OAuthErrorBody>;
    if (!response.ok || typeof answer.access_token !== 'string' || typeof answer.expires_in !== 'number') {
      throw new TokenRequestError(answer.error ?? 'invalid_response', answer.error_description ?? `The token endpoint answered ${response.status}.`, response.status);
    }
    const lifetimeMs = answer.expires_in * 1000;
    // Counted from when the request was sent: the token cannot outlive what the server granted.
    const expiresAt = sentAt + lifetimeMs;
    const token = { accessToken: answer.access_token, expiresAt: new Date(expiresAt), scope: (answer.scope ?? '').split(' ').filter(Boolean) };
    cached = { ...token, renewAt: expiresAt - Math.min(renewBeforeMs, lifetimeMs / 2) };
    return token;
  }

  function renew(): Promise<IssuedAccessToken> {
    pending ??= request().finally(() => {
      pending = null;
    });
    return pending;
  }

  async function getToken(): Promise<IssuedAccessToken> {
    const current = cached;
    const time = now();
    if (current && time < current.expiresAt.getTime()) {
      // Inside the renewal window: renew in the background, keep answering with the valid token.
      if (time >= current.renewAt) renew().catch(() => {});
      return current;
    }
    return renew();
  }

  return {
    getToken,
    async getAccessToken() {
      return (await getToken()).accessToken;
    },
    clear() {
      cached = null;
    },
  };
}
