import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { CliUser, Terminal } from './support.js';

describe('keyward prompts in a real pseudo-terminal (tmux)', () => {
  let server: TestServer;
  let org: OrgFixture;
  let terminal: Terminal | undefined;

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
  });
  afterEach(() => terminal?.close());
  afterAll(async () => {
    await server?.close();
  });

  it('asks the email with echo and the password without echo, then logs in', async () => {
    const person = new CliUser(server.url);
    terminal = new Terminal(['auth', 'login'], person.env);
    await terminal.waitFor(/Email:\s*$/m);
    terminal.type(org.owner.email);
    const asked = await terminal.waitFor(/Password for .*:\s*$/m);
    expect(asked).toContain(`Email: ${org.owner.email}`);
    expect(asked).toMatch(new RegExp(`Password for ${org.owner.email.replace(/[.]/g, "\\.")}:\\s*$`, "m"));
    terminal.type(org.owner.password);
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen).toContain('EXIT=0');
    expect(screen).toContain(`Logged in to ${server.url} as ${org.owner.email}.`);
    // Nothing of the password reached the screen: not the text, not a mask of its length.
    expect(screen).not.toContain(org.owner.password);
    expect(screen).not.toMatch(/\*{4,}/);
    expect(screen).toMatch(new RegExp(`Password for ${org.owner.email.replace(/[.]/g, '\\.')}: *\\n`));
    expect((await person.json(['auth', 'whoami'])).principal.id).toBe(org.owner.userId);
  });

  it("asks before revoking, showing the key's name and last use; no keeps the key, yes revokes it", async () => {
    const person = new CliUser(server.url);
    await person.login(org.owner.email, org.owner.password);
    const key = await org.createKey(org.owner, { name: 'deploy-bot' });
    expect((await call(server, 'GET', '/api/auth/whoami', { token: key.token })).status).toBe(200);
    await server.composed.services.usage.flush();

    terminal = new Terminal(['api-key', 'revoke', key.apiKey.id], person.env);
    const asked = await terminal.waitFor(/Revoke "deploy-bot"\? \[y\/N\]\s*$/m);
    expect(asked).toContain(`Key "deploy-bot" (${key.apiKey.id}, personal, ${key.apiKey.preview}), last used just now`);
    expect(asked).toContain('Revoking is permanent and immediate');
    terminal.type('n');
    const declined = await terminal.waitFor(/EXIT=\d+/);
    expect(declined).toContain('Not revoked.');
    expect(declined).toContain('EXIT=1');
    expect((await call(server, 'GET', '/api/auth/whoami', { token: key.token })).status).toBe(200);
    terminal.close();

    // Colour on a terminal when NO_COLOR is not set.
    const { NO_COLOR: _ignored, ...colourEnv } = person.env;
    terminal = new Terminal(['api-key', 'revoke', key.apiKey.id], colourEnv, ['NO_COLOR']);
    await terminal.waitFor(/Revoke "deploy-bot"\? \[y\/N\]\s*$/m);
    terminal.type('y');
    const revoked = await terminal.waitFor(/EXIT=\d+/);
    expect(revoked).toContain('EXIT=0');
    expect(revoked).toContain(`Revoked "deploy-bot" (${key.apiKey.id}).`);
    expect(terminal.screen(true)).toContain("\u001b[32m✓");
    expect((await call(server, 'GET', '/api/auth/whoami', { token: key.token })).status).toBe(401);
  });
});
