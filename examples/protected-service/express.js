// The same protection in Express, in a few lines (Hono: `keywardHono` from '@keyward/sdk/hono',
// identity in `c.get('keyward')`). Run: KEYWARD_VERIFIER_TOKEN=kwv_… node examples/protected-service/express.js
import { keywardExpress } from '@keyward/sdk/express';
import express from 'express';
import { verifierFromEnv } from './verifier.js';

const verifier = await verifierFromEnv((err) => console.warn('keyward:', err.message));
const auth = keywardExpress({ verifier, realm: 'example' });
const app = express();

app.get('/v1/me', auth.require(), (req, res) => {
  res.json({ keyId: req.keyward.keyId, organizationId: req.keyward.organizationId, permissions: req.keyward.permissions });
});
app.get('/v1/projects/:id/traces', auth.require({ permission: 'traces:read', projectId: (req) => req.params.id }), (req, res) => {
  res.json({ projectId: req.params.id, traces: [] });
});

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(port, host, () => console.log(`listening on http://${host}:${port}`));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => server.close(() => void verifier.close()));
}
