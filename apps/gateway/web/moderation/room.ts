import { act, errorBox, h, openDialog } from '../dom';
import { t } from '../i18n/i18n';
import { client } from '../state';
import { filterEditor } from './filters';
import { roomName } from './people';
import { muteRow } from './user-card';

// A room's own moderation, for its owner and admins (and server staff): the room's content
// filters (added to the server's) and who is muted in the room, with "unmute". Muting someone
// is on their card (member list, message actions).

export function openRoomModeration(roomId: string) {
  const list = h('ul', { class: 'member-list mod-list', testid: 'room-mute-list' });
  const error = errorBox('room-mutes-error');
  const load = async () => {
    const res = await act(null, error, () => client().request('mod.mutes', { roomId }));
    if (!res) return;
    const mutes = res.mutes.filter((m) => m.roomId === roomId);
    list.replaceChildren(
      ...mutes.map((m) => muteRow(m, () => void load())),
      ...(mutes.length ? [] : [h('li', { class: 'muted empty', testid: 'room-mutes-empty', text: t('moderation:room.noMutes') })]),
    );
  };
  void load();
  const dialog = openDialog(
    'room-moderation',
    t('moderation:room.title', { room: roomName(roomId) }),
    h('section', { class: 'card-section' }, h('h3', { text: t('moderation:room.muted') }), error, list),
    h('section', { class: 'card-section' }, h('h3', { text: t('moderation:room.filters') }), filterEditor(roomId)),
  );
  dialog.classList.add('mod-dialog');
}
