import type { OrganizationSummary, WhoamiResponse } from '@keyward/wire';
import { ApiClient } from './api-client.js';
import type { CredentialSource } from './api-failure.js';
import { CliError, usageError } from './cli-error.js';
import { exitCodes } from './exit-codes.js';
import { Output } from './output/output.js';
import { readSession, type StoredSession } from './session-store.js';

/** The options every person command takes. */
export interface CommonOptions {
  readonly json?: boolean;
  readonly org?: string;
  readonly url?: string;
  readonly quiet?: boolean;
}

/** Where `keyward serve` listens unless told otherwise (KEYWARD_PORT's default). */
export const defaultUrl = 'http://127.0.0.1:4000';

export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`"${url}" is not a URL.`, 'Give the server\'s address, e.g. --url https://keyward.example.com');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`"${url}" is not an http or https URL.`);
  return parsed.toString().replace(/\/+$/, '');
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value ? value : undefined;
}

/** The server a command talks to: --url, KEYWARD_URL, the stored session's, or the default. */
export function resolveUrl(options: CommonOptions, session: StoredSession | null): string {
  return normalizeUrl(options.url ?? env('KEYWARD_URL') ?? session?.url ?? defaultUrl);
}

export interface Context {
  readonly client: ApiClient;
  readonly output: Output;
  readonly session: StoredSession | null;
  readonly credentialSource: CredentialSource;
  readonly organizationId: string | null;
}

/**
 * The client a command uses: KEYWARD_TOKEN when set (scripts), else the stored session, which is
 * only ever sent to the server it was issued by. --org picks the organization by id or name.
 */
export async function connect(options: CommonOptions): Promise<Context> {
  const output = new Output(options.json === true, options.quiet === true);
  const session = readSession();
  const url = resolveUrl(options, session);
  const envToken = env('KEYWARD_TOKEN');
  let token: string;
  let credentialSource: CredentialSource;
  if (envToken) {
    token = envToken;
    credentialSource = 'KEYWARD_TOKEN';
  } else {
    if (!session) {
      throw new CliError('You are not logged in.', exitCodes.notAuthenticated, `Run: keyward auth login --url ${url}  (scripts: set KEYWARD_TOKEN to an API key)`);
    }
    if (session.url !== url) {
      throw new CliError(`Your session is for ${session.url}, not ${url}.`, exitCodes.notAuthenticated, `Run: keyward auth login --url ${url}`);
    }
    token = session.sessionToken;
    credentialSource = 'session';
  }
  const bare = new ApiClient({ baseUrl: url, token, credentialSource });
  let organizationId = credentialSource === 'session' ? (session?.organizationId ?? null) : null;
  if (options.org) organizationId = await resolveOrganization(bare, options.org, credentialSource === 'session' ? session!.organizations : []);
  const client = organizationId ? new ApiClient({ baseUrl: url, token, credentialSource, headers: { 'x-organization-id': organizationId } }) : bare;
  return { client, output, session, credentialSource, organizationId };
}

/** An organization of the person by id or by name (case-insensitive), checked against the server. */
export async function resolveOrganization(client: ApiClient, idOrName: string, known: readonly OrganizationSummary[]): Promise<string> {
  if (/^org_[0-9A-Za-z]+$/.test(idOrName)) return idOrName;
  const find = (orgs: readonly OrganizationSummary[]) => orgs.filter((o) => o.name.toLowerCase() === idOrName.toLowerCase());
  let matches = find(known);
  if (matches.length === 0) {
    const whoami = await client.get<WhoamiResponse>('/api/auth/whoami');
    matches = find(whoami.organizations ?? []);
  }
  if (matches.length > 1) throw usageError(`Several of your organizations are named "${idOrName}".`, 'Give its id instead (keyward orgs list).');
  if (!matches[0]) throw new CliError(`You are not a member of an organization named "${idOrName}".`, exitCodes.notFound, 'See yours: keyward orgs list');
  return matches[0].id;
}
