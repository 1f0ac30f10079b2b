import type { Command } from 'commander';
import { resolveUrl } from '../context.js';
import { readSession } from '../session-store.js';

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('run an MCP server over stdio for AI assistants, authenticated by KEYWARD_API_KEY')
    .option('--url <url>', 'the Keyward server (default: KEYWARD_URL, else the server you logged in to)')
    .option('--project <id>', 'the project to act in, sent as X-Project-Id (keys that reach several projects)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ KEYWARD_API_KEY=kw_... keyward mcp --url https://keyward.example.com\n  $ claude mcp add keyward --env KEYWARD_API_KEY=kw_... -- npx keyward mcp --url https://keyward.example.com\n\nSee docs/mcp.md.\n',
    )
    .action(async (options: { url?: string; project?: string }) => {
      const url = resolveUrl(options, readSession());
      const { runMcpServer } = await import('../mcp/index.js');
      await runMcpServer({ url, apiKey: process.env.KEYWARD_API_KEY, projectId: options.project });
    });
}
