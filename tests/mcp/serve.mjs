// Runs the built MCP server as `keyward mcp` would, until the CLI registers that command:
// node tests/mcp/serve.mjs --url URL [--project ID], with the key in KEYWARD_API_KEY.
import { parseArgs } from 'node:util';
import { reportFailure } from '../../packages/cli/dist/failure.js';
import { runMcpServer } from '../../packages/cli/dist/mcp/index.js';

const { values } = parseArgs({ options: { url: { type: 'string' }, project: { type: 'string' } } });
runMcpServer({ url: values.url ?? 'http://127.0.0.1:4000', apiKey: process.env.KEYWARD_API_KEY, projectId: values.project }).catch((err) => {
  process.exitCode = reportFailure(err);
});
