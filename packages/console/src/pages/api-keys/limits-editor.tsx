import { useRef, useState } from 'react';
import { PlusIcon, TrashIcon } from '../../components/icons';
import { Field } from '../../components/ui';
import { formatNumber } from '../../lib/format';
import { nextRowId } from './key-form-model';
import { describeWindow, RATE_LIMITS_MAX, windowSecondsOf, windowUnits, type CreditsState, type RateLimitRow, type WindowUnit } from './limits-model';

export interface LimitsEditorProps {
  readonly rows: readonly RateLimitRow[];
  readonly credits: CreditsState;
  readonly onRowsChange: (rows: RateLimitRow[]) => void;
  readonly onCreditsChange: (credits: CreditsState) => void;
  readonly errors: Record<string, string>;
  /** Owners and admins set credits; anyone else sees them and why they cannot change them. */
  readonly canSetCredits: boolean;
  readonly mode: 'create' | 'edit';
}

/** The Limits section of the key dialogs: up to five rate limits, and credits with an optional refill. */
export function LimitsEditor({ rows, credits, onRowsChange, onCreditsChange, errors, canSetCredits, mode }: LimitsEditorProps) {
  return (
    <section className="form-section" aria-labelledby="key-limits-heading">
      <h3 id="key-limits-heading" className="section-title">
        Limits
      </h3>
      <RateLimitRows rows={rows} onChange={onRowsChange} errors={errors} />
      {canSetCredits ? <CreditsFields credits={credits} onChange={onCreditsChange} errors={errors} mode={mode} /> : <CreditsReadOnly credits={credits} />}
      {errors.credits ? <p className="field-error">{errors.credits}</p> : null}
    </section>
  );
}

function RateLimitRows({ rows, onChange, errors }: { rows: readonly RateLimitRow[]; onChange: (rows: RateLimitRow[]) => void; errors: Record<string, string> }) {
  const [added, setAdded] = useState<number | null>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  const update = (id: number, change: Partial<RateLimitRow>) => onChange(rows.map((r) => (r.id === id ? { ...r, ...change } : r)));
  const full = rows.length >= RATE_LIMITS_MAX;
  return (
    <fieldset className="fieldset" aria-describedby="rate-limits-hint">
      <legend className="field-label">Rate limits</legend>
      <p className="field-hint" id="rate-limits-hint">
        A request is refused (429) once it would go over any limit in its current window. Windows start on the clock: a 1-minute window resets at each
        full minute, a 1-day window at 00:00 UTC. A request counts its cost (1 unless your server says otherwise). No limits: requests are never
        refused for their rate.
      </p>
      {rows.length > 0 ? (
        <div className="rows limit-rows">
          <div className="limit-row limit-row-head" aria-hidden="true">
            <span>Name</span>
            <span>Requests</span>
            <span />
            <span>Window</span>
          </div>
          {rows.map((row, index) => {
            const n = index + 1;
            const problems = ['name', 'limit', 'window'].map((field) => errors[`limit:${row.id}:${field}`]).filter((e): e is string => Boolean(e));
            const seconds = windowSecondsOf(row);
            const messageId = `limit-message-${row.id}`;
            return (
              <div key={row.id} className="row-item" data-testid="rate-limit-row">
                <div className="limit-row">
                  <input
                    autoFocus={row.id === added}
                    className="input input-mono"
                    aria-label={`Rate limit ${n} name`}
                    placeholder="per_minute"
                    value={row.name}
                    maxLength={32}
                    spellCheck={false}
                    autoComplete="off"
                    aria-invalid={Boolean(errors[`limit:${row.id}:name`])}
                    aria-describedby={problems.length ? messageId : undefined}
                    onChange={(event) => update(row.id, { name: event.target.value })}
                  />
                  <input
                    className="input num"
                    inputMode="numeric"
                    aria-label={`Rate limit ${n} requests`}
                    placeholder="100"
                    value={row.limit}
                    autoComplete="off"
                    aria-invalid={Boolean(errors[`limit:${row.id}:limit`])}
                    aria-describedby={problems.length ? messageId : undefined}
                    onChange={(event) => update(row.id, { limit: event.target.value })}
                  />
                  <span className="limit-per">per</span>
                  <span className="limit-window">
                    <input
                      className="input num"
                      inputMode="numeric"
                      aria-label={`Rate limit ${n} window`}
                      value={row.windowAmount}
                      autoComplete="off"
                      aria-invalid={Boolean(errors[`limit:${row.id}:window`])}
                      aria-describedby={problems.length ? messageId : undefined}
                      onChange={(event) => update(row.id, { windowAmount: event.target.value })}
                    />
                    <select
                      className="select"
                      aria-label={`Rate limit ${n} window unit`}
                      value={row.windowUnit}
                      onChange={(event) => update(row.id, { windowUnit: event.target.value as WindowUnit })}
                    >
                      {windowUnits.map((unit) => (
                        <option key={unit.id} value={unit.id}>
                          {unit.label}
                        </option>
                      ))}
                    </select>
                  </span>
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={`Remove rate limit ${n}`}
                    onClick={() => {
                      onChange(rows.filter((r) => r.id !== row.id));
                      addRef.current?.focus();
                    }}
                  >
                    <TrashIcon />
                  </button>
                </div>
                {problems.length ? (
                  <p className="field-error" id={messageId}>
                    {problems.join(' ')}
                  </p>
                ) : seconds && seconds > 0 && row.windowUnit !== 'seconds' ? (
                  <p className="field-hint">
                    {describeWindow(seconds)} = {formatNumber(seconds)} seconds
                  </p>
                ) : null}
              </div>
            );
          })}
        </div>
      ) : null}
      {errors.rateLimits ? <p className="field-error">{errors.rateLimits}</p> : null}
      <button
        ref={addRef}
        type="button"
        className="button button-secondary button-small"
        disabled={full}
        onClick={() => {
          const id = nextRowId();
          setAdded(id);
          onChange([...rows, { id, name: '', limit: '', windowAmount: '1', windowUnit: 'minutes' }]);
        }}
      >
        <PlusIcon />
        Add rate limit
      </button>
      {full ? <p className="field-hint">A key has at most {RATE_LIMITS_MAX} rate limits.</p> : null}
    </fieldset>
  );
}

function CreditsFields({ credits, onChange, errors, mode }: { credits: CreditsState; onChange: (credits: CreditsState) => void; errors: Record<string, string>; mode: 'create' | 'edit' }) {
  const set = (change: Partial<CreditsState>) => onChange({ ...credits, ...change });
  return (
    <fieldset className="fieldset" aria-describedby="credits-hint">
      <legend className="field-label">Credits</legend>
      <p className="field-hint" id="credits-hint">
        Each accepted request spends its cost (1 unless your server says otherwise) from the credits; at 0, requests are refused until a refill or until
        you add credits.
      </p>
      <div className="choice-row">
        <label className="radio">
          <input type="radio" name="credits-mode" checked={credits.mode === 'unlimited'} onChange={() => set({ mode: 'unlimited' })} />
          <span>
            <span className="check-title">Unlimited</span>
            <span className="check-hint">Requests spend nothing.</span>
          </span>
        </label>
        <label className="radio">
          <input type="radio" name="credits-mode" checked={credits.mode === 'limited'} onChange={() => set({ mode: 'limited', remaining: credits.remaining || '1000' })} />
          <span>
            <span className="check-title">A number of credits</span>
            <span className="check-hint">Optionally refilled each day or month.</span>
          </span>
        </label>
      </div>
      {credits.mode === 'limited' ? (
        <div className="inline-fields">
          <Field
            label={mode === 'edit' ? 'Credits left' : 'Credits to start with'}
            error={errors.creditsRemaining}
            hint={mode === 'edit' ? 'Saving sets the credits left to this number. To add or remove credits while the key is in use, use Change credits on its page.' : undefined}
          >
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                className="input num"
                inputMode="numeric"
                value={credits.remaining}
                autoComplete="off"
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onChange={(event) => set({ remaining: event.target.value })}
              />
            )}
          </Field>
          <Field label="Refill">
            {({ id, describedBy }) => (
              <select id={id} className="select" value={credits.refill} aria-describedby={describedBy} onChange={(event) => set({ refill: event.target.value as CreditsState['refill'] })}>
                <option value="none">No refill</option>
                <option value="day">Every day</option>
                <option value="month">Every month</option>
              </select>
            )}
          </Field>
          {credits.refill !== 'none' ? (
            <Field label="Refill to" error={errors.refillAmount}>
              {({ id, describedBy, invalid }) => (
                <input
                  id={id}
                  className="input num"
                  inputMode="numeric"
                  value={credits.refillAmount}
                  autoComplete="off"
                  aria-describedby={describedBy}
                  aria-invalid={invalid}
                  onChange={(event) => set({ refillAmount: event.target.value })}
                />
              )}
            </Field>
          ) : null}
          <p className="expiry-note" aria-live="polite">
            {credits.refill === 'day'
              ? 'At 00:00 UTC every day, the credits are set to the refill amount (what was left is not carried over).'
              : credits.refill === 'month'
                ? 'At 00:00 UTC on the 1st of every month, the credits are set to the refill amount (what was left is not carried over).'
                : 'The credits are spent once: when they run out, requests are refused until you add more.'}
          </p>
        </div>
      ) : null}
    </fieldset>
  );
}

function CreditsReadOnly({ credits }: { credits: CreditsState }) {
  return (
    <div className="fieldset" data-testid="credits-read-only">
      <p className="field-label">Credits</p>
      <p>
        {credits.mode === 'unlimited'
          ? 'Unlimited.'
          : `${formatNumber(Number(credits.remaining))} left${credits.refill === 'none' ? ', no refill' : `, refilled to ${formatNumber(Number(credits.refillAmount))} every ${credits.refill} at 00:00 UTC`}.`}
      </p>
      <p className="field-hint">Only owners and admins set credits.</p>
    </div>
  );
}
