import type { Command } from 'commander';

/** The person commands (auth, orgs, api-key, members, teams, projects). */
export function registerPersonCommands(program: Command): void {
  void program;
}
