import type { Command } from 'commander';
import type { LoginResponse, WhoamiResponse } from '@keyward/wire';
import { ApiClient } from '../api-client.js';
import { ApiFailure } from '../api-failure.js';
import { usageError } from '../cli-error.js';
import { connect, resolveUrl, type CommonOptions } from '../context.js';
import { Output } from '../output/output.js';
import { askHidden, askLine, isInteractive, readStdinLine } from '../prompt.js';
import { readSession, removeSession, sessionPath, writeSession } from '../session-store.js';
import { terminalWidth, withCommon, withExamples } from './common.js';

interface LoginOptions extends CommonOptions {
  readonly email?: string;
  readonly passwordStdin?: boolean;
}

export function registerAuthCommands(program: Command): void {
  const auth = withExamples(program.command('auth').description('log in as yourself, log out, and see who you are'), [
    'keyward auth login --url https://keyward.example.com',
    'keyward auth whoami',
  ]);

  withExamples(
    withCommon(
      auth
        .command('login')
        .description('log in with your email and password; the session is kept in your config folder (mode 0600)')
        .option('--email <email>', 'your email (asked when not given)')
        .option('--password-stdin', 'read the password from the first line of standard input'),
      { org: false },
    ),
    ['keyward auth login --url https://keyward.example.com --email ada@example.com', 'printf "%s\\n" "$PASSWORD" | keyward auth login --email ada@example.com --password-stdin'],
  ).action((options: LoginOptions) => login(options));

  withExamples(withCommon(auth.command('logout').description('end the session on the server and forget it here'), { org: false }), ['keyward auth logout']).action(
    (options: CommonOptions) => logout(options),
  );

  withExamples(withCommon(auth.command('whoami').description('who you are, in which organization, with which role and permissions')), [
    'keyward auth whoami',
    'keyward auth whoami --org Acme --json',
  ]).action((options: CommonOptions) => whoami(options));
}

async function login(options: LoginOptions): Promise<void> {
  const output = new Output(options.json === true);
  const previous = readSession();
  const url = resolveUrl(options, previous);
  let email = options.email;
  if (!email) {
    if (options.passwordStdin || !isInteractive()) throw usageError('Give your email with --email.', 'keyward auth login --email you@example.com');
    email = await askLine('Email: ');
  }
  let password: string;
  if (options.passwordStdin) {
    password = await readStdinLine();
    if (!password) throw usageError('--password-stdin read an empty password from standard input.');
  } else {
    if (!isInteractive()) throw usageError('Standard input is not a terminal, so the password cannot be asked.', 'Pipe it in with --password-stdin.');
    password = await askHidden(`Password for ${email}: `);
  }
  const client = new ApiClient({ baseUrl: url, token: null, credentialSource: 'none' });
  const answer = await client.post<LoginResponse>('/api/auth/login', { email, password });
  if (previous && previous.url === url) await endSession(previous.url, previous.sessionToken).catch(() => undefined);
  const kept = previous?.url === url && answer.organizations.some((o) => o.id === previous.organizationId) ? previous.organizationId : null;
  const organizationId = kept ?? answer.organizations[0]?.id ?? null;
  writeSession({ url, sessionToken: answer.sessionToken, expiresAt: answer.expiresAt, user: answer.user, organizations: answer.organizations, organizationId });
  if (output.json) {
    output.document({ url, user: answer.user, organizations: answer.organizations, organizationId, expiresAt: answer.expiresAt });
    return;
  }
  const { style } = output;
  const current = answer.organizations.find((o) => o.id === organizationId);
  output.line(`${style.green('✓')} Logged in to ${url} as ${style.bold(answer.user.email)}.`);
  if (current) output.line(`  Organization: ${current.name} (${current.id}), role ${current.role}`);
  else output.line('  You are not a member of any organization yet.');
  if (answer.organizations.length > 1) output.line(`  You belong to ${answer.organizations.length} organizations: see them with keyward orgs list, pick one with keyward orgs switch NAME.`);
  output.line(style.dim(`  Session kept in ${sessionPath()} until ${answer.expiresAt}.`));
}

/** Ends a session on its server; a session already gone there is fine. */
async function endSession(url: string, token: string): Promise<void> {
  try {
    await new ApiClient({ baseUrl: url, token, credentialSource: 'session', timeoutMs: 5000 }).post('/api/auth/logout');
  } catch (err) {
    if (!(err instanceof ApiFailure && err.status === 401)) throw err;
  }
}

async function logout(options: CommonOptions): Promise<void> {
  const output = new Output(options.json === true);
  const session = readSession();
  if (!session) {
    if (output.json) output.document({ success: true, wasLoggedIn: false });
    else output.line('You were not logged in.');
    return;
  }
  let serverEnded = true;
  try {
    await endSession(session.url, session.sessionToken);
  } catch {
    serverEnded = false;
  }
  removeSession();
  if (output.json) {
    output.document({ success: true, wasLoggedIn: true, serverEnded });
    return;
  }
  output.line(`Logged out of ${session.url}.`);
  if (!serverEnded) output.warn(`Could not reach ${session.url} to end the session there; it was forgotten here and expires on ${session.expiresAt}.`);
}

async function whoami(options: CommonOptions): Promise<void> {
  const { client, output, session } = await connect(options);
  const answer = await client.get<WhoamiResponse>('/api/auth/whoami');
  if (output.json) {
    output.document(answer);
    return;
  }
  const { style } = output;
  const org = answer.organizations?.find((o) => o.id === answer.organizationId);
  if (answer.principal.type === 'user') {
    output.line(`${style.bold(answer.user?.email ?? answer.principal.id)} (${answer.principal.id})`);
    output.line(`Server:        ${client.baseUrl}`);
    output.line(`Organization:  ${org ? `${org.name} (${org.id})` : answer.organizationId}`);
    output.line(`Role:          ${answer.role ?? '-'}`);
  } else {
    output.line(`${style.bold(answer.principal.type === 'api_key' ? 'API key' : 'Access token')} ${answer.principal.id} (${answer.keyType ?? 'key'})`);
    output.line(`Server:        ${client.baseUrl}`);
    output.line(`Organization:  ${answer.organizationId}`);
  }
  output.line(`Permissions:   ${answer.permissions.length ? wrapList(answer.permissions, 15, terminalWidth()) : 'none'}`);
  if (session && answer.organizations && answer.organizations.length > 1) {
    output.line(style.dim(`You belong to ${answer.organizations.length} organizations; switch with keyward orgs switch NAME.`));
  }
}

/** Items joined by commas, wrapped to the width, continuation lines indented to `indent`. */
function wrapList(items: readonly string[], indent: number, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const [i, item] of items.entries()) {
    const word = i < items.length - 1 ? `${item},` : item;
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}
