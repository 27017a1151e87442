import type { ChatClient } from '@chat/client';
import type { HistoryPage, MessageView } from '@chat/contracts';
import { codeOf, fullTime, h, plural, shortTime, showError } from '../dom';
import { closeDrawers } from '../layout';
import { prefs } from '../session';
import { el, isConversation, isMember, mayPost, me, roomTitle, state, client } from '../state';
import { Timeline } from '../timeline';
import { renderSidebar } from '../rooms/sidebar';
import { renderSide } from '../side';
import { renderPending, settleOutbox } from './outbox';

// The open room or conversation: its header, its messages (history pages stitched to live
// events), and whether the composer is usable.

const PAGE_SIZE = 50;
/** After a reconnect, older pages fetched at most to close the gap to what we had; beyond it the view restarts at the newest page. */
const MAX_CATCH_UP_PAGES = 10;
/**
 * History is projected from the stream asynchronously and can lag it by a moment, so a message
 * posted just before this connection's live subscription started may be missing from the
 * newest page read right after (re)connecting. The newest page is read again after these delays.
 */
const SETTLE_DELAYS_MS = [1000, 4000];

export function renderRoomHeader() {
  const id = state.currentRoomId;
  const room = state.rooms.get(id ?? '');
  const conversation = state.conversations.get(id ?? '');
  const connected = !!state.client?.ready;
  el.showMembers.hidden = el.showDetails.hidden = true;
  el.blockPeer.hidden = true;
  el.roomRole.hidden = true;
  if (conversation) {
    const blocked = !!state.blocks?.has(conversation.peer.userId);
    el.roomName.textContent = `@ ${conversation.peer.username}`;
    el.roomMeta.textContent = blocked ? 'Direct message · you block this user' : 'Direct message';
    el.joinRoom.hidden = el.leaveRoom.hidden = true;
    el.blockPeer.hidden = !conversation.peer.userId;
    el.blockPeer.textContent = blocked ? 'Unblock' : 'Block';
    el.blockPeer.dataset.blocked = String(blocked);
    el.placeholder.textContent = '';
    el.placeholder.hidden = true;
  } else if (!room) {
    el.roomName.textContent = id ? `# ${id}` : 'Pick a room';
    el.roomMeta.textContent = '';
    el.joinRoom.hidden = el.leaveRoom.hidden = true;
    el.placeholder.textContent = state.rooms.size ? 'Pick or join a room on the left.' : connected ? 'No rooms yet.' : '';
    el.placeholder.hidden = false;
  } else {
    el.roomName.textContent = roomTitle(room);
    el.roomMeta.textContent = [room.topic, plural(room.memberCount, 'member'), room.postPolicy === 'admins' ? 'announcements' : null]
      .filter(Boolean)
      .join(' · ');
    el.roomRole.hidden = !room.myRole;
    el.roomRole.textContent = room.myRole ?? '';
    el.roomRole.dataset.role = room.myRole ?? '';
    el.joinRoom.hidden = !!room.myRole;
    el.leaveRoom.hidden = !room.myRole;
    el.showMembers.hidden = el.showDetails.hidden = false;
    el.placeholder.textContent = room.myRole ? '' : 'Join this room to read and post messages.';
    el.placeholder.hidden = !!room.myRole;
  }
  el.roomView.dataset.roomId = id ?? '';
  el.roomView.dataset.kind = conversation ? 'direct' : room ? 'group' : '';
  updateComposer();
}

export function updateComposer() {
  const id = state.currentRoomId;
  const can = mayPost(id);
  const room = state.rooms.get(id ?? '');
  // Writing stays possible while reconnecting: the message waits in the outbox.
  el.input.disabled = !can;
  el.send.disabled = !can;
  const announcement = !!room?.myRole && !can;
  el.composerNote.hidden = !announcement;
  el.composerNote.textContent = announcement ? 'Only admins can post in this announcement room.' : '';
  el.input.placeholder = can
    ? state.client?.ready
      ? 'Write a message…'
      : 'Write a message… (sent when reconnected)'
    : announcement
      ? 'Only admins can post here'
      : id
        ? 'Join the room to post'
        : 'Pick a room';
}

export async function openRoom(roomId: string, { fromList = false } = {}) {
  const switching = roomId !== state.currentRoomId;
  state.currentRoomId = roomId;
  prefs.set('room', roomId);
  state.unread.delete(roomId);
  if (fromList) closeDrawers();
  showError(el.roomError, null);
  renderSidebar();
  renderRoomHeader();
  if (switching) renderSide();
  if (!isMember(roomId)) {
    state.messageEls.clear();
    el.messageList.replaceChildren();
    el.messageList.dataset.roomId = '';
    renderPending();
    renderHistoryEdge();
    return;
  }
  let tl = state.timelines.get(roomId);
  if (!tl) state.timelines.set(roomId, (tl = new Timeline(roomId)));
  if (switching || el.messageList.dataset.roomId !== roomId) {
    renderMessages();
    scrollToBottom();
  }
  // One catch-up at a time per room (a join and its own member.joined event both open the room).
  if (!tl.fresh) await (tl.catchingUp ??= catchUp(tl).finally(() => (tl.catchingUp = null)));
  if (switching && !el.input.disabled) el.input.focus({ preventScroll: true });
}

/** The open room is gone (left, kicked, deleted): show nothing in its place. */
export function closeRoom() {
  state.currentRoomId = null;
  prefs.set('room', null);
  renderRoomHeader();
  renderMessages();
  renderSide();
}

/**
 * Loads the newest page and, when messages were missed while away (the newest page does not
 * reach what we already had), older pages back to it. A gap too large to close restarts the
 * room at its newest page.
 */
async function catchUp(tl: Timeline) {
  const conn = client();
  el.messageList.dataset.state = 'loading';
  const hadNewest = tl.newestPosition;
  try {
    let page = await conn.request('history.page', { roomId: tl.roomId, limit: PAGE_SIZE });
    const firstLoad = tl.nextBefore === undefined;
    const pages = [page];
    let pagesLeft = MAX_CATCH_UP_PAGES;
    const reaches = (p: HistoryPage) =>
      !p.messages.length || p.nextBefore === null || p.messages[p.messages.length - 1].position <= hadNewest;
    while (!firstLoad && hadNewest && !reaches(page) && pagesLeft-- > 0) {
      page = await conn.request('history.page', { roomId: tl.roomId, before: page.nextBefore ?? undefined, limit: PAGE_SIZE });
      pages.push(page);
    }
    if (!firstLoad && hadNewest && !reaches(page)) {
      // Too much was missed to stitch together: start over from the newest page.
      tl.clear();
      pages.length = 1;
      page = pages[0];
      if (tl.roomId === state.currentRoomId) renderMessages();
    }
    if (tl.nextBefore === undefined) tl.nextBefore = pages[pages.length - 1].nextBefore;
    tl.fresh = true;
    settle(tl, conn);
    if (tl.roomId === state.currentRoomId) {
      const stick = firstLoad || nearBottom();
      for (const p of pages) addMessages(tl, p.messages);
      renderHistoryEdge();
      if (stick) scrollToBottom();
    } else for (const p of pages) for (const m of p.messages) tl.insert(m);
  } catch (err) {
    if (tl.roomId === state.currentRoomId && codeOf(err) !== 'UNAVAILABLE') showError(el.roomError, err);
  } finally {
    if (tl.roomId === state.currentRoomId) el.messageList.dataset.state = 'ready';
  }
}

function settle(tl: Timeline, conn: ChatClient) {
  for (const delay of SETTLE_DELAYS_MS) {
    setTimeout(async () => {
      if (state.client !== conn || !conn.ready || state.timelines.get(tl.roomId) !== tl) return;
      try {
        const page = await conn.request('history.page', { roomId: tl.roomId, limit: PAGE_SIZE });
        if (state.timelines.get(tl.roomId) !== tl) return;
        const stick = tl.roomId === state.currentRoomId && nearBottom();
        addMessages(tl, page.messages);
        if (stick) scrollToBottom();
      } catch {
        // The next reconnect catches up anyway.
      }
    }, delay);
  }
}

export async function loadOlder() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  if (!tl || tl.loadingOlder || tl.nextBefore === null || tl.nextBefore === undefined || !state.client?.ready) return;
  tl.loadingOlder = true;
  el.loadOlder.disabled = true;
  el.loadOlder.textContent = 'Loading…';
  try {
    const page = await client().request('history.page', { roomId: tl.roomId, before: tl.nextBefore, limit: PAGE_SIZE });
    tl.nextBefore = page.nextBefore;
    if (tl.roomId === state.currentRoomId) {
      // Keep what the reader is looking at in place while content is added above it.
      const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
      addMessages(tl, page.messages);
      renderHistoryEdge();
      el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom;
    } else for (const m of page.messages) tl.insert(m);
  } catch (err) {
    showError(el.roomError, err);
  } finally {
    tl.loadingOlder = false;
    el.loadOlder.disabled = false;
    el.loadOlder.textContent = 'Load older messages';
  }
}

function renderHistoryEdge() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  const member = isMember(state.currentRoomId);
  const more = member && !!tl && tl.nextBefore !== null && tl.nextBefore !== undefined;
  el.loadOlder.hidden = !more;
  el.historyStart.hidden = !(member && tl && tl.nextBefore === null);
  el.historyStart.textContent = isConversation(state.currentRoomId)
    ? 'This is the beginning of the conversation.'
    : 'This is the beginning of the room.';
  el.scroller.dataset.hasOlder = String(more);
}

export function nearBottom() {
  return el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight < 80;
}

export function scrollToBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
}

function messageEl(m: MessageView) {
  const mine = m.senderId === me()?.userId;
  return h(
    'li',
    {
      class: `message${mine ? ' mine' : ''}`,
      testid: 'message',
      'data-message-id': m.messageId,
      'data-position': m.position,
      'data-sender-id': m.senderId,
    },
    h(
      'div',
      { class: 'message-head' },
      h('span', { class: 'sender', testid: 'message-sender', text: m.senderName }),
      h('time', { class: 'time muted', datetime: m.time, title: fullTime(m.time), text: shortTime(m.time) }),
    ),
    h('div', { class: 'body', testid: 'message-body', text: m.body }),
  );
}

/** Inserts messages into the timeline and, for the open room, into the list at their position. */
export function addMessages(tl: Timeline, messages: MessageView[]) {
  const onScreen = tl.roomId === state.currentRoomId && el.messageList.dataset.roomId === tl.roomId;
  for (const m of messages) {
    const i = tl.insert(m);
    settleOutbox(m);
    if (i < 0 || !onScreen) continue;
    const node = messageEl(m);
    state.messageEls.set(m.messageId, node);
    const next = tl.messages[i + 1];
    el.messageList.insertBefore(node, next ? (state.messageEls.get(next.messageId) ?? null) : null);
  }
}

export function renderMessages() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  state.messageEls.clear();
  el.messageList.dataset.roomId = state.currentRoomId ?? '';
  const nodes = (tl?.messages ?? []).map((m) => {
    const node = messageEl(m);
    state.messageEls.set(m.messageId, node);
    return node;
  });
  el.messageList.replaceChildren(...nodes);
  renderPending();
  renderHistoryEdge();
}

/** A message arrived live (a room's or a conversation's). */
export function onMessage(m: MessageView) {
  if (!m || typeof m.messageId !== 'string') return;
  const tl = state.timelines.get(m.roomId);
  const conversation = state.conversations.get(m.roomId);
  // The conversation list shows each conversation's newest message.
  if (conversation && (!conversation.lastMessage || conversation.lastMessage.position < m.position)) conversation.lastMessage = m;
  if (!tl) {
    settleOutbox(m);
    if (m.roomId !== state.currentRoomId && m.senderId !== me()?.userId) bumpUnread(m.roomId);
    else if (conversation) renderSidebar();
    return;
  }
  const current = m.roomId === state.currentRoomId;
  const stick = current && (nearBottom() || m.senderId === me()?.userId);
  const known = tl.ids.has(m.messageId);
  addMessages(tl, [m]);
  if (!current && !known && m.senderId !== me()?.userId) bumpUnread(m.roomId);
  else if (conversation) renderSidebar();
  if (stick) scrollToBottom();
}

function bumpUnread(roomId: string) {
  state.unread.set(roomId, (state.unread.get(roomId) ?? 0) + 1);
  renderSidebar();
}
