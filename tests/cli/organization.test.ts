import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBin } from '../support/process.js';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { CliUser } from './support.js';

describe('keyward members, teams, projects, bindings and audit, the built CLI against a started server', () => {
  let server: TestServer;
  let org: OrgFixture;
  let owner: CliUser;

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    owner = new CliUser(server.url);
    await owner.login(org.owner.email, org.owner.password);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('invites a member (the link shown once), changes their role, binds them to a project, and removes them', async () => {
    const email = `grace-${Date.now()}@example.test`;
    const invited = await owner.json(['members', 'invite', '--email', email, '--role', 'member']);
    expect(invited).toMatchObject({ member: { email, role: 'MEMBER', status: 'invited' }, invitation: { url: expect.stringContaining('/accept-invitation#token=') } });
    const userId = invited.member.userId as string;
    const accepted = await call(server, 'POST', '/api/invitations/accept', { body: { token: invited.invitation.token, password: 'grace-password-1' } });
    expect(accepted.status).toBe(200);

    const members = await owner.json<any[]>(['members', 'list']);
    expect(members.find((m) => m.userId === userId)).toMatchObject({ email, role: 'MEMBER', status: 'active' });
    const promoted = await owner.json(['members', 'set-role', userId, '--role', 'VIEWER']);
    expect(promoted).toMatchObject({ userId, role: 'VIEWER' });

    const team = await owner.json(['teams', 'create', '--name', 'Platform']);
    expect(team).toMatchObject({ id: expect.stringMatching(/^team_/), name: 'Platform' });
    const project = await owner.json(['projects', 'create', '--name', 'Billing', '--team', team.id]);
    expect(project).toMatchObject({ name: 'Billing', teamId: team.id, archivedAt: null });
    const binding = await owner.json(['bindings', 'add', '--user', userId, '--role', 'admin', '--project', project.id]);
    expect(binding).toMatchObject({ userId, role: 'ADMIN', scopeType: 'PROJECT', scopeId: project.id });
    expect((await owner.json<any[]>(['bindings', 'list', '--user', userId])).map((b) => b.id)).toEqual([binding.id]);
    expect(await owner.json(['bindings', 'remove', binding.id])).toEqual({ success: true });

    const refused = await owner.run(['members', 'remove', userId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`keyward members remove ${userId} --yes`);
    expect(await owner.json(['members', 'remove', userId, '--yes'])).toEqual({ success: true });
    const gone = await owner.run(['members', 'get', userId]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain('member_not_found');
  });

  it('renames teams, archives and restores projects, and lists them as tables', async () => {
    const team = await owner.json(['teams', 'create', '--name', 'Data']);
    expect((await owner.json(['teams', 'rename', team.id, '--name', 'Data Platform'])).name).toBe('Data Platform');
    const project = await owner.json(['projects', 'create', '--name', 'Warehouse']);
    expect((await owner.json(['projects', 'archive', project.id])).archivedAt).toEqual(expect.any(String));
    const active = await owner.run(['projects', 'list']);
    expect(active.stdout).not.toContain(project.id);
    const all = await owner.run(['projects', 'list', '--archived']);
    expect(all.stdout).toMatch(new RegExp(`^Warehouse\\s+${project.id}\\s+-\\s+archived`, 'm'));
    expect((await owner.json(['projects', 'restore', project.id])).archivedAt).toBeNull();
    const teams = await owner.run(['teams', 'list']);
    expect(teams.stdout.split('\n')[0]).toMatch(/^NAME\s+ID\s+CREATED$/);
    expect(teams.stdout).toMatch(new RegExp(`^Data Platform\\s+${team.id}`, 'm'));
  });

  it('shows the audit log of what the CLI did, newest first', async () => {
    const entries = await owner.json<any[]>(['audit', 'list', '--limit', '5']);
    expect(entries).toHaveLength(5);
    expect(entries[0].action).toMatch(/^project\./);
    const times = entries.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('prints bash and zsh completion that completes commands, flags and flag values', () => {
    const script = execFileSync(process.execPath, [cliBin, 'completion', 'bash'], { encoding: 'utf8' });
    const complete = (line: string) => {
      const words = line.split(' ');
      const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _keyward; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).trim().split('\n').sort();
    };
    expect(complete('keyward ap')).toEqual(['api-key', 'api-keys']);
    expect(complete('keyward api-key re')).toEqual(['revoke']);
    expect(complete('keyward api-key create --ty')).toEqual(['--type']);
    expect(complete('keyward api-key create --type ')).toEqual(['personal', 'project', 'service']);
    expect(complete('keyward api-key list --status re')).toEqual(['revoked']);
    expect(complete('keyward completion ')).toEqual(['bash', 'zsh']);
    expect(complete('keyward admin ')).toEqual(expect.arrayContaining(['create-org', 'create-verifier']));
    const zsh = execFileSync(process.execPath, [cliBin, 'completion', 'zsh'], { encoding: 'utf8' });
    expect(zsh).toContain('bashcompinit');
    expect(zsh).toContain('complete -F _keyward keyward');
  });
});
