import { describe, expect, it } from 'vitest';
import { consoleCommands, expectation, linePattern, segments, shellBlocks, statusLinePrefixes } from './markdown.js';

const page = [
  '# Title',
  '',
  '```sh',
  'echo one',
  '```',
  '',
  '```json',
  '{"not":"run"}',
  '```',
  '',
  '<!-- example: skip (needs a terminal) -->',
  '',
  '```console',
  '$ keyward auth login',
  '```',
  '',
  '- a list item',
  '',
  '  ```bash',
  '  echo indented',
  '  ```',
  '',
  '````sh',
  'cat <<EOF',
  '```',
  'EOF',
  '````',
].join('\n');

describe('reading the shell examples out of markdown', () => {
  it('takes sh, bash and console blocks in order, with their line, and leaves other languages', () => {
    const blocks = shellBlocks(page, 'x.md');
    expect(blocks.map((b) => [b.line, b.kind, b.lines, b.skip])).toEqual([
      [3, 'sh', ['echo one'], null],
      [13, 'console', ['$ keyward auth login'], 'needs a terminal'],
      [19, 'sh', ['echo indented'], null],
      [23, 'sh', ['cat <<EOF', '```', 'EOF'], null],
    ]);
  });

  it('refuses an example marker it does not know, rather than run the block', () => {
    expect(() => shellBlocks('<!-- example: skipp (typo) -->\n```sh\nrm -rf /\n```\n', 'y.md')).toThrow(/y\.md:1: unknown example marker/);
  });

  it('reads a transcript: commands, continuation lines, output and exit codes', () => {
    const lines = ['$ keyward api-key create \\', '    --name ci', '✓ Created', '', '$ keyward api-key get key_nope', 'Error: No API key', '(exit 4)', '$ true'];
    expect(consoleCommands({ lines, file: 'z.md', line: 1 })).toEqual([
      { command: 'keyward api-key create \\\n    --name ci', output: ['✓ Created'], exitCode: 0 },
      { command: 'keyward api-key get key_nope', output: ['Error: No API key'], exitCode: 4 },
      { command: 'true', output: [], exitCode: 0 },
    ]);
    expect(() => consoleCommands({ lines: ['output first'], file: 'z.md', line: 7 })).toThrow(/z\.md:7/);
  });

  it('cuts a sh block after each "# →" comment, with the comment lines that continue it', () => {
    const lines = ['A=$(curl x)', 'echo "$A"', '# → 201 {"token":"kw_…",', '#      "apiKey":{…}}', 'curl y', '# a plain comment', 'curl z'];
    expect(segments({ lines, line: 10 })).toEqual([
      { lines: lines.slice(0, 4), expected: '201 {"token":"kw_…", "apiKey":{…}}', expectedLine: 13 },
      { lines: lines.slice(4), expected: null, expectedLine: null },
    ]);
  });

  it('reads the status and the key names an expected output shows, not its values or alternatives', () => {
    expect(expectation('201 {"token":"kw_…","apiKey":{"id":"key_…",…},"warnings":[]}')).toEqual({ status: 201, keys: ['token', 'apiKey', 'id', 'warnings'] });
    expect(expectation('{"status":"ready","checks":{"redis":"ok"|"absent","database":"ok"}}')).toEqual({ status: null, keys: ['status', 'checks', 'redis', 'database'] });
    expect(expectation('{"keyId","from","buckets":[{"start","valid"}]}').keys).toEqual(['keyId', 'from', 'buckets', 'start', 'valid']);
  });

  it('keeps the fixed start of the lines that say what happened', () => {
    expect(
      statusLinePrefixes([
        '✓ Created personal key "Production automation" (key_olP4Go1qp2oFbuUL).',
        '    kw_olP4Go1qp2oFbuUL_6WggZaXt…wiXk',
        'Error: You are not logged in.',
        'Warning: This key was last used at 2026-12-06T17:48:06.560Z; requests…',
      ]),
    ).toEqual(['✓ Created personal key', 'Error: You are not logged in.', 'Warning: This key was last used at']);
  });

  it("matches a transcript's line holding ids against a real one, capturing the real ids", () => {
    const shape = linePattern('nightly-export         key_NYrHyjcMCBpAiW98  service   kw_…nps1  active  ADMIN org  2026-12-06  never')!;
    expect(shape.ids).toEqual(['key_NYrHyjcMCBpAiW98']);
    const real = shape.pattern.exec('nightly-export  key_JbmqwpTyacGu1yB8  service  kw_…2PE1  active  ADMIN org  2027-01-31  never');
    expect(real?.[1]).toBe('key_JbmqwpTyacGu1yB8');
    expect(shape.pattern.test('ci-deploy  key_JbmqwpTyacGu1yB8  service  kw_…2PE1  active  ADMIN org  2027-01-31  never')).toBe(false);
    expect(linePattern('no ids here')).toBeNull();
  });
});
