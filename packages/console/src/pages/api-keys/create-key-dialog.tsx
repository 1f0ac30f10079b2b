import type { CreateApiKeyResponse, OrganizationPolicyResponse } from '@keyward/wire';
import { useState } from 'react';
import { Modal } from '../../components/modal';
import { ErrorAlert } from '../../components/ui';
import { api, ApiError } from '../../lib/api';
import { useDirectory } from '../../lib/directory';
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';
import { KeyForm } from './key-form';
import { mapServerErrors, newKeyState, toCreateBody, validateKeyForm, type KeyFormState } from './key-form-model';
import { PolicyRefusal } from './policy-badge';

export interface CreateKeyDialogProps {
  readonly onCancel: () => void;
  readonly onCreated: (answer: CreateApiKeyResponse) => void;
  /** A legacy project key for this project (admins, from the project's page). */
  readonly projectId?: string;
}

export function CreateKeyDialog({ onCancel, onCreated, projectId }: CreateKeyDialogProps) {
  const session = useSession();
  const directory = useDirectory();
  const [state, setState] = useState<KeyFormState>(() => newKeyState(projectId ? 'project' : 'personal', projectId ?? null));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [submitted, setSubmitted] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // The key policy, to say what it does to the expiry; the form works without it.
  const policy = useApi<OrganizationPolicyResponse>('/api/organization/policy').data?.policy;

  function change(next: KeyFormState) {
    setState(next);
    if (submitted) setErrors(validateKeyForm(next, 'create'));
  }

  async function submit() {
    setSubmitted(true);
    const problems = validateKeyForm(state, 'create');
    setErrors(problems);
    if (Object.keys(problems).length > 0) {
      focusFirstError();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await api.post<CreateApiKeyResponse>('/api/api-keys', toCreateBody(state, session));
      onCreated(answer);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) {
        setErrors(mapServerErrors(state, err.fieldErrors));
        focusFirstError();
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const projectName = projectId ? directory.projectName(projectId) : null;
  return (
    <Modal
      title={projectName ? `Create a project key for ${projectName}` : 'Create API key'}
      description={projectName ? 'A legacy project key carries its project: callers need no project id.' : 'The secret is shown once, right after you create the key.'}
      size="large"
      onDismiss={onCancel}
      onSubmit={submit}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create key'}
          </button>
        </>
      }
    >
      <KeyForm state={state} onChange={change} errors={errors} session={session} mode="create" policy={policy} />
      {error instanceof ApiError && error.code === 'policy_violation' ? <PolicyRefusal reasons={error.body.reasons ?? []} /> : null}
      {error && !(error instanceof ApiError && error.status === 422) ? <ErrorAlert error={error} title="The key was not created" /> : null}
      {error instanceof ApiError && error.status === 422 && Object.keys(errors).length === 0 ? <ErrorAlert error={error} /> : null}
    </Modal>
  );
}

/** After a failed submit, put the keyboard on the first field that needs attention. */
export function focusFirstError() {
  window.setTimeout(() => {
    const target = document.querySelector<HTMLElement>('.modal [aria-invalid="true"], .modal .field-error');
    if (!target) return;
    const focusable = target.matches('input,select,textarea') ? target : target.closest('.field, .row-item, fieldset')?.querySelector<HTMLElement>('input,select,textarea');
    (focusable ?? target).focus?.();
    target.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }, 0);
}
