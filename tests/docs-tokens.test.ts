import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHECKSUM_LENGTH, LOOKUP_ID_LENGTH, SECRET_LENGTH, checksumOf } from '@keyward/core';

/**
 * Published text must not hold a working-looking key (issue 10): a token whose checksum is right
 * passes every secret scanner's and the server's first check, so a copied example looks live, and a
 * real key pasted into the docs by mistake would be published. Examples end in `XXXXXX` instead.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const published = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '--', 'README.md', 'docs', 'examples', 'packages/*/README*'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((path) => path && !/\.(png|jpe?g|gif|webp|ico)$/i.test(path));

// Any prefix the deployment may set (a letter, then letters, digits and "-", ending in "_" or "-"),
// for both forms: <prefix><lookupId>_<secret><checksum> and <prefix><secret><checksum>.
const tail = SECRET_LENGTH + CHECKSUM_LENGTH;
const shapes = [
  new RegExp(`^[A-Za-z][A-Za-z0-9-]{0,14}[_-][0-9A-Za-z]{${LOOKUP_ID_LENGTH}}_[0-9A-Za-z]{${tail}}$`),
  new RegExp(`^[A-Za-z][A-Za-z0-9-]{0,14}[_-][0-9A-Za-z]{${tail}}$`),
];

/** Every key-shaped string in `text` whose checksum is right: each run of token characters, from each start. */
function tokensWithValidChecksums(text: string): string[] {
  const found: string[] = [];
  for (const [run] of text.matchAll(/[0-9A-Za-z_-]{40,}/g)) {
    for (let end = run.length; end >= tail; end--) {
      for (let start = 0; start + tail < end; start++) {
        const candidate = run.slice(start, end);
        if (!shapes.some((shape) => shape.test(candidate))) continue;
        if (checksumOf(candidate.slice(0, -CHECKSUM_LENGTH)) === candidate.slice(-CHECKSUM_LENGTH)) found.push(candidate);
      }
    }
  }
  return found;
}

describe('published docs and examples', () => {
  it('scans the README, docs/, examples/ and package READMEs', () => {
    expect(published).toContain('README.md');
    expect(published).toContain('docs/mcp.md');
    expect(published.some((path) => path.startsWith('examples/'))).toBe(true);
  });

  it('finds a token with a valid checksum wherever it sits in the text, and not one ending in XXXXXX', () => {
    const body = 'kQcJBXZ73y1BxWiC_5E7vdX8jYtht4zOgo7JNOESFnvNjV3wYqcA8XpcXtMK';
    const real = `kw_${body}${checksumOf(`kw_${body}`)}`;
    const project = `acme-${body.slice(17)}${checksumOf(`acme-${body.slice(17)}`)}`;
    expect(tokensWithValidChecksums(`export KEY=${real}\n`)).toEqual([real]);
    expect(tokensWithValidChecksums(`{"token":"${project}"}`)).toEqual([project]);
    expect(tokensWithValidChecksums(`Bearer kw_${body}XXXXXX`)).toEqual([]);
  });

  it.each(published)('%s holds no token with a valid checksum (use an example ending in XXXXXX)', (path) => {
    const text = readFileSync(`${root}${path}`, 'utf8');
    expect(tokensWithValidChecksums(text)).toEqual([]);
  });
});
