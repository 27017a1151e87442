import { el } from './state';

// Narrow screens: the room list and the right-hand panel become drawers.

export function toggleDrawer(panel: HTMLElement, button: HTMLElement) {
  const open = !panel.classList.contains('open');
  closeDrawers();
  if (open) {
    panel.classList.add('open');
    button.setAttribute('aria-expanded', 'true');
    el.scrim.hidden = false;
  }
}

export function closeDrawers() {
  for (const [p, b] of [
    [el.roomsPanel, el.toggleRooms],
    [el.peoplePanel, el.togglePeople],
  ]) {
    p.classList.remove('open');
    b.setAttribute('aria-expanded', 'false');
  }
  el.scrim.hidden = true;
}
