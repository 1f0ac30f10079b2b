import { useState } from 'react';
import { ShieldIcon } from '../../components/icons';
import { Alert, ErrorAlert } from '../../components/ui';
import { api } from '../../lib/api';
import { roleLabel } from '../../lib/format';
import { useSession, useSessionContext } from '../../lib/session';

/** The one-time setup of an organization's key-signing infrastructure, before any key can exist. */
export function BootstrapStep() {
  const session = useSession();
  const { refresh } = useSessionContext();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function bootstrap() {
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/organization/bootstrap', {});
      await refresh();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <section className="card bootstrap" aria-labelledby="bootstrap-title">
      <div className="bootstrap-icon">
        <ShieldIcon width={28} height={28} />
      </div>
      <h2 id="bootstrap-title">Set up API keys for {session.organization.name}</h2>
      <p>
        Before anyone in this organization can create API keys, Keyward provisions the organization’s key-signing infrastructure: its signing keys,
        encrypted at rest. This is a one-time step; it takes a moment and changes nothing else.
      </p>
      {session.isAdmin ? (
        <button type="button" className="button button-primary" onClick={bootstrap} disabled={busy}>
          {busy ? 'Setting up…' : 'Set up API keys'}
        </button>
      ) : (
        <Alert tone="info" title="An owner or admin needs to do this">
          <p>Your role ({roleLabel(session.role)}) cannot set up the organization. Ask an owner or an admin to open this page and complete the step.</p>
        </Alert>
      )}
      {error ? <ErrorAlert error={error} title="The setup did not complete" /> : null}
    </section>
  );
}
