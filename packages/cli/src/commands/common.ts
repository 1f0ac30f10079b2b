import type { Command } from 'commander';

/** Adds --json, --org and --url, which every person command takes. */
export function withCommon(command: Command, options: { org?: boolean } = {}): Command {
  command.option('--json', 'print one JSON document on standard output, nothing else (for scripts)');
  if (options.org !== false) command.option('--org <id|name>', 'the organization to act on (default: the one picked with `keyward orgs switch`)');
  command.option('--url <url>', 'the Keyward server (default: KEYWARD_URL, else the server you logged in to)');
  return command;
}

/** Examples at the end of a command's --help. */
export function withExamples(command: Command, examples: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}

/** Commander's collector for repeatable flags (`--permission a --permission b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The terminal's width, or a wide default when output goes to a pipe or file. */
export function terminalWidth(): number {
  return process.stdout.isTTY ? process.stdout.columns || 100 : Number(process.env.COLUMNS) || 160;
}
