import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { CheckIcon, CloseIcon, WarningIcon } from './icons';

interface Toast {
  readonly id: number;
  readonly message: string;
  readonly tone: 'success' | 'warning' | 'danger';
}

const ToastContext = createContext<(message: string, tone?: Toast['tone']) => void>(() => undefined);

/**
 * Short confirmations ("Key revoked") in a polite live region, dismissed after a few seconds. The region
 * lives outside the app root, so an open dialog (which makes the page inert) does not silence it.
 */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (message: string, tone: Toast['tone'] = 'success') => {
      const id = next.current++;
      setToasts((list) => [...list.slice(-2), { id, message, tone }]);
      window.setTimeout(() => dismiss(id), tone === 'success' ? 5000 : 9000);
    },
    [dismiss],
  );
  const value = useMemo(() => push, [push]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      {createPortal(
        <div className="toasts" role="status" aria-live="polite" data-live-region>
          {toasts.map((toast) => (
            <div key={toast.id} className={`toast toast-${toast.tone}`}>
              {toast.tone === 'success' ? <CheckIcon /> : <WarningIcon />}
              <span>{toast.message}</span>
              <button type="button" className="icon-button icon-button-small" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
                <CloseIcon />
              </button>
            </div>
          ))}
        </div>,
        document.body,
      )}
    </ToastContext.Provider>
  );
}

export function useToast() {
  return useContext(ToastContext);
}
