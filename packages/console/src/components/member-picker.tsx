import type { Member } from '@keyward/wire';
import { useId, useMemo, useRef, useState } from 'react';
import { roleLabel } from '../lib/format';
import { memberName } from '../lib/keys';

export interface MemberPickerProps {
  readonly label: string;
  readonly members: readonly Member[];
  /** The chosen member's id. */
  readonly value: string;
  readonly onChange: (member: Member) => void;
  /** Marked "(you)" in the list. */
  readonly selfId: string;
  readonly hint?: string;
  readonly loading?: boolean;
}

/** Does the member's name or email contain what was typed (any case)? */
function matches(member: Member, text: string): boolean {
  const needle = text.trim().toLowerCase();
  if (!needle) return true;
  return member.email.toLowerCase().includes(needle) || (member.name ?? '').toLowerCase().includes(needle);
}

/**
 * A searchable member choice (the WAI-ARIA combobox pattern with a list box): typing narrows the list
 * by name or email, ↑ and ↓ move, Enter picks, Escape closes the list and keeps the current choice.
 * Focus stays in the text box throughout; the highlighted option is `aria-activedescendant`.
 */
export function MemberPicker({ label, members, value, onChange, selfId, hint, loading }: MemberPickerProps) {
  const id = useId();
  const listId = `${id}-list`;
  const hintId = `${id}-hint`;
  const inputRef = useRef<HTMLInputElement>(null);
  const [open, setOpen] = useState(false);
  const [text, setText] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const selected = members.find((m) => m.userId === value);
  const describe = (member: Member) => `${memberName(member)}${member.userId === selfId ? ' (you)' : ''}`;
  const shown = text === null ? (selected ? describe(selected) : '') : text;
  const options = useMemo(() => members.filter((m) => matches(m, text ?? '')), [members, text]);
  const optionId = (index: number) => `${id}-option-${index}`;

  function pick(member: Member) {
    onChange(member);
    setText(null);
    setOpen(false);
  }

  function close() {
    setOpen(false);
    setText(null);
  }

  function onKeyDown(event: React.KeyboardEvent<HTMLInputElement>) {
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!open) setOpen(true);
        else setActive((i) => Math.min(options.length - 1, i + 1));
        break;
      case 'ArrowUp':
        event.preventDefault();
        setActive((i) => Math.max(0, i - 1));
        break;
      case 'Enter':
        if (open) {
          // Picking from the list must not submit the dialog's form.
          event.preventDefault();
          const member = options[active];
          if (member) pick(member);
        }
        break;
      case 'Escape':
        if (open || text !== null) {
          // Closes the list only; a second Escape closes the dialog.
          event.preventDefault();
          event.stopPropagation();
          close();
        }
        break;
    }
  }

  return (
    <div className="field member-picker">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <div className="combobox">
        <input
          ref={inputRef}
          id={id}
          className="input"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={open && options[active] ? optionId(active) : undefined}
          aria-describedby={hint ? hintId : undefined}
          autoComplete="off"
          spellCheck={false}
          placeholder={loading ? 'Loading members…' : 'Type a name or email'}
          value={shown}
          onChange={(event) => {
            setText(event.target.value);
            setActive(0);
            setOpen(true);
          }}
          onFocus={(event) => event.target.select()}
          onClick={() => setOpen(true)}
          onBlur={close}
          onKeyDown={onKeyDown}
        />
        {open ? (
          <ul id={listId} role="listbox" aria-label={label} className="combobox-list">
            {options.length === 0 ? (
              <li className="combobox-empty" role="presentation">
                {loading ? 'Loading members…' : 'No member matches.'}
              </li>
            ) : (
              options.map((member, index) => (
                <li
                  key={member.userId}
                  id={optionId(index)}
                  role="option"
                  aria-selected={member.userId === value}
                  className={`combobox-option${index === active ? ' active' : ''}`}
                  // mousedown, not click: the text box's blur would close the list first.
                  onMouseDown={(event) => {
                    event.preventDefault();
                    pick(member);
                  }}
                  onMouseEnter={() => setActive(index)}
                >
                  <span className="combobox-option-name">{member.name ?? member.email}{member.userId === selfId ? ' (you)' : ''}</span>{' '}
                  <span className="combobox-option-detail">
                    {member.name ? `${member.email} · ` : ''}
                    {roleLabel(member.role)}
                  </span>
                </li>
              ))
            )}
          </ul>
        ) : null}
      </div>
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}
