import { el, state } from './state';

// Narrow screens: the room list (at most 700 px wide) and the right-hand column (at most
// 1000 px) become drawers. A closed drawer is `inert` and aria-hidden: out of the Tab order and
// of what a screen reader reads. Opening one moves the focus into it; Escape closes it and gives
// the focus back to its toggle. Narrowing the window while the right-hand column shows a room's
// members or details opens it as a drawer (otherwise they would be off-screen). On a phone, the
// room header's secondary actions are a menu behind "⋯".

const ROOMS_DRAWER = '(max-width: 700px)';
const PEOPLE_DRAWER = '(max-width: 1000px)';
const ROOM_MENU = '(max-width: 700px)';

interface Drawer {
  panel: HTMLElement;
  button: HTMLElement;
  query: MediaQueryList;
}

let drawers: Drawer[] = [];
const drawerOf = (panel: HTMLElement) => drawers.find((d) => d.panel === panel);
const isOpen = (d: Drawer) => d.query.matches && d.panel.classList.contains('open');

/** inert / aria-hidden / aria-expanded and the scrim, from what is open and what is a drawer now. */
function sync() {
  for (const d of drawers) {
    if (!d.query.matches) d.panel.classList.remove('open');
    const hiddenAway = d.query.matches && !d.panel.classList.contains('open');
    d.panel.inert = hiddenAway;
    if (hiddenAway) d.panel.setAttribute('aria-hidden', 'true');
    else d.panel.removeAttribute('aria-hidden');
    d.button.setAttribute('aria-expanded', String(isOpen(d)));
  }
  el.scrim.hidden = !drawers.some(isOpen);
}

const FOCUSABLE = 'button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';

/** Opens a drawer (closing the other); the focus moves to its first control unless `focus` is false. */
export function openDrawer(panel: HTMLElement, { focus = true } = {}) {
  const d = drawerOf(panel);
  if (!d?.query.matches) return;
  for (const other of drawers) other.panel.classList.remove('open');
  panel.classList.add('open');
  sync();
  if (!focus) return;
  const first = [...panel.querySelectorAll<HTMLElement>(FOCUSABLE)].find((c) => !c.closest('[hidden]') && c.getClientRects().length > 0);
  (first ?? panel).focus({ preventScroll: true });
}

export function toggleDrawer(panel: HTMLElement) {
  const d = drawerOf(panel);
  if (d && isOpen(d)) closeDrawers({ returnFocus: true });
  else openDrawer(panel);
}

/** Closes the open drawer; `returnFocus` gives the focus back to its toggle (Escape, the toggle). */
export function closeDrawers({ returnFocus = false } = {}) {
  const open = drawers.find(isOpen);
  for (const d of drawers) d.panel.classList.remove('open');
  sync();
  if (open && returnFocus) open.button.focus();
}

// ---------------------------------------------------------------- the room header's "⋯" menu

function setRoomMenu(open: boolean, { returnFocus = false } = {}) {
  el.roomActions.classList.toggle('open', open);
  el.roomMore.setAttribute('aria-expanded', String(open));
  // The first action button, never the date field: focusing it on a phone opens the date picker.
  if (open) el.roomActions.querySelector<HTMLElement>(':scope > button:not([hidden])')?.focus();
  else if (returnFocus) el.roomMore.focus();
}

/** "⋯" is there when the menu has anything to show. */
function syncRoomMenu() {
  el.roomMore.hidden = [...el.roomActions.children].every((c) => (c as HTMLElement).hidden);
  if (el.roomMore.hidden) setRoomMenu(false);
}

export function initDrawers() {
  drawers = [
    { panel: el.roomsPanel, button: el.toggleRooms, query: matchMedia(ROOMS_DRAWER) },
    { panel: el.peoplePanel, button: el.togglePeople, query: matchMedia(PEOPLE_DRAWER) },
  ];
  for (const d of drawers) {
    // Focusable itself, for a drawer with no control in it yet.
    d.panel.tabIndex = -1;
    d.query.addEventListener('change', () => {
      sync();
      if (d.panel === el.peoplePanel && d.query.matches && state.side !== 'people') openDrawer(d.panel, { focus: false });
    });
  }
  sync();

  const menuQuery = matchMedia(ROOM_MENU);
  menuQuery.addEventListener('change', () => setRoomMenu(false));
  el.roomMore.addEventListener('click', () => setRoomMenu(!el.roomActions.classList.contains('open')));
  // A chosen action closes the menu (the date field stays open while it is being filled in).
  el.roomActions.addEventListener('click', (e) => {
    if (menuQuery.matches && (e.target as HTMLElement).closest('button')) setRoomMenu(false);
  });
  document.addEventListener('click', (e) => {
    const t = e.target as Node;
    if (el.roomActions.classList.contains('open') && !el.roomActions.contains(t) && !el.roomMore.contains(t)) setRoomMenu(false);
  });
  new MutationObserver(syncRoomMenu).observe(el.roomActions, { attributes: true, attributeFilter: ['hidden'], subtree: true });
  syncRoomMenu();

  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || document.querySelector('dialog[open]')) return;
    if (el.roomActions.classList.contains('open')) return setRoomMenu(false, { returnFocus: true });
    if (drawers.some(isOpen)) closeDrawers({ returnFocus: true });
  });
}
