import type { MessageView } from '@chat/contracts';
import { h } from '../dom';
import { t } from '../i18n/i18n';
import { me } from '../state';
import { frequentEmoji, parseUsage, PICKER_CATEGORIES, recordUse } from './picker-data';

// The emoji picker of a message's "react" action: a "frequently used" row, then about forty
// emoji in four categories. A dialog with a grid of buttons: the arrow keys move between them
// (Up and Down by row, as they are laid out), Home and End go to the first and last, Enter or
// Space picks, Escape or Tab away closes and gives the focus back to the action that opened it.

const USAGE_KEY = 'chat.emoji.usage';

let open: { picker: HTMLElement; opener: HTMLElement } | null = null;

function readUsage() {
  try {
    return parseUsage(localStorage.getItem(USAGE_KEY));
  } catch {
    return {};
  }
}

function noteUse(emoji: string) {
  try {
    localStorage.setItem(USAGE_KEY, JSON.stringify(recordUse(readUsage(), emoji)));
  } catch {
    // storage full or disabled: the row just does not learn
  }
}

export function closePicker(refocus = false) {
  if (!open) return;
  const { picker, opener } = open;
  open = null;
  // The message may have been redrawn meanwhile: its react button is then a new one.
  const back = opener.isConnected ? opener : picker.closest('.message')?.querySelector<HTMLElement>('[data-testid="react"]');
  picker.remove();
  if (refocus) back?.focus();
}

export const pickerOpen = () => !!open;

document.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const onReact = target.closest?.('[data-testid="react"]') && target.closest('.message') === open?.picker.closest('.message');
  if (open && !open.picker.contains(target) && !onReact) closePicker();
});

/** Opens the picker under a message's react button; `pick` is called with the chosen emoji. */
export function openPicker(m: MessageView, opener: HTMLElement, pick: (emoji: string) => void) {
  const wasOpen = !!open && open.picker.closest('.message') === opener.closest('.message');
  closePicker();
  if (wasOpen) return; // the react button toggles it
  const myId = me()?.userId ?? '';
  const mine = (emoji: string) => !!m.reactions?.find((r) => r.emoji === emoji)?.userIds.includes(myId);
  const button = (emoji: string, testid: string) =>
    h(
      'button',
      {
        type: 'button',
        class: `picker-emoji${mine(emoji) ? ' mine' : ''}`,
        testid,
        'data-emoji': emoji,
        'aria-pressed': String(mine(emoji)),
        tabindex: -1,
        title: emoji,
        onclick: () => {
          noteUse(emoji);
          closePicker(true);
          pick(emoji);
        },
      },
      emoji,
    );
  const section = (id: string, title: string, emoji: string[], testid: string) =>
    h(
      'div',
      { class: 'picker-section', role: 'group', 'aria-labelledby': `picker-${id}` },
      h('div', { class: 'picker-heading muted', id: `picker-${id}`, text: title }),
      h('div', { class: 'picker-grid' }, ...emoji.map((e) => button(e, testid))),
    );
  const picker = h(
    'div',
    { class: 'emoji-picker', testid: 'emoji-picker', role: 'dialog', 'aria-label': t('messages:picker.label') },
    section('frequent', t('messages:picker.frequent'), frequentEmoji(readUsage()), 'picker-frequent'),
    ...PICKER_CATEGORIES.map((c) => section(c.id, t(`messages:picker.${c.id}`), [...c.emoji], 'picker-emoji')),
  );
  picker.addEventListener('keydown', (e) => onKey(e, picker));
  // Tabbing or clicking away closes it; checked a moment later, as a redraw of the message
  // takes the picker out and puts it back with its focus.
  picker.addEventListener('focusout', () =>
    setTimeout(() => {
      if (open?.picker === picker && !picker.contains(document.activeElement)) closePicker();
    }),
  );
  opener.closest('.message')?.append(picker);
  open = { picker, opener };
  focusButton(picker, 0);
}

const buttonsOf = (picker: HTMLElement) => [...picker.querySelectorAll<HTMLButtonElement>('.picker-emoji')];

function focusButton(picker: HTMLElement, i: number) {
  const buttons = buttonsOf(picker);
  const target = buttons[Math.max(0, Math.min(i, buttons.length - 1))];
  if (!target) return;
  for (const b of buttons) b.tabIndex = b === target ? 0 : -1;
  target.focus();
}

/** The button in the next row up or down (as laid out on screen) nearest in column. */
function vertical(buttons: HTMLButtonElement[], from: HTMLButtonElement, down: boolean): number {
  const here = from.getBoundingClientRect();
  const rows = buttons
    .map((b, i) => ({ i, r: b.getBoundingClientRect() }))
    .filter(({ r }) => (down ? r.top > here.top + 2 : r.top < here.top - 2));
  if (!rows.length) return buttons.indexOf(from);
  const rowTop = down ? Math.min(...rows.map((x) => x.r.top)) : Math.max(...rows.map((x) => x.r.top));
  const row = rows.filter((x) => Math.abs(x.r.top - rowTop) < 2);
  row.sort((a, b) => Math.abs(a.r.left - here.left) - Math.abs(b.r.left - here.left));
  return row[0].i;
}

function onKey(e: KeyboardEvent, picker: HTMLElement) {
  const buttons = buttonsOf(picker);
  const current = buttons.indexOf(document.activeElement as HTMLButtonElement);
  let next: number | null = null;
  if (e.key === 'ArrowRight') next = current + 1;
  else if (e.key === 'ArrowLeft') next = current - 1;
  else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') next = vertical(buttons, buttons[Math.max(current, 0)], e.key === 'ArrowDown');
  else if (e.key === 'Home') next = 0;
  else if (e.key === 'End') next = buttons.length - 1;
  else if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    closePicker(true);
    return;
  } else return;
  e.preventDefault();
  focusButton(picker, next);
}
