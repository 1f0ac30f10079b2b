import type { ApiKey } from '@keyward/wire';
import { useState, type ReactNode } from 'react';
import { useToast } from '../../components/toast';
import { EditKeyDialog } from './edit-key-dialog';
import { RevokeKeyDialog } from './revoke-key-dialog';
import { RollKeyDialog } from './roll-key-dialog';
import { SecretDialog, type OneTimeSecret } from './secret-dialog';

type Open = { kind: 'edit' | 'roll' | 'revoke'; key: ApiKey } | { kind: 'secret'; secret: OneTimeSecret } | null;

/** The edit, roll, revoke and one-time-secret dialogs of a page, opened by `open(kind, key)`. */
export function useKeyActions(onChanged: () => void): { open: (kind: 'edit' | 'roll' | 'revoke', key: ApiKey) => void; showSecret: (secret: OneTimeSecret) => void; dialogs: ReactNode } {
  const [current, setCurrent] = useState<Open>(null);
  const toast = useToast();
  const close = () => setCurrent(null);
  let dialogs: ReactNode = null;
  if (current?.kind === 'edit') {
    dialogs = (
      <EditKeyDialog
        apiKey={current.key}
        onCancel={close}
        onSaved={(saved) => {
          close();
          onChanged();
          toast(`Saved “${saved.name}”.`);
          for (const warning of saved.warnings) toast(warning.message, 'warning');
        }}
      />
    );
  } else if (current?.kind === 'roll') {
    dialogs = (
      <RollKeyDialog
        apiKey={current.key}
        onCancel={close}
        onRolled={(answer) => {
          setCurrent({ kind: 'secret', secret: { token: answer.token, apiKey: answer.apiKey, warnings: answer.warnings ?? [], rolled: true } });
          onChanged();
        }}
      />
    );
  } else if (current?.kind === 'revoke') {
    dialogs = (
      <RevokeKeyDialog
        apiKey={current.key}
        onCancel={close}
        onRevoked={() => {
          close();
          onChanged();
          toast(`Revoked “${current.key.name}”. It no longer works.`);
        }}
      />
    );
  } else if (current?.kind === 'secret') {
    dialogs = <SecretDialog secret={current.secret} onDone={close} />;
  }
  return {
    open: (kind, key) => setCurrent({ kind, key }),
    showSecret: (secret) => setCurrent({ kind: 'secret', secret }),
    dialogs,
  };
}
