import { useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

export interface MenuItem {
  readonly label: string;
  readonly onSelect: () => void;
  readonly danger?: boolean;
  readonly disabled?: boolean;
  /** Why it is disabled, read with the item. */
  readonly hint?: string;
}

const VIEWPORT_MARGIN = 8;

/**
 * Where the menu goes: under its button, right edges aligned; above the button when there is no room
 * below; always inside the viewport. It is rendered in a portal with fixed coordinates, so it never
 * widens or scrolls the table (or sidebar) its button sits in.
 */
function placeMenu(button: DOMRect, menu: { width: number; height: number } | null, align: 'start' | 'end'): { top: number; left: number } {
  const width = menu?.width ?? 0;
  const height = menu?.height ?? 0;
  let top = button.bottom + 4;
  if (menu && top + height > window.innerHeight - VIEWPORT_MARGIN && button.top - 4 - height >= VIEWPORT_MARGIN) top = button.top - 4 - height;
  top = Math.max(VIEWPORT_MARGIN, Math.min(top, window.innerHeight - VIEWPORT_MARGIN - height));
  let left = align === 'start' ? button.left : button.right - width;
  left = Math.max(VIEWPORT_MARGIN, Math.min(left, window.innerWidth - VIEWPORT_MARGIN - width));
  return { top: Math.round(top), left: Math.round(left) };
}

/**
 * A menu button (WAI-ARIA menu pattern): Enter, Space or ArrowDown opens it on the first item, arrows
 * move, Home and End jump, Escape closes it and returns focus to the button, Tab closes it.
 */
export function MenuButton({
  label,
  items,
  children,
  className = 'icon-button',
  namedByContent = false,
  align = 'end',
}: {
  /** The menu's name, and the button's unless `namedByContent`. */
  label: string;
  items: readonly MenuItem[];
  children: ReactNode;
  className?: string;
  /** The button's visible content names it (a person's name), rather than `label`. */
  namedByContent?: boolean;
  /** Which edge of the button the menu lines up with. */
  align?: 'start' | 'end';
}) {
  const [open, setOpen] = useState(false);
  const [position, setPosition] = useState<{ top: number; left: number } | null>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const menuId = useId();

  const place = () => {
    if (!buttonRef.current) return;
    const size = menuRef.current ? { width: menuRef.current.offsetWidth, height: menuRef.current.offsetHeight } : null;
    const next = placeMenu(buttonRef.current.getBoundingClientRect(), size, align);
    setPosition((current) => (current && current.top === next.top && current.left === next.left ? current : next));
  };

  useLayoutEffect(() => {
    if (open) place();
  }, [open]);

  // Once the menu is on the page its size is known: move it inside the viewport if it does not fit.
  useLayoutEffect(() => {
    if (open && position) place();
  }, [open, position]);

  const placed = position !== null;
  useEffect(() => {
    if (!open || !placed) return;
    const first = menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])');
    first?.focus({ preventScroll: true });
    function onPointer(event: MouseEvent) {
      const target = event.target as Node;
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) close(false);
    }
    // The menu follows its button when the page scrolls or resizes.
    document.addEventListener('mousedown', onPointer);
    window.addEventListener('resize', place);
    window.addEventListener('scroll', place, true);
    return () => {
      document.removeEventListener('mousedown', onPointer);
      window.removeEventListener('resize', place);
      window.removeEventListener('scroll', place, true);
    };
  }, [open, placed]);

  function close(returnFocus: boolean) {
    setOpen(false);
    setPosition(null);
    if (returnFocus) buttonRef.current?.focus();
  }

  function onMenuKeyDown(event: React.KeyboardEvent) {
    const items = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const index = items.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => items[(to + items.length) % items.length]?.focus();
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        move(index + 1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        move(index - 1);
        break;
      case 'Home':
        event.preventDefault();
        move(0);
        break;
      case 'End':
        event.preventDefault();
        move(items.length - 1);
        break;
      case 'Escape':
        event.preventDefault();
        event.stopPropagation();
        close(true);
        break;
      case 'Tab':
        close(false);
        break;
    }
  }

  return (
    <>
      <button
        ref={buttonRef}
        type="button"
        className={className}
        aria-label={namedByContent ? undefined : label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => (open ? close(false) : setOpen(true))}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' && !open) {
            event.preventDefault();
            setOpen(true);
          }
        }}
      >
        {children}
      </button>
      {open && position
        ? createPortal(
            <div
              ref={menuRef}
              id={menuId}
              role="menu"
              aria-label={label}
              className="menu"
              style={{ top: position.top, left: position.left }}
              onKeyDown={onMenuKeyDown}
            >
              {items.map((item) => (
                <button
                  key={item.label}
                  type="button"
                  role="menuitem"
                  tabIndex={-1}
                  className={`menu-item${item.danger ? ' danger' : ''}`}
                  aria-disabled={item.disabled || undefined}
                  title={item.hint}
                  onClick={() => {
                    if (item.disabled) return;
                    close(true);
                    item.onSelect();
                  }}
                >
                  {item.label}
                  {item.disabled && item.hint ? <span className="menu-hint">{item.hint}</span> : null}
                </button>
              ))}
            </div>,
            document.body,
          )
        : null}
    </>
  );
}
