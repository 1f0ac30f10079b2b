import { createInterface } from 'node:readline';
import { CliError, usageError } from './cli-error.js';
import { exitCodes } from './exit-codes.js';

/** Prompts talk on standard error, so that standard output stays a clean document or secret. */
const promptStream = process.stderr;

export function isInteractive(): boolean {
  return process.stdin.isTTY === true;
}

function interrupted(): CliError {
  return new CliError('Cancelled.', exitCodes.interrupted);
}

/** One line typed by the person, echoed as they type. */
export async function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: promptStream, terminal: true });
  let onClose = () => {};
  try {
    return await new Promise<string>((resolve, reject) => {
      onClose = () => reject(interrupted());
      rl.on('SIGINT', onClose);
      rl.on('close', onClose);
      rl.question(question, (answer) => resolve(answer.trim()));
    });
  } finally {
    // Only our listener: readline's own 'close' listener detaches it from the terminal, and
    // without it the keypress handler would keep echoing what is typed next (a password).
    rl.off('close', onClose);
    rl.close();
  }
}

/** A yes/no question; anything but y or yes is no. */
export async function confirm(question: string): Promise<boolean> {
  const answer = await askLine(`${question} [y/N] `);
  return /^(y|yes)$/i.test(answer);
}

// Terminal escape sequences (arrow keys, bracketed paste markers): never part of a password.
// eslint-disable-next-line no-control-regex -- matching the ESC character is the point
const escapeSequence = /\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)?/g;

/**
 * A secret typed on the terminal with nothing echoed: the terminal is put in raw mode and the
 * characters are collected here, so neither the password nor its length appears on screen.
 */
export async function askHidden(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) throw usageError('Standard input is not a terminal, so the password cannot be asked.', 'Pipe it in with --password-stdin.');
  // Raw mode before the prompt shows, so keys typed the moment it appears are never echoed.
  input.setRawMode(true);
  promptStream.write(question);
  input.setEncoding('utf8');
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const finish = (error: CliError | null) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      promptStream.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk.replace(escapeSequence, '')) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(interrupted());
        if (ch === '\u0004') {
          if (!value) return finish(interrupted());
          continue;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** The first line of standard input, without its line ending (`--password-stdin`). */
export async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}
