import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ApiClient } from '../api-client.js';
import { cliVersion } from '../version.js';
import type { KeywardHttp, ToolContext } from './http.js';
import { registerInsightTools } from './insight-tools.js';
import { registerKeyTools } from './key-tools.js';

export type { KeywardHttp } from './http.js';

export interface KeywardMcpOptions {
  /** The API client the tools call, authenticated with the API key. */
  readonly http: KeywardHttp;
  /** The same client naming another project in X-Project-Id (whoami's `projectId`). */
  readonly atProject: (projectId: string) => KeywardHttp;
  /** The clock that durations ("30d", "24h") count from; the system clock by default. */
  readonly now?: () => Date;
}

const instructions = [
  'Keyward manages API keys. These tools call its HTTP API with one API key and can never do more than that key may:',
  'the API decides, and refusals come back as errors with its code (403 insufficient_permissions: the key lacks the right).',
  'Call whoami first to see which key and organization you act as and its permissions.',
  'create_api_key and roll_api_key return a secret exactly once: give it to the person to store, and never repeat it later.',
  'revoke_api_key is permanent: confirm the key with the person first.',
].join(' ');

/** The Keyward MCP server: its tools, over any transport. */
export function createKeywardMcpServer(options: KeywardMcpOptions): McpServer {
  const server = new McpServer({ name: 'keyward', title: 'Keyward', version: cliVersion }, { instructions });
  const ctx: ToolContext = { http: options.http, atProject: options.atProject, now: options.now ?? (() => new Date()) };
  registerInsightTools(server, ctx);
  registerKeyTools(server, ctx);
  return server;
}

export interface KeywardApiOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly projectId?: string | undefined;
}

/** The API client an MCP server uses: the key as a bearer token, and X-Project-Id when a project is set. */
export function keywardApi({ url, apiKey, projectId }: KeywardApiOptions): Pick<KeywardMcpOptions, 'http' | 'atProject'> {
  const client = (project: string | undefined) =>
    new ApiClient({
      baseUrl: url.replace(/\/+$/, ''),
      token: apiKey,
      credentialSource: 'KEYWARD_API_KEY',
      ...(project ? { headers: { 'x-project-id': project } } : {}),
    });
  return { http: client(projectId), atProject: (project) => client(project) };
}
