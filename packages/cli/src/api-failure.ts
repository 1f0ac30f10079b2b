import type { ErrorBody } from '@keyward/wire';

/** Where a credential came from, so a 401 can say which one to fix. */
export type CredentialSource = 'session' | 'KEYWARD_TOKEN' | 'KEYWARD_API_KEY' | 'none';

/** An error answer of the API: its status and its `{error, message, reasons?, requestId}` body. */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
    readonly request: { method: string; url: string; baseUrl: string; credentialSource: CredentialSource },
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(body?.message ?? `The server answered ${status}.`);
  }

  get code(): string {
    return this.body?.error ?? `http_${this.status}`;
  }
}
