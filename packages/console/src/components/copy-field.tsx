import { useRef, useState } from 'react';
import { CheckIcon, CopyIcon } from './icons';

async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older browsers or a denied permission: fall back to selecting the text and the copy command.
    if (!input) return false;
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** A read-only value with a copy button; says so when it has copied (to screen readers too). */
export function CopyField({ value, label, id, onCopied }: { value: string; label: string; id?: string; onCopied?: () => void }) {
  const inputRef = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <div className="copy-field">
      <input
        ref={inputRef}
        id={id}
        className="input input-mono"
        type="text"
        readOnly
        value={value}
        aria-label={label}
        autoComplete="off"
        spellCheck={false}
        onFocus={(event) => event.currentTarget.select()}
      />
      <button
        type="button"
        className="button button-secondary"
        onClick={async () => {
          const ok = await copyText(value, inputRef.current);
          setState(ok ? 'copied' : 'failed');
          if (ok) onCopied?.();
        }}
      >
        {state === 'copied' ? <CheckIcon /> : <CopyIcon />}
        {state === 'copied' ? 'Copied' : 'Copy'}
      </button>
      <span className="visually-hidden" aria-live="polite">
        {state === 'copied' ? 'Copied to the clipboard' : state === 'failed' ? 'Could not copy: select the text and copy it yourself' : ''}
      </span>
      {state === 'failed' ? <p className="field-error">The browser refused to copy: select the text and press Ctrl+C (⌘C).</p> : null}
    </div>
  );
}
