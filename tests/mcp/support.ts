import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { cliBin } from '../support/process.js';

/** The built MCP server's command line: `node packages/cli/dist/bin.js mcp`, as an MCP client runs it. */
const entry = [cliBin, 'mcp'];

export interface McpSession {
  readonly client: Client;
  /** What the server wrote on standard error (never protocol messages). */
  stderr(): string;
  /** Calls a tool, keeping every answer for the secret-leak check. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Every tool answer of the file: its tool, the whole answer as JSON, and the key it made or rolled. */
export const answers: { tool: string; text: string; keyId: string | undefined }[] = [];

/** Spawns the built MCP server with the key in KEYWARD_API_KEY and connects the SDK's own client. */
export async function connectMcp(url: string, apiKey: string | undefined, args: string[] = []): Promise<McpSession> {
  const env: Record<string, string> = { ...getDefaultEnvironment() };
  if (apiKey !== undefined) env.KEYWARD_API_KEY = apiKey;
  const transport = new StdioClientTransport({ command: process.execPath, args: [...entry, '--url', url, ...args], env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'keyward-mcp-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    async call(name, args = {}) {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      const keyId = (result.structuredContent as { apiKey?: { id?: string } } | undefined)?.apiKey?.id;
      answers.push({ tool: name, text: JSON.stringify(result), keyId });
      return result;
    },
    close: () => client.close(),
  };
}

/** A successful tool answer's structured content, which the client has checked against the output schema. */
export function structured(result: CallToolResult): any {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  expect(result.structuredContent).toBeDefined();
  return result.structuredContent;
}

/** An `isError` answer carrying an API error: its sentence and its `{status, error, message}` body. */
export function refusal(result: CallToolResult): { sentence: string; status: number; error: string; message: string; reasons?: { path: string; message: string }[] } {
  expect(result.isError, JSON.stringify(result)).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  const [sentence, body] = result.content.map((c) => (c.type === 'text' ? c.text : ''));
  return { sentence: sentence ?? '', ...JSON.parse(body ?? 'null') };
}

/** Runs the built MCP server to completion with standard input closed at once. */
export function runMcpProcess(url: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...entry, '--url', url], { env: { ...getDefaultEnvironment(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}
