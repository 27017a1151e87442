import type { InvitationView } from '@chat/contracts';
import { act, codeOf, h, shortTime, toast } from '../dom';
import { t } from '../i18n/i18n';
import { openRoom } from '../messages/view';
import { client, el, state } from '../state';
import { loadRooms, renderSidebar } from './sidebar';

// Pending invitations: listed on connect (`invitation.list`), added live (`invitation.received`),
// accepted (the room opens) or declined from the sidebar.

export async function loadInvitations() {
  const conn = client();
  try {
    const { invitations } = await conn.request('invitation.list', {});
    if (state.client !== conn) return;
    state.invitations = new Map(invitations.map((i) => [i.roomId, i]));
    renderInvitations();
  } catch {
    // Older servers or a slow rooms service: the list stays as it was; live invitations still arrive.
  }
}

export function onInvitation(inv: InvitationView) {
  if (!inv?.roomId) return;
  const known = state.invitations.has(inv.roomId);
  state.invitations.set(inv.roomId, inv);
  renderInvitations();
  if (!known) toast(t('rooms:invitation.received', { name: inv.invitedBy.username, room: inv.roomName }));
}

/** The invitation ended elsewhere (accepted or declined in another tab, or the room went away). */
export function dropInvitation(roomId: string) {
  if (state.invitations.delete(roomId)) renderInvitations();
}

export function renderInvitations() {
  const items = [...state.invitations.values()].sort((a, b) => b.time.localeCompare(a.time));
  el.invitationsHead.hidden = items.length === 0;
  el.invitationList.replaceChildren(
    ...items.map((inv) => {
      const accept = h(
        'button',
        { type: 'button', class: 'small primary', testid: `accept-${inv.roomId}` },
        t('rooms:invitation.accept'),
      ) as HTMLButtonElement;
      const decline = h(
        'button',
        { type: 'button', class: 'small', testid: `decline-${inv.roomId}` },
        t('rooms:invitation.decline'),
      ) as HTMLButtonElement;
      accept.onclick = () => act(accept, null, () => accept_(inv.roomId));
      decline.onclick = () => act(decline, null, () => decline_(inv.roomId));
      return h(
        'li',
        { class: 'invitation', testid: `invitation-${inv.roomId}`, 'data-room-id': inv.roomId },
        h('span', { class: 'room-name', text: `🔒 ${inv.roomName}`, title: t('rooms:sidebar.private') }),
        h('span', {
          class: 'room-sub muted',
          text: t('rooms:invitation.from', { name: inv.invitedBy.username, time: shortTime(inv.time) }),
        }),
        h('span', { class: 'invitation-actions' }, accept, decline),
      );
    }),
  );
}

async function accept_(roomId: string) {
  try {
    const ack = await client().request('invitation.accept', { roomId });
    state.rooms.set(ack.room.roomId, ack.room);
  } catch (err) {
    // The invitation is gone (declined elsewhere, banned, deleted): take it off the list too.
    if (codeOf(err) === 'NOT_FOUND') dropInvitation(roomId);
    if (codeOf(err) !== 'ALREADY_MEMBER') throw err;
    await loadRooms();
  }
  state.invitations.delete(roomId);
  renderSidebar();
  await openRoom(roomId, { fromList: true });
}

async function decline_(roomId: string) {
  try {
    await client().request('invitation.decline', { roomId });
  } catch (err) {
    if (codeOf(err) !== 'NOT_FOUND') throw err;
  }
  dropInvitation(roomId);
}
