import { useEffect, useId, type ReactNode } from 'react';
import { useLocation } from 'react-router';
import { ApiError } from '../lib/api';
import { InfoIcon, WarningIcon } from './icons';

export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div className="page-header-text">
        <h1 tabIndex={-1} data-page-title>
          {title}
        </h1>
        {description ? <p className="page-description">{description}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </header>
  );
}

export type Tone = 'neutral' | 'success' | 'warning' | 'danger' | 'info' | 'accent';

export function Badge({ tone = 'neutral', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const statusTone: Record<string, Tone> = { active: 'success', expired: 'warning', revoked: 'danger', disabled: 'neutral' };

export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={statusTone[status] ?? 'neutral'}>{status.charAt(0).toUpperCase() + status.slice(1)}</Badge>;
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label} />;
}

export function Alert({ tone = 'info', title, children, actions }: { tone?: 'info' | 'warning' | 'danger' | 'success'; title?: ReactNode; children?: ReactNode; actions?: ReactNode }) {
  return (
    <div className={`alert alert-${tone}`} role={tone === 'danger' ? 'alert' : undefined}>
      <span className="alert-icon">{tone === 'info' || tone === 'success' ? <InfoIcon /> : <WarningIcon />}</span>
      <div className="alert-content">
        {title ? <p className="alert-title">{title}</p> : null}
        {children ? <div className="alert-body">{children}</div> : null}
        {actions ? <div className="alert-actions">{actions}</div> : null}
      </div>
    </div>
  );
}

/** An error from the API, with the missing permissions of a scope violation when there are some. */
export function ErrorAlert({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  const message = error instanceof Error ? error.message : 'Something went wrong.';
  const missing = error instanceof ApiError ? error.missing : [];
  return (
    <Alert
      tone="danger"
      title={title}
      actions={
        onRetry ? (
          <button type="button" className="button button-secondary button-small" onClick={onRetry}>
            Try again
          </button>
        ) : undefined
      }
    >
      <p>{message}</p>
      {missing.length > 0 ? (
        <p>
          Beyond your rights: <code>{missing.join(', ')}</code>
        </p>
      ) : null}
    </Alert>
  );
}

export function EmptyState({ icon, title, children, action }: { icon?: ReactNode; title: ReactNode; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty-state">
      {icon ? <div className="empty-icon">{icon}</div> : null}
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-text">{children}</div> : null}
      {action ? <div className="empty-action">{action}</div> : null}
    </div>
  );
}

/** Placeholder rows with the height of real rows, so the table does not jump when data arrives. */
export function SkeletonRows({ columns, rows = 5 }: { columns: number; rows?: number }) {
  return (
    <>
      {Array.from({ length: rows }, (_, row) => (
        <tr key={row} className="skeleton-row" aria-hidden="true">
          {Array.from({ length: columns }, (_, column) => (
            <td key={column}>
              <span className="skeleton" style={{ width: `${45 + ((row * 7 + column * 13) % 40)}%` }} />
            </td>
          ))}
        </tr>
      ))}
    </>
  );
}

export function LoadingBlock({ label = 'Loading', height = 160 }: { label?: string; height?: number }) {
  return (
    <div className="loading-block" style={{ minHeight: height }}>
      <Spinner label={label} />
    </div>
  );
}

export interface FieldProps {
  readonly label: ReactNode;
  readonly hint?: ReactNode;
  readonly error?: string | undefined;
  readonly optional?: boolean;
  readonly children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}

/** A labelled control with its hint and inline error, wired with aria-describedby and aria-invalid. */
export function Field({ label, hint, error, optional, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id} className="field-label">
        {label}
        {optional ? <span className="field-optional"> (optional)</span> : null}
      </label>
      {children({ id, describedBy, invalid: Boolean(error) })}
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

let firstLocationKey: string | null = null;

/**
 * Sets the document title and, when a page is reached by in-app navigation, moves focus to its heading
 * (so screen readers announce the new page). The first page of a visit keeps the browser's focus.
 */
export function usePageTitle(title: string): void {
  const location = useLocation();
  useEffect(() => {
    document.title = `${title} · Keyward`;
  }, [title]);
  useEffect(() => {
    firstLocationKey ??= location.key;
    if (location.key === firstLocationKey) return;
    const heading = document.querySelector<HTMLElement>('[data-page-title]');
    if (heading && !document.body.classList.contains('has-modal')) heading.focus({ preventScroll: true });
    // Only on arrival: filters that rewrite the address must not pull focus away.
  }, []);
}

/** What people who are not owners or admins see on pages only those may use. */
export function AdminOnly({ role }: { role: string }) {
  return (
    <EmptyState title="Only owners and admins can see this page">
      Your role here is {role.charAt(0) + role.slice(1).toLowerCase()}. Ask an owner or admin if you need access.
    </EmptyState>
  );
}
