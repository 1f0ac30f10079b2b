import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, root } from '../support/process.js';
import { call, createOrg, createProject, revoke, startSdkServer, verifierToken, type OrgFixture, type SdkServer } from './support.js';

/** The example service as its README runs it: plain `node`, the SDK resolved through the workspace. */
interface ExampleProcess {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<number | null>;
}

async function startExample(file: string, env: Record<string, string>): Promise<ExampleProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(root, 'examples/protected-service', file)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the example exited: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the example did not start: ${output}`);
    }
    try {
      await fetch(`${url}/v1/me`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

const modes = [
  ['server.js (Fastify), remote verifier', 'server.js', 'remote'],
  ['server.js (Fastify), embedded verifier', 'server.js', 'embedded'],
  ['express.js, remote verifier', 'express.js', 'remote'],
] as const;

describe('examples/protected-service against a running Keyward', () => {
  let server: SdkServer;
  let org: OrgFixture;
  let token: string;
  let projectId: string;
  let otherProjectId: string;

  beforeAll(async () => {
    if (!existsSync(join(root, 'packages/sdk/dist/fastify.js'))) throw new Error('Build the SDK first: npx tsc -b packages/sdk (npm test builds it).');
    server = await startSdkServer();
    org = await createOrg(server);
    token = await verifierToken(server, org.orgId);
    projectId = await createProject(server, org);
    otherProjectId = await createProject(server, org);
  });
  afterAll(async () => server?.close());

  describe.each(modes)('%s', (_name, file, mode) => {
    let example: ExampleProcess;
    let reader: { token: string; apiKey: { id: string } };
    let writer: { token: string; apiKey: { id: string } };
    const send = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
      call({ url: example.url }, method, path, { headers, ...(body === undefined ? {} : { body }) });

    beforeAll(async () => {
      const env: Record<string, string> = { KEYWARD_URL: server.url, KEYWARD_VERIFIER_TOKEN: token };
      if (mode === 'embedded') Object.assign(env, { VERIFY_MODE: 'embedded', KEYWARD_DATABASE_URL: server.store.url, KEYWARD_PEPPER: server.pepper });
      example = await startExample(file, env);
      reader = await org.createKey(org.adminKey, { name: 'reader', keyType: 'service', projectIds: [projectId], permissionMode: 'restricted', permissions: ['traces:read'] });
      writer = await org.createKey(org.adminKey, { name: 'writer', keyType: 'service', projectIds: [projectId] });
    });
    afterAll(async () => {
      await example?.stop();
    });

    it('puts the verified identity on the request (GET /v1/me)', async () => {
      const me = await send('GET', '/v1/me', { authorization: `Bearer ${reader.token}` });
      expect(me.status, example.output()).toBe(200);
      expect(me.body).toMatchObject({ keyId: reader.apiKey.id, organizationId: org.orgId, permissions: ['traces:read'] });
      const viaHeader = await send('GET', '/v1/me', { 'x-api-key': writer.token });
      expect(viaHeader.status).toBe(200);
      expect(viaHeader.body.keyId).toBe(writer.apiKey.id);
    });

    it('answers 401 with WWW-Authenticate for a missing or invalid key', async () => {
      const missing = await send('GET', '/v1/me');
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="example"');
      expect(missing.body).toEqual({ error: 'unauthorized', message: 'A valid API key is required.' });
      const forged = await send('GET', `/v1/projects/${projectId}/traces`, { authorization: `Bearer ${reader.token.slice(0, -1)}${reader.token.endsWith('x') ? 'y' : 'x'}` });
      expect(forged.status).toBe(401);
      expect(forged.headers.get('www-authenticate')).toBe('Bearer realm="example", error="invalid_token"');
      expect(forged.body).toEqual(missing.body);
    });

    it("answers 403 insufficient_scope for a permission the key lacks, or a project it does not reach", async () => {
      const read = await send('GET', `/v1/projects/${projectId}/traces`, { authorization: `Bearer ${reader.token}` });
      expect(read.status).toBe(200);
      expect(read.body.projectId).toBe(projectId);
      const elsewhere = await send('GET', `/v1/projects/${otherProjectId}/traces`, { authorization: `Bearer ${reader.token}` });
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.headers.get('www-authenticate')).toBe('Bearer realm="example", error="insufficient_scope"');
      expect(elsewhere.body).toEqual({ error: 'insufficient_permissions', message: 'This key may not do this.' });
    });

    if (file === 'server.js') {
      it('lets traces:write create a trace and refuses it to a read-only key', async () => {
        const refused = await send('POST', `/v1/projects/${projectId}/traces`, { authorization: `Bearer ${reader.token}` }, { name: 'nope' });
        expect(refused.status).toBe(403);
        expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="example", error="insufficient_scope"');
        const created = await send('POST', `/v1/projects/${projectId}/traces`, { authorization: `Bearer ${writer.token}` }, { name: `checkout ${mode}` });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({ name: `checkout ${mode}`, createdByKey: writer.apiKey.id });
        const listed = await send('GET', `/v1/projects/${projectId}/traces`, { authorization: `Bearer ${reader.token}` });
        expect(listed.body.traces).toContainEqual(created.body);
      });
    }

    if (mode === 'remote') {
      it('accepts an access token of the key as a Bearer credential', async () => {
        const issued = await call(server, 'POST', '/oauth/token', {
          headers: { authorization: `Basic ${Buffer.from(`${writer.apiKey.id}:${writer.token}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          rawBody: 'grant_type=client_credentials&scope=traces%3Aread',
        });
        expect(issued.status, issued.text).toBe(200);
        const me = await send('GET', '/v1/me', { authorization: `Bearer ${issued.body.access_token}` });
        expect(me.status).toBe(200);
        expect(me.body).toMatchObject({ keyId: writer.apiKey.id, permissions: ['traces:read'] });
      });
    }

    it('refuses a key at once after it is revoked through the API', async () => {
      const key = await org.createKey(org.owner);
      expect((await send('GET', '/v1/me', { authorization: `Bearer ${key.token}` })).status).toBe(200);
      await revoke(server, org, key.apiKey.id);
      const after = await send('GET', '/v1/me', { authorization: `Bearer ${key.token}` });
      expect(after.status).toBe(401);
      expect(after.headers.get('www-authenticate')).toBe('Bearer realm="example", error="invalid_token"');
    });

    it('stops cleanly on SIGTERM', async () => {
      const probe = await org.createKey(org.owner);
      for (let i = 0; i < 3; i++) expect((await send('GET', '/v1/me', { authorization: `Bearer ${probe.token}` })).status).toBe(200);
      expect(await example.stop(), example.output()).toBe(0);
      if (mode === 'embedded') {
        // The embedded verifier counted into Keyward's store and wrote its counts on the way out.
        const usage = await call(server, 'GET', `/api/api-keys/${probe.apiKey.id}/usage?interval=minute`, { token: org.adminKey });
        expect(usage.body.totals.valid).toBe(3);
      }
    });
  });
});
