import type { ApiKey, ChangeCreditsBody, ChangeCreditsResponse } from '@keyward/wire';
import { useState } from 'react';
import { Modal } from '../../components/modal';
import { ErrorAlert, Field } from '../../components/ui';
import { api, ApiError } from '../../lib/api';
import { formatNumber } from '../../lib/format';
import { CREDITS_MAX } from './limits-model';

const operations: { op: ChangeCreditsBody['op']; label: string; hint: string }[] = [
  { op: 'increment', label: 'Add', hint: 'Adds to what is left.' },
  { op: 'decrement', label: 'Remove', hint: 'Takes away from what is left; never below 0.' },
  { op: 'set', label: 'Set to', hint: 'Replaces what is left.' },
];

/**
 * Owners and admins change a key's remaining credits with `POST /api/api-keys/{id}/credits`: the server
 * applies the change atomically, so requests spending credits meanwhile are neither lost nor counted twice
 * (which saving a number through Edit would not promise).
 */
export function ChangeCreditsDialog({ apiKey, onCancel, onChanged }: { apiKey: ApiKey; onCancel: () => void; onChanged: (remaining: number) => void }) {
  const [op, setOp] = useState<ChangeCreditsBody['op']>('increment');
  const [amount, setAmount] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const remaining = apiKey.credits?.remaining ?? 0;

  async function submit() {
    const text = amount.trim().replace(/[,_\s]/g, '');
    const value = /^\d+$/.test(text) ? Number(text) : null;
    if (value === null || value > CREDITS_MAX) {
      setFieldError('A whole number from 0 to 1,000,000,000.');
      return;
    }
    setFieldError(undefined);
    setBusy(true);
    setError(null);
    try {
      const answer = await api.post<ChangeCreditsResponse>(`/api/api-keys/${encodeURIComponent(apiKey.id)}/credits`, { op, amount: value } satisfies ChangeCreditsBody);
      onChanged(answer.remaining);
    } catch (err) {
      // A decrement below zero, or an amount out of range: the server's reason goes beside the field.
      if (err instanceof ApiError && err.status === 422) setFieldError(err.fieldErrors.amount ?? err.message);
      else setError(err);
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Change credits of “${apiKey.name}”`}
      description={`${formatNumber(remaining)} left now (as of when the page loaded; requests may be spending them).`}
      size="small"
      onDismiss={onCancel}
      onSubmit={submit}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Change credits'}
          </button>
        </>
      }
    >
      <fieldset className="fieldset">
        <legend className="field-label">Change</legend>
        <div className="radio-list">
          {operations.map((operation) => (
            <label key={operation.op} className="radio">
              <input type="radio" name="credits-op" checked={op === operation.op} onChange={() => setOp(operation.op)} />
              <span>
                <span className="check-title">{operation.label}</span>
                <span className="check-hint">{operation.hint}</span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <Field label="Amount" error={fieldError}>
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            className="input num"
            inputMode="numeric"
            data-autofocus
            value={amount}
            autoComplete="off"
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(event) => setAmount(event.target.value)}
          />
        )}
      </Field>
      {error ? <ErrorAlert error={error} title="The credits were not changed" /> : null}
    </Modal>
  );
}
