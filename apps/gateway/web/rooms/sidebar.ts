import type { RoomSummary } from '@chat/contracts';
import { act, codeOf, h, showError, toast } from '../dom';
import { t } from '../i18n/i18n';
import { renderConversations } from '../conversations/list';
import { closeRoom, openRoom, renderRoomHeader } from '../messages/view';
import { refreshSide } from '../side';
import { client, el, me, roomTitle, state } from '../state';
import { renderInvitations } from './invitations';
import { badges } from '../reads/unread';
import { refreshContactsSoon } from '../presence/status';

// The left column: my rooms, pending invitations, conversations, and the public rooms I have
// not joined. Rooms come from `room.mine` (mine, with my role) and `rooms.list` (mine plus the
// public ones); when one of them is refused the other still fills the list.

export async function loadRooms() {
  const conn = client();
  const [listed, mine] = await Promise.allSettled([conn.request('rooms.list', {}), conn.request('room.mine', {})]);
  if (state.client !== conn) return;
  if (listed.status === 'rejected' && mine.status === 'rejected') {
    const err = listed.reason;
    if (codeOf(err) !== 'UNAVAILABLE' || state.client?.ready) showError(el.roomError, err);
    return;
  }
  const rooms = new Map<string, RoomSummary>();
  // Listed rooms I am not a member of are the public ones; room.mine is the truth about mine.
  if (listed.status === 'fulfilled')
    for (const r of listed.value.rooms) if (mine.status === 'rejected' || !r.myRole) rooms.set(r.roomId, r);
  if (mine.status === 'fulfilled') for (const r of mine.value.rooms) rooms.set(r.roomId, r);
  state.rooms = rooms;
  renderSidebar();
  renderRoomHeader();
}

// No event tells about a public room someone else created: besides the frame's periodic read,
// the list is read again whenever the room list comes into view (the phone's rooms drawer
// opening, the page shown again), at most every SHOWN_REFRESH_MS.
const SHOWN_REFRESH_MS = 5_000;
let shownRefreshAt = 0;
new IntersectionObserver((entries) => {
  if (!entries.some((e) => e.isIntersecting) || !state.client?.ready || Date.now() - shownRefreshAt < SHOWN_REFRESH_MS) return;
  shownRefreshAt = Date.now();
  void loadRooms();
}).observe(el.roomList);

export function renderSidebar() {
  renderRooms();
  renderInvitations();
  renderConversations();
}

const byName = (a: RoomSummary, b: RoomSummary) => a.name.localeCompare(b.name) || a.roomId.localeCompare(b.roomId);

function renderRooms() {
  const all = [...state.rooms.values()];
  const mine = all.filter((r) => r.myRole).sort(byName);
  const others = all.filter((r) => !r.myRole).sort(byName);
  el.roomList.replaceChildren(...mine.map(roomItem));
  el.publicList.replaceChildren(...others.map(roomItem));
  el.publicHead.hidden = others.length === 0;
  if (!mine.length) el.roomList.append(h('li', { class: 'empty muted', testid: 'rooms-empty', text: t('rooms:sidebar.empty') }));
}

/**
 * A room of the sidebar: its name and badges, as a chat product lists them. A public room I
 * have not joined says how many members it has, with Join next to it (which says the rest).
 */
function roomItem(r: RoomSummary) {
  const member = !!r.myRole;
  const { unread, nodes: counts } = badges(r.roomId);
  const current = r.roomId === state.currentRoomId;
  return h(
    'li',
    {
      class: `room${current ? ' current' : ''}${member ? ' member' : ''}${unread ? ' unread' : ''}`,
      testid: `room-${r.roomId}`,
      'data-member': String(member),
      'data-role': r.myRole ?? '',
      'data-room-id': r.roomId,
    },
    h(
      'button',
      {
        type: 'button',
        class: 'room-open',
        testid: `open-${r.roomId}`,
        'aria-current': current ? 'true' : null,
        title: r.topic || null,
        onclick: () => openRoom(r.roomId, { fromList: true }),
      },
      h('span', { class: 'room-name', text: roomTitle(r) }),
      member
        ? null
        : h('span', {
            class: 'room-sub muted',
            text: t('rooms:members', { count: r.memberCount }),
          }),
    ),
    ...(member ? counts : []),
    member
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'small',
            testid: `join-${r.roomId}`,
            title: t('rooms:sidebar.join.title', { room: r.name }),
            onclick: () => joinRoom(r.roomId),
          },
          t('rooms:join'),
        ),
  );
}

export async function joinRoom(roomId: string, errorEl: HTMLElement | null = el.roomError) {
  if (errorEl) showError(errorEl, null);
  try {
    const ack = await client().request('room.join', { roomId });
    state.rooms.set(ack.room.roomId, ack.room);
  } catch (err) {
    if (codeOf(err) !== 'ALREADY_MEMBER') {
      if (errorEl) showError(errorEl, err);
      else throw err;
      return;
    }
    await loadRooms();
  }
  renderSidebar();
  await openRoom(roomId, { fromList: true });
}

export async function leaveRoom(roomId: string, button: HTMLButtonElement | null = null) {
  showError(el.roomError, null);
  await act(button, el.roomError, async () => {
    try {
      await client().request('room.leave', { roomId });
    } catch (err) {
      if (codeOf(err) !== 'NOT_MEMBER') throw err;
    }
    state.timelines.delete(roomId);
    // Its members may share no other room with me: the people column is read again.
    refreshContactsSoon();
    await loadRooms();
    if (state.currentRoomId === roomId) {
      if (state.rooms.has(roomId)) await openRoom(roomId);
      else closeRoom();
    }
  });
}

/**
 * I am no longer a member (kicked, banned, deleted, left elsewhere): the room leaves my list
 * (a public room stays, as one I may join, unless it is gone or I am banned), with a notice.
 */
export function dropRoom(roomId: string, notice: string | null, { gone = false } = {}) {
  const room = state.rooms.get(roomId);
  state.timelines.delete(roomId);
  state.outbox = state.outbox.filter((o) => o.roomId !== roomId);
  if (room && !gone && room.visibility === 'public') {
    room.myRole = null;
    room.memberCount = Math.max(0, room.memberCount - 1);
  } else state.rooms.delete(roomId);
  if (notice) toast(notice);
  renderSidebar();
  if (state.currentRoomId === roomId) {
    if (state.rooms.has(roomId)) void openRoom(roomId);
    else closeRoom();
  }
}

/** A room's summary changed (an event or a reply): show it. */
export function roomChanged(roomId: string, { reloadSide = false } = {}) {
  renderSidebar();
  if (roomId === state.currentRoomId) renderRoomHeader();
  refreshSide(roomId, { reload: reloadSide });
}

export const isMe = (userId: string) => userId === me()?.userId;
