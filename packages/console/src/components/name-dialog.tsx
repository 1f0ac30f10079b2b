import { useState, type ReactNode } from 'react';
import { ApiError } from '../lib/api';
import { Modal } from './modal';
import { ErrorAlert, Field } from './ui';

/** A one-field dialog: create or rename a team or a project. */
export function NameDialog({
  title,
  label,
  initial = '',
  submitLabel,
  onCancel,
  onSubmit,
  children,
}: {
  title: string;
  label: string;
  initial?: string;
  submitLabel: string;
  onCancel: () => void;
  onSubmit: (name: string) => Promise<void>;
  children?: ReactNode;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <Modal
      title={title}
      size="small"
      onDismiss={onCancel}
      onSubmit={async () => {
        if (!name.trim()) {
          setFieldError('Enter a name.');
          return;
        }
        if (name.trim().length > 100) {
          setFieldError('Use at most 100 characters.');
          return;
        }
        setFieldError(undefined);
        setBusy(true);
        setError(null);
        try {
          await onSubmit(name.trim());
        } catch (err) {
          if (err instanceof ApiError && err.status === 422) setFieldError(err.fieldErrors.name ?? err.message);
          else setError(err);
          setBusy(false);
        }
      }}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : submitLabel}
          </button>
        </>
      }
    >
      <Field label={label} error={fieldError}>
        {({ id, describedBy, invalid }) => (
          <input id={id} className="input" value={name} data-autofocus maxLength={100} aria-describedby={describedBy} aria-invalid={invalid} onChange={(e) => setName(e.target.value)} />
        )}
      </Field>
      {children}
      {error ? <ErrorAlert error={error} /> : null}
    </Modal>
  );
}
