import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CliError } from '../cli-error.js';
import { exitCodes } from '../exit-codes.js';
import { createKeywardMcpServer, keywardApi } from './server.js';

export interface RunMcpOptions {
  /** The Keyward server's base URL. */
  readonly url: string;
  /** The API key every tool call uses (KEYWARD_API_KEY). */
  readonly apiKey: string | undefined;
  /** Sent as X-Project-Id on every call (--project, else KEYWARD_PROJECT_ID). */
  readonly projectId?: string | undefined;
}

/**
 * `keyward mcp`: serves the Keyward tools over stdio until the client closes standard input.
 * Standard output carries MCP messages and nothing else; anything for people goes to standard error.
 * A missing key throws a CliError with exit code 3 before anything is served.
 */
export async function runMcpServer(options: RunMcpOptions): Promise<void> {
  const apiKey = options.apiKey?.trim();
  if (!apiKey) {
    throw new CliError(
      'KEYWARD_API_KEY is not set: the MCP server acts with an API key and has none.',
      exitCodes.notAuthenticated,
      'Create a personal key (keyward api-key create --name "MCP" --expires 30d, or the console: Settings → API Keys) and set KEYWARD_API_KEY in the MCP client\'s configuration for this server.',
    );
  }
  const url = checkedUrl(options.url);
  const projectId = options.projectId?.trim() || process.env.KEYWARD_PROJECT_ID?.trim() || undefined;
  const server = createKeywardMcpServer(keywardApi({ url, apiKey, projectId }));
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  // The stdio transport listens for data only; the client ending standard input is how it hangs up.
  const hangUp = () => void server.close();
  process.stdin.once('end', hangUp);
  process.stdin.once('close', hangUp);
  await server.connect(transport);
  process.stderr.write(`keyward mcp: serving Keyward at ${url}${projectId ? ` (project ${projectId})` : ''} over stdio\n`);
  await closed;
  process.stdin.off('end', hangUp);
  process.stdin.off('close', hangUp);
}

function checkedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`"${url}" is not a URL.`, exitCodes.usage, 'Give the Keyward server\'s address, e.g. --url https://keyward.example.com (or KEYWARD_URL).');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`"${url}" is not an http(s) URL.`, exitCodes.usage, 'Give the Keyward server\'s address, e.g. --url https://keyward.example.com (or KEYWARD_URL).');
  }
  return url.replace(/\/+$/, '');
}
