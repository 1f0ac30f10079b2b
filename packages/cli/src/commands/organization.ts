import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AuditEntry, InviteMemberResponse, Member, Project, RoleBinding, Team } from '@keyward/wire';
import { CliError, usageError } from '../cli-error.js';
import { connect, type CommonOptions } from '../context.js';
import { day, minute } from '../durations.js';
import type { Output } from '../output/output.js';
import { renderTable, type Column } from '../output/table.js';
import { confirm, isInteractive } from '../prompt.js';
import { collect, terminalWidth, withCommon, withExamples } from './common.js';

const roles = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'];

/** A role in any case, checked against the choices (commander's own check is case-sensitive). */
const roleIn = (choices: readonly string[]) => (value: string) => {
  const role = value.toUpperCase();
  if (!choices.includes(role)) throw new InvalidArgumentError(`Allowed choices are ${choices.join(', ')}.`);
  return role;
};

function table<T>(output: Output, rows: readonly T[], columns: Column<T>[], empty: string): void {
  if (output.json) return output.document(rows);
  if (rows.length === 0) return output.line(empty);
  output.line(renderTable(rows, columns, terminalWidth(), output.style.bold));
}

function fields(output: Output, value: object, label: string): void {
  const width = Math.max(...Object.keys(value).map((k) => k.length)) + 2;
  output.line(output.style.bold(label));
  for (const [name, field] of Object.entries(value)) output.line(`  ${output.style.dim(name.padEnd(width))}${field === null ? '-' : Array.isArray(field) ? field.join(', ') : String(field)}`);
}

/** Answers "yes" or refuses: without a terminal the person must say --yes. */
async function confirmOrRefuse(question: string, yes: boolean | undefined, retry: string): Promise<void> {
  if (yes) return;
  if (!isInteractive()) throw usageError(`${question} Standard input is not a terminal, so it cannot be confirmed here.`, `Add --yes: ${retry}`);
  if (!(await confirm(question))) throw new CliError('Nothing was changed.', 1);
}

export function registerMemberCommands(program: Command): void {
  const members = withExamples(program.command('members').description("the organization's members and invitations (owners and admins)"), ['keyward members list', 'keyward members invite --email grace@example.com --role ADMIN']);
  const memberColumns: Column<Member>[] = [
    { header: 'EMAIL', value: (m) => m.email, priority: 10, flexible: true },
    { header: 'NAME', value: (m) => m.name ?? '', priority: 3, flexible: true },
    { header: 'USER ID', value: (m) => m.userId, priority: 9 },
    { header: 'ROLE', value: (m) => m.role, priority: 8 },
    { header: 'STATUS', value: (m) => m.status, priority: 7 },
    { header: 'SINCE', value: (m) => day(m.createdAt), priority: 2 },
  ];

  withExamples(withCommon(members.command('list').alias('ls').description('members and pending invitations')), ['keyward members list']).action(async (options: CommonOptions) => {
    const { client, output } = await connect(options);
    table(output, await client.all<Member>('/api/members'), memberColumns, 'No members.');
  });

  withExamples(withCommon(members.command('get').description('one member').argument('<userId>', 'the user id (usr_...)')), ['keyward members get usr_4Tq']).action(
    async (userId: string, options: CommonOptions) => {
      const { client, output } = await connect(options);
      const { member } = await client.get<{ member: Member }>(`/api/members/${encodeURIComponent(userId)}`);
      if (output.json) output.document(member);
      else fields(output, member, member.email);
    },
  );

  withExamples(
    withCommon(
      members
        .command('invite')
        .alias('add')
        .description('invite a person by email; prints the invitation link once')
        .requiredOption('--email <email>', 'their email')
        .addOption(new Option('--role <role>', 'their role').choices(roles).argParser(roleIn(roles)).default('MEMBER'))
        .option('--name <name>', 'their name'),
    ),
    ['keyward members invite --email grace@example.com --role ADMIN'],
  ).action(async (options: CommonOptions & { email: string; role: string; name?: string }) => {
    const { client, output } = await connect(options);
    const answer = await client.post<InviteMemberResponse>('/api/members', { email: options.email, role: options.role, ...(options.name ? { name: options.name } : {}) });
    if (output.json) return output.document(answer);
    output.line(`${output.style.green('✓')} Invited ${answer.member.email} (${answer.member.userId}) as ${answer.member.role}.`);
    output.line(`  Send them this link (shown once, valid until ${minute(answer.invitation.expiresAt)}):`);
    output.line(`  ${answer.invitation.url}`);
  });

  withExamples(
    withCommon(
      members
        .command('set-role')
        .description("change a member's role")
        .argument('<userId>', 'the user id')
        .addOption(new Option('--role <role>', 'the new role').choices(roles).argParser(roleIn(roles)).makeOptionMandatory()),
    ),
    ['keyward members set-role usr_4Tq --role VIEWER'],
  ).action(async (userId: string, options: CommonOptions & { role: string }) => {
    const { client, output } = await connect(options);
    const { member } = await client.patch<{ member: Member }>(`/api/members/${encodeURIComponent(userId)}`, { role: options.role });
    if (output.json) output.document(member);
    else output.line(`${output.style.green('✓')} ${member.email} is now ${member.role}.`);
  });

  withExamples(
    withCommon(members.command('remove').description('remove a member; their personal keys are disabled').argument('<userId>', 'the user id').option('-y, --yes', 'do not ask')),
    ['keyward members remove usr_4Tq --yes'],
  ).action(async (userId: string, options: CommonOptions & { yes?: boolean }) => {
    const { client, output } = await connect(options);
    const path = `/api/members/${encodeURIComponent(userId)}`;
    const { member } = await client.get<{ member: Member }>(path);
    await confirmOrRefuse(`Remove ${member.email} (${member.role}) and disable their personal keys?`, options.yes, `keyward members remove ${userId} --yes`);
    const answer = await client.delete<{ success: true }>(path);
    if (output.json) output.document(answer);
    else output.line(`${output.style.green('✓')} Removed ${member.email}; their personal keys no longer work.`);
  });
}

export function registerTeamCommands(program: Command): void {
  const teams = withExamples(program.command('teams').description('teams group projects (owners and admins)'), ['keyward teams list', 'keyward teams create --name Platform']);
  const columns: Column<Team>[] = [
    { header: 'NAME', value: (t) => t.name, priority: 10, flexible: true },
    { header: 'ID', value: (t) => t.id, priority: 9 },
    { header: 'CREATED', value: (t) => day(t.createdAt), priority: 2 },
  ];
  withExamples(withCommon(teams.command('list').alias('ls').description('list teams')), ['keyward teams list']).action(async (options: CommonOptions) => {
    const { client, output } = await connect(options);
    table(output, await client.all<Team>('/api/teams'), columns, 'No teams. Create one: keyward teams create --name NAME');
  });
  withExamples(withCommon(teams.command('get').description('one team').argument('<id>', 'the team id (team_...)')), ['keyward teams get team_7Yw']).action(
    async (id: string, options: CommonOptions) => {
      const { client, output } = await connect(options);
      const { team } = await client.get<{ team: Team }>(`/api/teams/${encodeURIComponent(id)}`);
      if (output.json) output.document(team);
      else fields(output, team, team.name);
    },
  );
  withExamples(withCommon(teams.command('create').description('create a team').requiredOption('--name <name>', 'its name')), ['keyward teams create --name Platform']).action(
    async (options: CommonOptions & { name: string }) => {
      const { client, output } = await connect(options);
      const { team } = await client.post<{ team: Team }>('/api/teams', { name: options.name });
      if (output.json) output.document(team);
      else output.line(`${output.style.green('✓')} Created team ${team.name} (${team.id}).`);
    },
  );
  withExamples(withCommon(teams.command('rename').description('rename a team').argument('<id>', 'the team id').requiredOption('--name <name>', 'the new name')), [
    'keyward teams rename team_7Yw --name Infrastructure',
  ]).action(async (id: string, options: CommonOptions & { name: string }) => {
    const { client, output } = await connect(options);
    const { team } = await client.patch<{ team: Team }>(`/api/teams/${encodeURIComponent(id)}`, { name: options.name });
    if (output.json) output.document(team);
    else output.line(`${output.style.green('✓')} Renamed to ${team.name} (${team.id}).`);
  });
}

export function registerProjectCommands(program: Command): void {
  const projects = withExamples(program.command('projects').description('projects, the unit keys are scoped to (owners and admins)'), ['keyward projects list', 'keyward projects create --name Billing']);
  const columns: Column<Project>[] = [
    { header: 'NAME', value: (p) => p.name, priority: 10, flexible: true },
    { header: 'ID', value: (p) => p.id, priority: 9 },
    { header: 'TEAM', value: (p) => p.teamId ?? '-', priority: 5 },
    { header: 'STATUS', value: (p) => (p.archivedAt ? 'archived' : 'active'), priority: 6 },
    { header: 'CREATED', value: (p) => day(p.createdAt), priority: 2 },
  ];
  withExamples(
    withCommon(projects.command('list').alias('ls').description('list projects').option('--archived', 'include archived projects').option('--team <teamId>', "only this team's projects")),
    ['keyward projects list', 'keyward projects list --archived --json'],
  ).action(async (options: CommonOptions & { archived?: boolean; team?: string }) => {
    const { client, output } = await connect(options);
    const rows = await client.all<Project>('/api/projects', { includeArchived: options.archived ? 'true' : undefined, teamId: options.team });
    table(output, rows, columns, 'No projects. Create one: keyward projects create --name NAME');
  });
  withExamples(withCommon(projects.command('get').description('one project').argument('<id>', 'the project id (proj_...)')), ['keyward projects get proj_8Hq2']).action(
    async (id: string, options: CommonOptions) => {
      const { client, output } = await connect(options);
      const { project } = await client.get<{ project: Project }>(`/api/projects/${encodeURIComponent(id)}`);
      if (output.json) output.document(project);
      else fields(output, project, project.name);
    },
  );
  withExamples(withCommon(projects.command('create').description('create a project').requiredOption('--name <name>', 'its name').option('--team <teamId>', 'the team it belongs to')), [
    'keyward projects create --name Billing --team team_7Yw',
  ]).action(async (options: CommonOptions & { name: string; team?: string }) => {
    const { client, output } = await connect(options);
    const { project } = await client.post<{ project: Project }>('/api/projects', { name: options.name, ...(options.team ? { teamId: options.team } : {}) });
    if (output.json) output.document(project);
    else output.line(`${output.style.green('✓')} Created project ${project.name} (${project.id}).`);
  });
  type ChangeOptions = CommonOptions & { name?: string; team?: string | false };
  const change = (name: string, description: string, example: string, body: (options: ChangeOptions) => object, setup: (c: Command) => Command = (c) => c) =>
    withExamples(withCommon(setup(projects.command(name).description(description).argument('<id>', 'the project id'))), [example]).action(
      async (id: string, options: ChangeOptions) => {
        const { client, output } = await connect(options);
        const { project } = await client.patch<{ project: Project }>(`/api/projects/${encodeURIComponent(id)}`, body(options));
        if (output.json) output.document(project);
        else output.line(`${output.style.green('✓')} ${project.name} (${project.id}): ${project.archivedAt ? 'archived' : 'active'}, team ${project.teamId ?? 'none'}.`);
      },
    );
  change('rename', 'rename a project', 'keyward projects rename proj_8Hq2 --name Payments', (o) => ({ name: o.name }), (c) => c.requiredOption('--name <name>', 'the new name'));
  change('move', 'move a project to a team, or out of any team', 'keyward projects move proj_8Hq2 --team team_7Yw', (o) => {
    if (o.team === undefined) throw usageError('Give --team TEAM_ID, or --no-team.');
    return { teamId: o.team === false ? null : o.team };
  }, (c) => c.option('--team <teamId>', 'the team').option('--no-team', 'out of any team'));
  change('archive', 'archive a project (its project keys stop working)', 'keyward projects archive proj_8Hq2', () => ({ archived: true }));
  change('restore', 'restore an archived project', 'keyward projects restore proj_8Hq2', () => ({ archived: false }));
}

export function registerBindingCommands(program: Command): void {
  const bindings = withExamples(program.command('bindings').description("members' roles on teams and projects, beyond their organization role (owners and admins)"), ['keyward bindings list', 'keyward bindings add --user usr_4Tq --role ADMIN --project proj_8Hq2']);
  const columns: Column<RoleBinding>[] = [
    { header: 'ID', value: (b) => b.id, priority: 9 },
    { header: 'USER', value: (b) => b.userId, priority: 10 },
    { header: 'ROLE', value: (b) => b.role, priority: 8 },
    { header: 'ON', value: (b) => `${b.scopeType} ${b.scopeId}`, priority: 7, flexible: true },
    { header: 'PERMISSIONS', value: (b) => (b.permissions ?? []).join(' '), priority: 3, flexible: true },
  ];
  withExamples(withCommon(bindings.command('list').alias('ls').description('list role bindings').option('--user <userId>', "only this member's")), ['keyward bindings list --user usr_4Tq']).action(
    async (options: CommonOptions & { user?: string }) => {
      const { client, output } = await connect(options);
      table(output, await client.all<RoleBinding>('/api/role-bindings', { userId: options.user }), columns, 'No role bindings.');
    },
  );
  withExamples(
    withCommon(
      bindings
        .command('add')
        .description('give a member a role on a team or project')
        .requiredOption('--user <userId>', 'the member')
        .addOption(new Option('--role <role>', 'the role').choices(['ADMIN', 'MEMBER', 'VIEWER', 'CUSTOM']).argParser(roleIn(['ADMIN', 'MEMBER', 'VIEWER', 'CUSTOM'])).makeOptionMandatory())
        .option('--team <teamId>', 'on this team')
        .option('--project <projectId>', 'on this project')
        .option('--permission <category:action>', 'CUSTOM roles: the permissions (repeatable)', collect),
    ),
    ['keyward bindings add --user usr_4Tq --role ADMIN --project proj_8Hq2'],
  ).action(async (options: CommonOptions & { user: string; role: string; team?: string; project?: string; permission?: string[] }) => {
    if (Boolean(options.team) === Boolean(options.project)) throw usageError('Give exactly one of --team and --project.');
    const { client, output } = await connect(options);
    const body = {
      userId: options.user,
      role: options.role,
      scopeType: options.team ? 'TEAM' : 'PROJECT',
      scopeId: options.team ?? options.project,
      ...(options.permission?.length ? { permissions: options.permission } : {}),
    };
    const { roleBinding } = await client.post<{ roleBinding: RoleBinding }>('/api/role-bindings', body);
    if (output.json) output.document(roleBinding);
    else output.line(`${output.style.green('✓')} ${roleBinding.userId} is ${roleBinding.role} on ${roleBinding.scopeType} ${roleBinding.scopeId} (${roleBinding.id}).`);
  });
  withExamples(withCommon(bindings.command('remove').description('remove a role binding').argument('<id>', 'the binding id (rb_...)')), ['keyward bindings remove rb_3Nc']).action(
    async (id: string, options: CommonOptions) => {
      const { client, output } = await connect(options);
      const answer = await client.delete<{ success: true }>(`/api/role-bindings/${encodeURIComponent(id)}`);
      if (output.json) output.document(answer);
      else output.line(`${output.style.green('✓')} Removed ${id}.`);
    },
  );
}

export function registerAuditCommands(program: Command): void {
  const audit = withExamples(program.command('audit').description('the audit log (owners and admins)'), ['keyward audit list --limit 20']);
  const columns: Column<AuditEntry>[] = [
    { header: 'AT', value: (e) => minute(e.at), priority: 10 },
    { header: 'ACTOR', value: (e) => `${e.actor.type} ${e.actor.id}`, priority: 8, flexible: true },
    { header: 'ACTION', value: (e) => e.action, priority: 9 },
    { header: 'TARGET', value: (e) => e.targetId ?? e.targetType, priority: 7, flexible: true },
    { header: 'OUTCOME', value: (e) => e.outcome, priority: 6 },
    { header: 'IP', value: (e) => e.ip ?? '-', priority: 2 },
  ];
  withExamples(
    withCommon(
      audit
        .command('list')
        .alias('ls')
        .description('recent audit entries, newest first')
        .option('--limit <n>', 'how many entries', (v) => Number(v), 50)
        .option('--action <action>', 'only this action, e.g. key.revoked')
        .option('--actor <id>', 'only this actor (user or key id)')
        .option('--target <id>', 'only entries about this id'),
    ),
    ['keyward audit list --target key_2kP9xQ', 'keyward audit list --action key.revoked --limit 20 --json'],
  ).action(async (options: CommonOptions & { limit: number; action?: string; actor?: string; target?: string }) => {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw usageError('--limit takes a whole number of entries, 1 or more.');
    const { client, output } = await connect(options);
    const rows = await client.first<AuditEntry>('/api/audit-log', options.limit, { action: options.action, actorId: options.actor, targetId: options.target });
    table(output, rows, columns, 'No audit entries.');
  });
}
