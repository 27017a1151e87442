import { renderDetails } from './rooms/details';
import { renderMembers } from './members/panel';
import { el, state, type SidePanel } from './state';

// The right-hand column: who is online (always available), or the open room's members or
// details. A room panel closes itself when the room is not a group room any more.

export function showSide(panel: SidePanel) {
  state.side = state.side === panel ? 'people' : panel;
  renderSide();
}

export function renderSide() {
  const room = state.rooms.get(state.currentRoomId ?? '');
  if (!room) state.side = 'people';
  const people = state.side === 'people';
  el.peoplePanel.dataset.side = state.side;
  el.chatView.dataset.side = state.side;
  el.sidePanel.hidden = people;
  el.showMembers.setAttribute('aria-pressed', String(state.side === 'members'));
  el.showDetails.setAttribute('aria-pressed', String(state.side === 'details'));
  if (people) {
    el.sideBody.replaceChildren();
    return;
  }
  if (state.side === 'members') renderMembers(true);
  else renderDetails(true);
}

/** Re-renders the room panel after a change to the open room (an event, a reply). */
export function refreshSide(roomId: string, { reload = false } = {}) {
  if (roomId !== state.currentRoomId || state.side === 'people') return;
  if (state.side === 'members') renderMembers(reload);
  else renderDetails(reload);
}
