import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The SDK's code in docs/sdk.md and docs/oauth.md is checked against the SDK's real exports and types
 * (issue 12): each ```js and ```ts block is type-checked as a module of its own, the way a reader's
 * file would be (without `strict`, as `// @ts-check` checks JavaScript by default), with the
 * workspace packages resolved to their sources. What a block takes from the code around it (a
 * `verifier`, the presented `key`) is declared once, below, with the SDK's types.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const pages = ['docs/sdk.md', 'docs/oauth.md'];

/** Names the fragments use without defining them, as a reader's code around them would define them. */
const surroundings = `
declare const verifier: import('@keyward/sdk').Verifier;
declare const key: string;
declare const bearer: string;
declare const bearerToken: string;
declare const token: string;
declare function listTraces(projectId: string, organizationId: string): Promise<unknown>;
`;

interface CodeBlock {
  readonly page: string;
  readonly line: number;
  readonly language: 'js' | 'ts';
  readonly code: string;
}

function codeBlocks(page: string): CodeBlock[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(js|ts|javascript|typescript)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !/^```\s*$/.test(lines[i]!)) body.push(lines[i]!);
    blocks.push({ page, line: start + 1, language: open[1]!.startsWith('t') ? 'ts' : 'js', code: `${body.join('\n')}\nexport {};\n` });
  }
  return blocks;
}

const blocks = pages.flatMap(codeBlocks);
const dir = join(root, '.test-tmp', 'docs-code');
const fileOf = (block: CodeBlock) => join(dir, `${block.page.replace(/\W/g, '-')}-${block.line}.${block.language === 'ts' ? 'mts' : 'mjs'}`);

/**
 * Fastify types a route's `request.params` as unknown unless the route declares them with a type
 * argument, which JavaScript cannot give; at run time they are the path's parameters. So in a js
 * block, and only there, reading a property of `params` is not held against it.
 */
function unknownParams(d: ts.Diagnostic): boolean {
  const text = d.file && d.start !== undefined ? d.file.text.slice(Math.max(0, d.start - 20), d.start + (d.length ?? 0)) : '';
  return d.code === 2339 && /\.params\.\w+$/.test(text) && /on type 'unknown'/.test(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

function diagnose(): Map<string, string[]> {
  const virtual = new Map<string, string>([[join(dir, 'surroundings.d.ts'), surroundings]]);
  for (const block of blocks) virtual.set(fileOf(block), block.code);
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    customConditions: ['@keyward/source'],
    allowJs: true,
    checkJs: true,
    strict: false,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, ...rest) => {
    const text = virtual.get(name);
    return text !== undefined ? ts.createSourceFile(name, text, language) : getSourceFile.call(host, name, language, ...rest);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const found = new Map<string, string[]>();
  for (const block of blocks) {
    const file = program.getSourceFile(fileOf(block))!;
    const messages = ts
      .getPreEmitDiagnostics(program, file)
      .filter((d) => !(block.language === 'js' && unknownParams(d)))
      .map((d) => {
      const { line } = d.start !== undefined ? file.getLineAndCharacterOfPosition(d.start) : { line: -1 };
        return `${block.page}:${block.line + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    found.set(fileOf(block), messages);
  }
  return found;
}

describe('the SDK code in the docs compiles against the SDK', () => {
  const diagnostics = diagnose();

  it('finds the code blocks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    expect(blocks.some((block) => block.code.includes("from '@keyward/sdk/fastify'"))).toBe(true);
  });

  it.each(blocks.map((block) => [`${block.page}:${block.line}`, block] as const))('%s', (_, block) => {
    expect(diagnostics.get(fileOf(block))).toEqual([]);
  });
});
