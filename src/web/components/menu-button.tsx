/**
 * A button opening a menu of actions (WAI-ARIA menu button pattern): arrow keys, Home and End move
 * between items, Escape closes and gives focus back to the button.
 *
 * @see https://www.w3.org/WAI/ARIA/apg/patterns/menu-button/
 */
import type { JSX, TargetedKeyboardEvent } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';

export interface MenuItem {
  label: string;
  onSelect: () => void;
  danger?: boolean;
  disabled?: boolean;
}

export function MenuButton({
  label,
  items,
  small,
}: {
  label: string;
  items: MenuItem[];
  /** A small button, as in a row of small actions. */
  small?: boolean;
}): JSX.Element {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLUListElement>(null);

  const itemButtons = (): HTMLButtonElement[] =>
    Array.from(menuRef.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]:not([disabled])') ?? []);
  const focusItem = (index: number): void => {
    const buttons = itemButtons();
    if (buttons.length === 0) return;
    buttons[(index + buttons.length) % buttons.length]?.focus();
  };
  const close = (refocus: boolean): void => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  };

  useEffect(() => {
    if (!open) return undefined;
    focusItem(0);
    const onPointer = (event: PointerEvent): void => {
      const target = event.target;
      if (
        target instanceof Node &&
        (menuRef.current?.contains(target) === true || buttonRef.current?.contains(target) === true)
      )
        return;
      setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  const onMenuKey = (event: TargetedKeyboardEvent<HTMLUListElement>): void => {
    const buttons = itemButtons();
    const current = buttons.findIndex((b) => b === document.activeElement);
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        focusItem(current + 1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        focusItem(current - 1);
        break;
      case 'Home':
        event.preventDefault();
        focusItem(0);
        break;
      case 'End':
        event.preventDefault();
        focusItem(buttons.length - 1);
        break;
      case 'Escape':
        event.preventDefault();
        close(true);
        break;
      case 'Tab':
        setOpen(false);
        break;
      default:
        break;
    }
  };

  return (
    <div class="menu">
      <button
        ref={buttonRef}
        type="button"
        class={small === true ? 'button button-small' : 'button'}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen(!open)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            setOpen(true);
          }
        }}
      >
        {label} <span aria-hidden="true">▾</span>
      </button>
      <ul
        ref={menuRef}
        id={menuId}
        role="menu"
        aria-label={label}
        class="menu-list"
        hidden={!open}
        onKeyDown={onMenuKey}
      >
        {items.map((item) => (
          <li key={item.label} role="none">
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              class={item.danger === true ? 'menu-item danger' : 'menu-item'}
              disabled={item.disabled}
              onClick={() => {
                close(false);
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
