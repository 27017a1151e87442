import type { ConversationView, MessageView, UserView, WsEvents } from '@chat/contracts';
import { act, errorBox, field, h, openDialog, shortTime, toast } from '../dom';
import { t } from '../i18n/i18n';
import { avatarEl } from '../members/avatar';
import { peopleList } from '../members/panel';
import { ownMessage } from '../messages/own';
import { openRoom, renderRoomHeader } from '../messages/view';
import { newClientMsgId } from '../session';
import { client, el, me, state } from '../state';
import { renderSidebar } from '../rooms/sidebar';
import { badges } from '../reads/unread';
import { onPresenceRendered, presenceOf, statusBits } from '../presence/status';

// One-to-one conversations: the list (`dm.list`, newest first, with the last message), new
// ones by username (`dm.send` opens the conversation), live `conversation.opened`, and blocking
// the peer (`user.block` / `user.unblock`, `user.blocks`).

/** History projects conversations asynchronously: after sending a first message the list is read again after these delays. */
const SETTLE_DELAYS_MS = [300, 1500, 5000];

export async function loadConversations() {
  const conn = client();
  try {
    const { conversations } = await conn.request('dm.list', {});
    if (state.client !== conn) return;
    for (const c of conversations) {
      const known = state.conversations.get(c.roomId);
      // A live message newer than the list's (the list is projected and may lag) is kept.
      if (known?.lastMessage && (!c.lastMessage || c.lastMessage.position < known.lastMessage.position)) c.lastMessage = known.lastMessage;
      state.conversations.set(c.roomId, c);
    }
    renderSidebar();
    if (state.currentRoomId && state.conversations.has(state.currentRoomId)) renderRoomHeader();
  } catch {
    // Retried on the next connection; live events still add conversations.
  }
}

export async function loadBlocks() {
  const conn = client();
  try {
    const { blocks } = await conn.request('user.blocks', {});
    if (state.client !== conn) return;
    state.blocks = new Map(blocks.map((b) => [b.userId, b]));
    renderRoomHeader();
    renderSidebar();
  } catch {
    // Unknown until the next connection; the button still works.
  }
}

/** A conversation this page had not seen: the peer wrote first, or another tab of mine did. */
export function onConversationOpened(data: WsEvents['conversation.opened']) {
  if (!data?.roomId || !data.peer) return;
  if (!state.conversations.has(data.roomId)) {
    state.conversations.set(data.roomId, { roomId: data.roomId, peer: data.peer, lastMessage: null });
    renderSidebar();
  }
}

/** A message in a conversation the page does not know yet (its `conversation.opened` may come later, or was missed). */
export function ensureConversation(m: MessageView) {
  if (state.conversations.has(m.roomId)) return;
  const peer: UserView | null = m.senderId !== me()?.userId ? { userId: m.senderId, username: m.senderName } : null;
  if (peer) state.conversations.set(m.roomId, { roomId: m.roomId, peer, lastMessage: m });
  void loadConversations();
}

/** Our message to `peer` was accepted: the conversation exists (maybe new) and has it as last message. */
export function onConversationSent(peer: string, m: MessageView) {
  const known = state.conversations.get(m.roomId);
  if (known) {
    if (!known.lastMessage || known.lastMessage.position < m.position) known.lastMessage = m;
  } else {
    // Its peer's id comes with the list (or conversation.opened); until then the name is enough to show it.
    state.conversations.set(m.roomId, { roomId: m.roomId, peer: { userId: '', username: peer }, lastMessage: m });
    for (const delay of SETTLE_DELAYS_MS) setTimeout(() => state.client?.ready && !peerIdKnown(m.roomId) && loadConversations(), delay);
  }
  renderSidebar();
}

const peerIdKnown = (roomId: string) => !!state.conversations.get(roomId)?.peer.userId;

const newest = (a: ConversationView, b: ConversationView) => (b.lastMessage?.time ?? '').localeCompare(a.lastMessage?.time ?? '');

/** The last message as one line: mine says so, a deleted one says that. */
function previewOf(c: ConversationView): string {
  const last = c.lastMessage;
  if (!last) return t('conversations:preview.none');
  const text = last.deleted ? t('conversations:preview.deleted') : last.body.replace(/\s+/g, ' ');
  return last.senderId === me()?.userId ? t('conversations:preview.you', { text }) : text;
}

/**
 * The conversation list as a chat product shows it: the peer's avatar with their status dot,
 * their name and the time of the last message, their status text, the last message, badges.
 */
export function renderConversations() {
  const items = [...state.conversations.values()].sort(newest);
  el.conversationList.replaceChildren(
    ...items.map((c) => {
      const { unread, nodes: counts } = badges(c.roomId);
      const current = c.roomId === state.currentRoomId;
      const last = c.lastMessage;
      const presence = presenceOf(c.peer.userId);
      const [dot, ...status] = statusBits(presence);
      const blocked = !!state.blocks?.has(c.peer.userId);
      return h(
        'li',
        {
          class: `room conversation${current ? ' current' : ''}${unread ? ' unread' : ''}`,
          testid: `conversation-${c.peer.username}`,
          'data-room-id': c.roomId,
          'data-peer': c.peer.username,
        },
        h(
          'button',
          {
            type: 'button',
            class: 'room-open with-avatar',
            testid: 'open-conversation',
            'aria-current': current ? 'true' : null,
            title: t('conversations:open.title', { name: c.peer.username }),
            onclick: () => openRoom(c.roomId, { fromList: true }),
          },
          h('span', { class: 'avatar-wrap' }, avatarEl(c.peer.userId || c.peer.username, c.peer.username), dot ?? null),
          h(
            'span',
            { class: 'room-text' },
            h(
              'span',
              { class: 'room-line' },
              h('span', { class: 'room-name', text: c.peer.username }),
              blocked
                ? h('span', { class: 'muted blocked-label', testid: 'conversation-blocked', text: t('conversations:blocked') })
                : null,
              last ? h('time', { class: 'muted time', datetime: last.time, text: shortTime(last.time) }) : null,
            ),
            status.length
              ? h('span', { class: 'room-sub peer-status', testid: 'conversation-status', 'data-status': presence?.status }, ...status)
              : null,
            h('span', { class: 'room-sub muted preview', testid: 'conversation-preview', text: previewOf(c) }),
          ),
        ),
        ...counts,
      );
    }),
  );
  if (!items.length)
    el.conversationList.append(h('li', { class: 'empty muted', testid: 'conversations-empty', text: t('conversations:list.empty') }));
}

// A peer's status change redraws the list.
onPresenceRendered.push(() => renderConversations());

/**
 * "Send a message" on a person (the member list): their conversation opens when there is one,
 * else the new-message dialog, addressed to them.
 */
export async function messageTo(peer: UserView) {
  const known = [...state.conversations.values()].find(
    (c) => (peer.userId && c.peer.userId === peer.userId) || c.peer.username === peer.username,
  );
  if (known) await openRoom(known.roomId, { fromList: true });
  else openNewDmDialog(peer.username);
}

/** "New message": a username and a first message; the conversation opens once it is accepted. */
export function openNewDmDialog(username = '') {
  const user = h('input', {
    testid: 'dm-username',
    maxlength: 128,
    required: true,
    spellcheck: 'false',
    autocapitalize: 'none',
    value: username,
    list: 'dm-people',
  }) as HTMLInputElement;
  const body = h('textarea', { testid: 'dm-body', rows: 3, maxlength: 4000, required: true }) as HTMLTextAreaElement;
  const error = errorBox('dm-error');
  const send = h('button', { type: 'submit', class: 'primary', testid: 'dm-send' }, t('conversations:new.send')) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    field(t('conversations:new.to'), user),
    peopleList('dm-people'),
    field(t('conversations:new.message'), body),
    error,
    h('div', { class: 'actions' }, send),
  );
  const dialog = openDialog('new-dm-dialog', t('conversations:new.title'), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const username = user.value.trim();
    await act(send, error, async () => {
      const text = body.value;
      const ack = await client().request('dm.send', { username, clientMsgId: newClientMsgId(), body: text });
      const view = ownMessage(ack, text);
      onConversationSent(username, view);
      dialog.close();
      await openRoom(ack.roomId, { fromList: true });
    });
  });
  (username ? body : user).focus();
}

/** Blocks or unblocks the peer of the open conversation. */
export async function toggleBlock(button: HTMLButtonElement) {
  const c = state.conversations.get(state.currentRoomId ?? '');
  if (!c?.peer.userId) return;
  const peer = c.peer;
  const blocked = !!state.blocks?.has(peer.userId);
  await act(button, el.roomError, async () => {
    if (blocked) {
      await client().request('user.unblock', { userId: peer.userId });
      state.blocks?.delete(peer.userId);
      toast(t('conversations:unblock.done', { name: peer.username }));
    } else {
      await client().request('user.block', { userId: peer.userId });
      (state.blocks ??= new Map()).set(peer.userId, { userId: peer.userId, username: peer.username, time: new Date().toISOString() });
      toast(t('conversations:block.done', { name: peer.username }));
    }
    renderRoomHeader();
    renderSidebar();
  });
}

/** user.blocked / user.unblocked: a block made in another tab of mine. */
export function onBlockEvent(blocked: boolean, data: WsEvents['user.blocked']) {
  if (!data?.userId) return;
  if (blocked) {
    const name = [...state.conversations.values()].find((c) => c.peer.userId === data.userId)?.peer.username ?? '';
    (state.blocks ??= new Map()).set(data.userId, { userId: data.userId, username: name, time: data.time });
  } else state.blocks?.delete(data.userId);
  renderRoomHeader();
  renderSidebar();
}
