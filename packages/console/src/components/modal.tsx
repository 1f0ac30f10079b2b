import { useEffect, useId, useRef, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { CloseIcon } from './icons';

const focusableSelector = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  'summary',
  '[tabindex]:not([tabindex="-1"])',
].join(',');

function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(focusableSelector)].filter((el) => !el.closest('[inert]') && el.getClientRects().length > 0);
}

export interface ModalProps {
  readonly title: ReactNode;
  readonly description?: ReactNode;
  readonly children: ReactNode;
  readonly footer?: ReactNode;
  /** Escape, the close button and a click outside call this; absent, the dialog cannot be dismissed. */
  readonly onDismiss?: (() => void) | undefined;
  readonly size?: 'small' | 'medium' | 'large';
  readonly role?: 'dialog' | 'alertdialog';
  /** Wraps the body and footer in a form with this submit handler. */
  readonly onSubmit?: (() => void) | undefined;
}

/**
 * A modal dialog: everything else on the page is inert while it is open, focus moves into it and
 * cycles inside it, Escape dismisses it (when it may be dismissed), and focus returns to where it was.
 */
export function Modal({ title, description, children, footer, onDismiss, size = 'medium', role = 'dialog', onSubmit }: ModalProps) {
  const titleId = useId();
  const descriptionId = useId();
  const dialogRef = useRef<HTMLDivElement>(null);
  const containerRef = useRef<HTMLDivElement | null>(null);
  const dismissRef = useRef(onDismiss);
  dismissRef.current = onDismiss;

  if (containerRef.current === null && typeof document !== 'undefined') {
    containerRef.current = document.createElement('div');
    containerRef.current.className = 'modal-root';
  }

  useEffect(() => {
    const container = containerRef.current!;
    document.body.appendChild(container);
    const previous = document.activeElement as HTMLElement | null;
    // Everything outside this dialog becomes inert (the app, and any dialog below this one).
    const madeInert: Element[] = [];
    for (const child of document.body.children) {
      if (child !== container && !child.hasAttribute('inert') && !child.hasAttribute('data-live-region')) {
        child.setAttribute('inert', '');
        madeInert.push(child);
      }
    }
    document.body.classList.add('has-modal');
    const dialog = dialogRef.current!;
    // Keys pressed while focus has fallen out of the dialog (a button that disabled itself, a removed
    // row) still reach the topmost dialog: Escape dismisses it, Tab brings focus back in.
    const isTopmost = () => [...document.querySelectorAll('.modal-root')].pop() === container;
    const onDocumentKeyDown = (event: KeyboardEvent) => {
      if (!isTopmost() || dialog.contains(document.activeElement)) return;
      if (event.key === 'Escape' && dismissRef.current) {
        event.preventDefault();
        dismissRef.current();
      } else if (event.key === 'Tab') {
        event.preventDefault();
        (focusables(dialog)[0] ?? dialog).focus();
      }
    };
    document.addEventListener('keydown', onDocumentKeyDown);
    const preferred = dialog.querySelector<HTMLElement>('[data-autofocus]') ?? focusables(dialog.querySelector('.modal-body') ?? dialog)[0];
    (preferred ?? dialog).focus();
    return () => {
      document.removeEventListener('keydown', onDocumentKeyDown);
      for (const element of madeInert) element.removeAttribute('inert');
      if (![...document.querySelectorAll('.modal-root')].some((root) => root !== container)) document.body.classList.remove('has-modal');
      container.remove();
      if (previous && previous.isConnected) previous.focus();
    };
  }, []);

  function onKeyDown(event: React.KeyboardEvent<HTMLDivElement>) {
    if (event.key === 'Escape') {
      event.stopPropagation();
      if (dismissRef.current) {
        event.preventDefault();
        dismissRef.current();
      }
      return;
    }
    if (event.key !== 'Tab') return;
    const items = focusables(dialogRef.current!);
    if (items.length === 0) {
      event.preventDefault();
      return;
    }
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (event.shiftKey && (document.activeElement === first || document.activeElement === dialogRef.current)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  const body = (
    <>
      <div className="modal-body">{children}</div>
      {footer ? <div className="modal-footer">{footer}</div> : null}
    </>
  );

  const dialog = (
    <div
      className="modal-backdrop"
      onMouseDown={(event) => {
        if (event.target === event.currentTarget && dismissRef.current) dismissRef.current();
      }}
    >
      <div
        ref={dialogRef}
        className={`modal modal-${size}`}
        role={role}
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={description ? descriptionId : undefined}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <div className="modal-header">
          <div>
            <h2 id={titleId} className="modal-title">
              {title}
            </h2>
            {description ? (
              <p id={descriptionId} className="modal-description">
                {description}
              </p>
            ) : null}
          </div>
          {onDismiss ? (
            <button type="button" className="icon-button" onClick={onDismiss} aria-label="Close">
              <CloseIcon />
            </button>
          ) : null}
        </div>
        {onSubmit ? (
          <form
            className="modal-form"
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              onSubmit();
            }}
          >
            {body}
          </form>
        ) : (
          body
        )}
      </div>
    </div>
  );
  return createPortal(dialog, containerRef.current!);
}
