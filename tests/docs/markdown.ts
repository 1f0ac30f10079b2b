/**
 * Reading the shell examples out of the project's markdown (issue 12): fenced ```sh, ```bash,
 * ```shell and ```console blocks, in document order, with the marker that may precede one and the
 * expected output the docs show.
 *
 * Conventions the docs follow (README.md's "Try it with curl" says so to readers):
 * - A ```sh (```bash, ```shell) block is pasted as is: every line runs, in one shell per page, after
 *   the blocks before it, so variables carry over.
 * - A ```console block is a transcript: `$ command` lines (a line ending in `\` continues), then
 *   what the command printed; `(exit N)` on its own line is the exit code when it is not 0.
 * - `# → …` in a sh block shows what the commands above it print (since the previous `# →`): the
 *   JSON keys it names must be in that output, and a leading HTTP status (`# → 201 {…}`) must be
 *   the status the requests there got.
 * - `<!-- example: skip (why) -->` on the line before a block: the block is not run (the reason is
 *   listed by the test). Keep those few.
 */

export type BlockKind = 'sh' | 'console';

export interface DocBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly kind: BlockKind;
  readonly lines: readonly string[];
  /** The reason of a `<!-- example: skip (reason) -->` marker. */
  readonly skip: string | null;
}

const shellLanguages: Record<string, BlockKind> = { sh: 'sh', bash: 'sh', shell: 'sh', console: 'console' };
const markerPattern = /^<!--\s*example:(.*?)-->$/;

/** The shell and console blocks of a markdown text, in order. Other fenced blocks are left alone. */
export function shellBlocks(text: string, file: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, language] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    const closes = (candidate: string) => {
      const trimmed = candidate.trim();
      return trimmed.length >= fence.length && /^(`+|~+)$/.test(trimmed) && trimmed[0] === fence[0];
    };
    while (j < lines.length && !closes(lines[j]!)) {
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
      j++;
    }
    const kind = shellLanguages[language.toLowerCase()];
    if (kind) blocks.push({ file, line: i + 1, kind, lines: body, skip: markerBefore(lines, i, file) });
    i = j;
  }
  return blocks;
}

/** The `<!-- example: ... -->` directive on the last non-blank line before line `index`, if any. */
function markerBefore(lines: readonly string[], index: number, file: string): string | null {
  let k = index - 1;
  while (k >= 0 && lines[k]!.trim() === '') k--;
  const marker = k >= 0 ? markerPattern.exec(lines[k]!.trim()) : null;
  if (!marker) return null;
  const skip = /^\s*skip\s*\((.+)\)\s*$/.exec(marker[1]!);
  if (!skip) throw new Error(`${file}:${k + 1}: unknown example marker "${lines[k]!.trim()}" (only <!-- example: skip (reason) --> exists)`);
  return skip[1]!.trim();
}

export interface ConsoleCommand {
  /** The command as typed, continuation lines joined with their `\` and newline kept. */
  readonly command: string;
  /** What the transcript shows it printed (standard output and error together). */
  readonly output: readonly string[];
  readonly exitCode: number;
}

/** The commands of a console transcript. */
export function consoleCommands(block: Pick<DocBlock, 'lines' | 'file' | 'line'>): ConsoleCommand[] {
  const commands: { command: string[]; output: string[]; exitCode: number }[] = [];
  let continuing = false;
  for (const line of block.lines) {
    const current = commands.at(-1);
    if (continuing && current) {
      current.command.push(line);
      continuing = line.endsWith('\\');
      continue;
    }
    if (line.startsWith('$ ')) {
      commands.push({ command: [line.slice(2)], output: [], exitCode: 0 });
      continuing = line.endsWith('\\');
      continue;
    }
    if (!current) {
      if (line.trim() !== '') throw new Error(`${block.file}:${block.line}: a console block starts with "$ command", not "${line}"`);
      continue;
    }
    const exit = /^\(exit (\d+)\)$/.exec(line.trim());
    if (exit) current.exitCode = Number(exit[1]);
    else current.output.push(line);
  }
  return commands.map((c) => ({ command: c.command.join('\n'), output: trimBlankEnds(c.output), exitCode: c.exitCode }));
}

function trimBlankEnds(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]!.trim() === '') start++;
  while (end > start && lines[end - 1]!.trim() === '') end--;
  return lines.slice(start, end);
}

export interface Segment {
  /** Lines of the block to run, in order. */
  readonly lines: readonly string[];
  /** The `# → …` text after them (continuation comment lines joined), or null for the block's tail. */
  readonly expected: string | null;
  /** 1-based line in the file of the `# →` comment. */
  readonly expectedLine: number | null;
}

/**
 * A sh block cut after each `# → …` comment (with the comment lines that continue it), so that each
 * piece's output can be held against what the docs say it prints.
 */
export function segments(block: Pick<DocBlock, 'lines' | 'line'>): Segment[] {
  const result: Segment[] = [];
  let pending: string[] = [];
  for (let i = 0; i < block.lines.length; i++) {
    const line = block.lines[i]!;
    if (!/^#\s*→/.test(line)) {
      pending.push(line);
      continue;
    }
    const expected = [line.replace(/^#\s*→\s*/, '')];
    const expectedLine = block.line + 1 + i;
    pending.push(line);
    while (i + 1 < block.lines.length && /^#\s{2,}\S/.test(block.lines[i + 1]!)) {
      i++;
      pending.push(block.lines[i]!);
      expected.push(block.lines[i]!.replace(/^#\s*/, ''));
    }
    result.push({ lines: pending, expected: expected.join(' '), expectedLine });
    pending = [];
  }
  if (pending.some((line) => line.trim() !== '')) result.push({ lines: pending, expected: null, expectedLine: null });
  return result;
}

/**
 * What a `# → …` comment promises: the HTTP status it starts with, if any, and the JSON keys it names
 * (a quoted name after `{` or `,` and before `:`, `,` or `}`; values and alternatives such as
 * `"ok"|"down"` are not keys).
 */
export function expectation(text: string): { status: number | null; keys: string[] } {
  const status = /^(\d{3})\b/.exec(text.trim());
  const keys = new Set<string>();
  for (const match of text.matchAll(/[{,]\s*"([A-Za-z_][\w]*)"\s*(?=[:,}])/g)) keys.add(match[1]!);
  return { status: status ? Number(status[1]) : null, keys: [...keys] };
}

/** Ids in the docs' examples: a known type prefix and an opaque base62 body. */
export const idPattern = /\b(?:org|usr|team|proj|key|rb|ver|inv|sk)_[0-9A-Za-z]{8,}\b/g;

/**
 * Lines of a transcript's output that say what happened (`✓ …`, `Error: …`, `Warning: …`), reduced to
 * their fixed start: up to the first quote, digit or id, which differ from run to run.
 */
export function statusLinePrefixes(output: readonly string[]): string[] {
  const prefixes: string[] = [];
  for (const line of output) {
    const trimmed = line.trim();
    if (!/^(✓ |Error: |Warning: )/.test(trimmed)) continue;
    const cut = trimmed.search(/["“0-9]|\b(?:org|usr|team|proj|key|rb|ver)_|kw_|…/);
    prefixes.push((cut === -1 ? trimmed : trimmed.slice(0, cut)).trimEnd());
  }
  return prefixes;
}

/**
 * The example ids an expected output line holds, as a pattern over the real line: the ids become
 * captures, the rest as `literal` says.
 */
export function linePattern(expected: string): { pattern: RegExp; ids: string[] } | null {
  const trimmed = expected.trim();
  const ids = trimmed.match(idPattern) ?? [];
  if (ids.length === 0) return null;
  let source = '';
  let last = 0;
  for (const match of trimmed.matchAll(idPattern)) {
    source += literal(trimmed.slice(last, match.index));
    source += `(${match[0].slice(0, match[0].indexOf('_') + 1)}[0-9A-Za-z]+)`;
    last = match.index + match[0].length;
  }
  source += literal(trimmed.slice(last));
  return { pattern: new RegExp(`^${source}$`), ids };
}

/** A run of text as a pattern: spaces any spaces, a word shortened with `…` any word, digits any digits. */
function literal(text: string): string {
  return text
    .split(/(\s+)/)
    .map((word) => {
      if (/^\s+$/.test(word)) return '\\s+';
      if (word.includes('…')) return '\\S+';
      return word
        .split(/(\d+)/)
        .map((part) => (/^\d+$/.test(part) ? '\\d+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
    })
    .join('');
}
