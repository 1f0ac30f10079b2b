import { useRef, useState } from 'react';
import { PlusIcon, TrashIcon, WarningIcon } from '../../components/icons';
import { checkCidr } from '../../lib/cidr';
import { nextRowId, type CidrRow } from './key-form-model';

/** Allowed IP ranges, one per row: checked as typed, with a warning on ranges that allow everyone. */
export function CidrEditor({ rows, onChange, errors }: { rows: readonly CidrRow[]; onChange: (rows: CidrRow[]) => void; errors: Record<string, string> }) {
  const [added, setAdded] = useState<number | null>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  const update = (id: number, value: string) => onChange(rows.map((r) => (r.id === id ? { ...r, value } : r)));
  return (
    <fieldset className="fieldset">
      <legend className="field-label">Allowed IP ranges</legend>
      <p className="field-hint">
        IPv4 and IPv6 CIDR ranges, such as <code>203.0.113.0/24</code> or <code>2001:db8::/32</code>. Requests from other addresses are refused.
        Leave the list empty to allow any address; IPv4 and IPv6 ranges are matched separately.
      </p>
      {rows.length > 0 ? (
        <div className="rows">
          {rows.map((row, index) => {
            const check = row.value.trim() ? checkCidr(row.value) : null;
            const error = errors[`cidr:${row.id}`] ?? (check && !check.ok ? check.message : undefined);
            const suggestion = check && !check.ok ? check.suggestion : undefined;
            const applySuggestion = () => {
              if (!suggestion) return;
              update(row.id, suggestion);
              // The button goes away with the error: keep the keyboard on the field it fixed.
              window.setTimeout(() => document.getElementById(`cidr-input-${row.id}`)?.focus(), 0);
            };
            const wildcard = check?.ok && check.wildcard;
            const messageId = `cidr-message-${row.id}`;
            return (
              <div key={row.id} className="row-item">
                <div className="row-controls">
                  <input
                    id={`cidr-input-${row.id}`}
                    autoFocus={row.id === added}
                    className="input input-mono"
                    aria-label={`IP range ${index + 1}`}
                    placeholder="203.0.113.0/24"
                    value={row.value}
                    aria-invalid={Boolean(error)}
                    aria-describedby={error || wildcard ? messageId : undefined}
                    spellCheck={false}
                    autoComplete="off"
                    onChange={(event) => update(row.id, event.target.value)}
                  />
                  <button type="button" className="icon-button" aria-label={`Remove IP range ${index + 1}`} onClick={() => {
                      onChange(rows.filter((r) => r.id !== row.id));
                      addRef.current?.focus();
                    }}>
                    <TrashIcon />
                  </button>
                </div>
                {error && suggestion && check && !check.ok && error === check.message ? (
                  <p className="field-error" id={messageId}>
                    {error.slice(0, error.lastIndexOf(suggestion))}
                    <button
                      type="button"
                      className="link-button suggestion"
                      aria-label={`Use ${suggestion} for IP range ${index + 1}`}
                      onClick={applySuggestion}
                    >
                      {suggestion}
                    </button>
                    {error.slice(error.lastIndexOf(suggestion) + suggestion.length)}
                  </p>
                ) : error ? (
                  <p className="field-error" id={messageId}>
                    {error}
                    {suggestion ? (
                      <>
                        {' '}
                        <button type="button" className="link-button suggestion" aria-label={`Use ${suggestion} for IP range ${index + 1}`} onClick={applySuggestion}>
                          Use {suggestion}
                        </button>
                      </>
                    ) : null}
                  </p>
                ) : wildcard ? (
                  <p className="field-warning" id={messageId} data-testid="cidr-wildcard-warning">
                    <WarningIcon />
                    <span>
                      <code>{check.canonical}</code> accepts every {check.family === 'ipv4' ? 'IPv4' : 'IPv6'} address: this range does not restrict{' '}
                      {check.family === 'ipv4' ? 'IPv4' : 'IPv6'} clients at all.
                    </span>
                  </p>
                ) : check?.ok && check.canonical !== row.value.trim() ? (
                  <p className="field-hint">
                    Saved as <code>{check.canonical}</code>
                  </p>
                ) : null}
              </div>
            );
          })}
        </div>
      ) : null}
      <button
        ref={addRef}
        type="button"
        className="button button-secondary button-small"
        onClick={() => {
          const id = nextRowId();
          setAdded(id);
          onChange([...rows, { id, value: '' }]);
        }}
      >
        <PlusIcon />
        Add IP range
      </button>
    </fieldset>
  );
}
