import { Argument, type Command, type Option } from 'commander';
import { usageError } from '../cli-error.js';

/** The operator commands, which bin.ts hands to the server before commander sees them. */
const operatorWords: Record<string, string[]> = {
  '': ['serve', 'migrate', 'admin'],
  admin: ['create-org', 'create-verifier'],
};

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script for bash or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      "\nExamples (install):\n  $ echo 'source <(keyward completion bash)' >> ~/.bashrc\n  $ echo 'source <(keyward completion zsh)' >> ~/.zshrc    # after compinit\n",
    )
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw usageError('completion takes bash or zsh.');
      process.stdout.write(completionScript(program, shell));
    });
}

function optionWords(option: Option): string[] {
  return [option.long, option.short].filter((w): w is string => Boolean(w));
}

/** Every command path's words (subcommands and flags), and each flag's fixed values. */
function wordTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const walk = (command: Command, path: string) => {
    const words = [...command.commands.flatMap((c) => [c.name(), ...c.aliases()]), ...command.options.flatMap(optionWords), '--help'];
    if (path === '') words.push('--version', ...operatorWords['']!);
    if (path === 'admin') words.push(...operatorWords.admin!);
    table.set(path, [...new Set(words)]);
    for (const option of command.options) {
      if (option.argChoices?.length) for (const flag of optionWords(option)) table.set(`${path} ${flag}`.trim(), option.argChoices);
    }
    for (const arg of command.registeredArguments) if (arg.argChoices?.length) table.set(`${path} <arg>`.trim(), arg.argChoices);
    for (const sub of command.commands) for (const name of [sub.name(), ...sub.aliases()]) walk(sub, `${path} ${name}`.trim());
  };
  walk(program, '');
  if (!table.has('admin')) table.set('admin', [...operatorWords.admin!, '--help']);
  return table;
}

function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const cases = [...wordTable(program)].map(([path, words]) => `    ${JSON.stringify(path)}) echo ${JSON.stringify(words.join(' '))} ;;`).join('\n');
  const bash = `_keyward_words() {
  case "$1" in
${cases}
  esac
}

_keyward() {
  local cur prev path word i candidates
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in -*) continue ;; esac
    case " $(_keyward_words "$path") " in
      *" $word "*) path="\${path:+$path }$word" ;;
    esac
  done
  candidates=""
  case "$prev" in -*) candidates="$(_keyward_words "\${path:+$path }$prev")" ;; esac
  if [ -z "$candidates" ]; then
    # Flags only once a "-" is typed; otherwise subcommands and argument values.
    case "$cur" in
      -*) candidates="$(_keyward_words "$path")" ;;
      *) candidates="$(_keyward_words "$path" | tr ' ' '\\n' | grep -v '^-' | tr '\\n' ' ') $(_keyward_words "\${path:+$path }<arg>")" ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -F _keyward keyward
`;
  if (shell === 'bash') return `# keyward completion for bash: source <(keyward completion bash)\n${bash}`;
  return `# keyward completion for zsh: source <(keyward completion zsh), after compinit\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
}
