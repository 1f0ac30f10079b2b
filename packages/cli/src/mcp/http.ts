import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ApiClient } from '../api-client.js';
import { errorResult } from './results.js';

/** The HTTP calls the tools make: the CLI's ApiClient, or anything shaped like it. */
export type KeywardHttp = Pick<ApiClient, 'get' | 'post' | 'patch' | 'delete'>;

/** What every tool gets: the HTTP client and the clock that durations count from. */
export interface ToolContext {
  /** The API client, with the key (and the configured X-Project-Id) on every request. */
  readonly http: KeywardHttp;
  /** The same client naming another project in X-Project-Id. */
  readonly atProject: (projectId: string) => KeywardHttp;
  readonly now: () => Date;
}

/** Runs a tool body; an error answer of the API (or no answer) becomes an `isError` result. */
export async function guarded(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (err) {
    return errorResult(err);
  }
}

/** A path segment from a caller's id: ids are opaque, so they are escaped, never trusted. */
export const segment = (id: string) => encodeURIComponent(id);
