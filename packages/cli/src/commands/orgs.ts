import type { Command } from 'commander';
import type { OrganizationSummary, WhoamiResponse } from '@keyward/wire';
import { CliError, usageError } from '../cli-error.js';
import { connect, resolveOrganization, type CommonOptions } from '../context.js';
import { exitCodes } from '../exit-codes.js';
import { renderTable } from '../output/table.js';
import { writeSession } from '../session-store.js';
import { terminalWidth, withCommon, withExamples } from './common.js';
import { registerPolicyCommands } from './policy.js';

export function registerOrgCommands(program: Command): void {
  const orgs = withExamples(program.command('orgs').alias('org').description('the organizations you belong to, and which one commands act on'), [
    'keyward orgs list',
    'keyward orgs switch Acme',
    'keyward org policy get',
  ]);

  withExamples(withCommon(orgs.command('list').description('list your organizations; the current one is marked with *'), { org: false }), [
    'keyward orgs list',
    'keyward orgs list --json',
  ]).action((options: CommonOptions) => list(options));

  withExamples(
    withCommon(orgs.command('switch').description('make an organization the current one for later commands').argument('<id|name>', 'organization id or name'), { org: false }),
    ['keyward orgs switch Acme', 'keyward orgs switch org_2fJ8c1Qx'],
  ).action((idOrName: string, options: CommonOptions) => switchTo(idOrName, options));

  withExamples(withCommon(orgs.command('bootstrap').description("provision the organization's signing keys (owners and admins; once, before the first API key)")), [
    'keyward orgs bootstrap --org Acme',
  ]).action(async (options: CommonOptions) => {
    const { client, output } = await connect(options);
    const answer = await client.post<{ bootstrapped: true; bootstrappedAt: string }>('/api/organization/bootstrap');
    if (output.json) output.document(answer);
    else output.line(`Organization bootstrapped at ${answer.bootstrappedAt}: API keys can now be created.`);
  });

  registerPolicyCommands(orgs);
}

/** The person's organizations, fresh from the server, and the stored session refreshed with them. */
async function organizationsOf(options: CommonOptions) {
  const context = await connect({ ...options, org: undefined });
  if (context.credentialSource !== 'session' || !context.session) {
    throw usageError('Organizations belong to a person\'s login; KEYWARD_TOKEN holds a key of one organization.', 'Unset KEYWARD_TOKEN and run keyward auth login.');
  }
  const whoami = await context.client.get<WhoamiResponse>('/api/auth/whoami');
  const organizations = whoami.organizations ?? [];
  const organizationId = organizations.some((o) => o.id === context.session!.organizationId) ? context.session.organizationId : (organizations[0]?.id ?? null);
  const session = { ...context.session, organizations, organizationId };
  writeSession(session);
  return { ...context, session, organizations };
}

async function list(options: CommonOptions): Promise<void> {
  const { output, session, organizations } = await organizationsOf(options);
  const rows = organizations.map((o) => ({ ...o, current: o.id === session.organizationId }));
  if (output.json) {
    output.document(rows);
    return;
  }
  if (rows.length === 0) {
    output.line('You are not a member of any organization.');
    return;
  }
  const columns = [
    { header: '', value: (o: (typeof rows)[number]) => (o.current ? '*' : ''), priority: 9 },
    { header: 'NAME', value: (o: OrganizationSummary) => o.name, priority: 10, flexible: true },
    { header: 'ID', value: (o: OrganizationSummary) => o.id, priority: 9 },
    { header: 'ROLE', value: (o: OrganizationSummary) => o.role, priority: 8 },
    { header: 'BOOTSTRAPPED', value: (o: OrganizationSummary) => (o.bootstrapped ? 'yes' : 'no'), priority: 1 },
  ];
  output.line(renderTable(rows, columns, terminalWidth(), output.style.bold));
}

async function switchTo(idOrName: string, options: CommonOptions): Promise<void> {
  const { client, output, session, organizations } = await organizationsOf(options);
  const id = await resolveOrganization(client, idOrName, organizations);
  const chosen = organizations.find((o) => o.id === id);
  if (!chosen) throw new CliError(`You are not a member of ${idOrName}.`, exitCodes.notFound, 'See yours: keyward orgs list');
  writeSession({ ...session, organizationId: chosen.id });
  if (output.json) output.document({ ...chosen, current: true });
  else output.line(`Now acting on ${output.style.bold(chosen.name)} (${chosen.id}) as ${chosen.role}.`);
}
