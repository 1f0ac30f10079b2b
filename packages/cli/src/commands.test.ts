import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerPersonCommands } from './commands.js';

function everyCommand(command: Command, path: string[] = []): { path: string; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const subPath = [...path, sub.name()];
    return [{ path: subPath.join(' '), command: sub }, ...everyCommand(sub, subPath)];
  });
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

describe('the person commands', () => {
  const program = new Command('keyward').exitOverride();
  registerPersonCommands(program);
  const commands = everyCommand(program);

  it('all show examples in --help', () => {
    expect(commands.length).toBeGreaterThan(35);
    for (const { path, command } of commands) {
      expect(helpOf(command), path).toContain('Examples');
    }
  });

  it('all take --json, --url and, but for auth login/logout and orgs, --org', () => {
    const leaves = commands.filter(({ command, path }) => command.commands.length === 0 && !['mcp', 'completion'].includes(path));
    for (const { path, command } of leaves) {
      const flags = command.options.map((o) => o.long);
      expect(flags, path).toEqual(expect.arrayContaining(['--json', '--url']));
      if (!['auth login', 'auth logout', 'orgs list', 'orgs switch'].includes(path)) expect(flags, path).toContain('--org');
    }
  });
});
