import { useRef, useState } from 'react';
import { PlusIcon, TrashIcon } from '../../components/icons';
import { resourceFilterProblem } from '../../lib/resource-filter';
import { nextRowId, type ScopeAction, type ScopeRow } from './key-form-model';

const actions: { value: ScopeAction; label: string }[] = [
  { value: 'read', label: 'read' },
  { value: 'write', label: 'write' },
  { value: 'admin', label: 'admin' },
  { value: '*', label: '* (any action)' },
];

/** Rows of action + resource filter, each checked as it is typed. */
export function ScopesEditor({ rows, onChange, errors }: { rows: readonly ScopeRow[]; onChange: (rows: ScopeRow[]) => void; errors: Record<string, string> }) {
  const [added, setAdded] = useState<number | null>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  const update = (id: number, patch: Partial<ScopeRow>) => onChange(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  return (
    <fieldset className="fieldset">
      <legend className="field-label">Scopes</legend>
      <p className="field-hint" id="scopes-hint">
        Each scope allows an action on the resources its filter matches, such as <code>projects/proj_123/*</code>. A <code>*</code> stands for one
        whole path segment; an empty filter means all resources. Without scopes, the permissions alone decide.
      </p>
      {rows.length > 0 ? (
        <div className="rows">
          {rows.map((row, index) => {
            const error = errors[`scope:${row.id}`] ?? resourceFilterProblem(row.resource.trim()) ?? undefined;
            return (
              <div key={row.id} className="row-item">
                <div className="row-controls">
                  <select
                    autoFocus={row.id === added}
                    className="select select-narrow"
                    aria-label={`Scope ${index + 1} action`}
                    value={row.action}
                    onChange={(event) => update(row.id, { action: event.target.value as ScopeAction })}
                  >
                    {actions.map((a) => (
                      <option key={a.value} value={a.value}>
                        {a.label}
                      </option>
                    ))}
                  </select>
                  <input
                    className="input input-mono"
                    aria-label={`Scope ${index + 1} resource filter`}
                    placeholder="* (all resources)"
                    value={row.resource}
                    aria-invalid={Boolean(error)}
                    aria-describedby={error ? `scope-error-${row.id}` : undefined}
                    spellCheck={false}
                    autoComplete="off"
                    onChange={(event) => update(row.id, { resource: event.target.value })}
                  />
                  <button type="button" className="icon-button" aria-label={`Remove scope ${index + 1}`} onClick={() => {
                      onChange(rows.filter((r) => r.id !== row.id));
                      addRef.current?.focus();
                    }}>
                    <TrashIcon />
                  </button>
                </div>
                {error ? (
                  <p className="field-error" id={`scope-error-${row.id}`}>
                    {error}
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
          onChange([...rows, { id, action: 'read', resource: '' }]);
        }}
      >
        <PlusIcon />
        Add scope
      </button>
    </fieldset>
  );
}
