import { act, errorBox, h, openDialog } from '../dom';
import { client, roomTitle, state } from '../state';
import { filterEditor } from './filters';
import { muteRow } from './user-card';

// A room's own moderation, for its owner and admins (and server staff): the room's content
// filters (added to the server's) and who is muted in the room, with "unmute". Muting someone
// is on their card (member list, message actions).

export function openRoomModeration(roomId: string) {
  const room = state.rooms.get(roomId);
  const list = h('ul', { class: 'member-list mod-list', testid: 'room-mute-list' });
  const error = errorBox('room-mutes-error');
  const load = async () => {
    const res = await act(null, error, () => client().request('mod.mutes', { roomId }));
    if (!res) return;
    const mutes = res.mutes.filter((m) => m.roomId === roomId);
    list.replaceChildren(
      ...mutes.map((m) => muteRow(m, () => void load())),
      ...(mutes.length ? [] : [h('li', { class: 'muted empty', testid: 'room-mutes-empty', text: 'Nobody is muted in this room.' })]),
    );
  };
  void load();
  const dialog = openDialog(
    'room-moderation',
    `Moderation of ${room ? roomTitle(room) : roomId}`,
    h('section', { class: 'card-section' }, h('h3', { text: 'Muted in this room' }), error, list),
    h('section', { class: 'card-section' }, h('h3', { text: 'Filters of this room' }), filterEditor(roomId)),
  );
  dialog.classList.add('mod-dialog');
}
