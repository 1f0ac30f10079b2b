import type { Command } from 'commander';
import { registerApiKeyCommands } from './commands/api-key.js';
import { registerAuthCommands } from './commands/auth.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerAuditCommands, registerBindingCommands, registerMemberCommands, registerProjectCommands, registerTeamCommands } from './commands/organization.js';
import { registerOrgCommands } from './commands/orgs.js';

/** The person commands: pure HTTP clients of the API, authenticated as the person who logged in. */
export function registerPersonCommands(program: Command): void {
  registerAuthCommands(program);
  registerOrgCommands(program);
  registerApiKeyCommands(program);
  registerMemberCommands(program);
  registerTeamCommands(program);
  registerProjectCommands(program);
  registerBindingCommands(program);
  registerAuditCommands(program);
  registerMcpCommand(program);
  registerCompletionCommand(program);
}
