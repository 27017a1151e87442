import type { MessageView, PostAck } from '@chat/contracts';
import { ChatClientError } from '@chat/client';
import { codeOf, h, showError, toastError } from '../dom';
import { t } from '../i18n/i18n';
import { durationText, retryAfterOf } from '../moderation/format';
import { refreshStandingSoon } from '../moderation/standing';
import { client, el, me, state, type OutboxItem } from '../state';
import { newClientMsgId } from '../session';
import { addMessages, jumpToPresent, keepDraft, nearBottom, scrollToBottom } from './view';
import { onConversationSent } from '../conversations/list';
import { setReplyTo } from './actions';
import { ownMessage } from './own';
import { continuesGroup } from './grouping';
import { avatarEl } from '../members/avatar';
import { plainExcerpt } from './excerpt';
import { stopTyping } from './typing';

// Messages written in this tab until the server acknowledges them: sent in order, retried with
// the same clientMsgId (the server de-duplicates), and shown with their error when refused.

/** Send errors worth retrying with the same clientMsgId (the server de-duplicates the resend). */
const RETRYABLE = new Set(['UNAVAILABLE', 'RATE_LIMITED', 'CONFLICT']);

export function submitMessage(e?: Event) {
  e?.preventDefault();
  const roomId = state.currentRoomId;
  const body = el.input.value;
  if (!roomId || !body.trim() || el.input.disabled) return;
  const peer = state.conversations.get(roomId)?.peer.username;
  const replyTo = state.replyTo?.roomId === roomId ? state.replyTo : undefined;
  queueMessage({ roomId, peer, body, replyTo });
  stopTyping(roomId);
  setReplyTo(null);
  el.input.value = '';
  keepDraft();
  autoGrow();
  // Sending while reading in the past goes back to the present, where the message will be.
  if (state.timelines.get(roomId)?.detached) void jumpToPresent();
  else scrollToBottom();
}

/** Queues a message for a room (or, with `peer`, a conversation) and sends it when connected. */
export function queueMessage(m: { roomId: string; peer?: string; body: string; replyTo?: MessageView }): OutboxItem {
  const item: OutboxItem = { clientMsgId: newClientMsgId(), ...m, state: 'queued', error: null, attempts: 0 };
  state.outbox.push(item);
  renderPending();
  flushOutbox();
  return item;
}

/**
 * Sends the next queued message of each room (or conversation): one at a time, in the order
 * written. Not pipelined, because a refusal to retry (a rate limit, slow mode, a busy backend)
 * would let the message after it, already on its way, be stored first when the limit had just
 * refilled; a person's typing never outruns one round trip. A room waiting out a refusal's pause
 * sends nothing until its timer; a held or failed message does not hold up the ones after it.
 */
export function flushOutbox() {
  if (!state.client?.ready) return;
  const busy = new Set<string>();
  for (const item of state.outbox) {
    const thread = item.peer ? `@${item.peer}` : item.roomId;
    if (busy.has(thread) || (item.state !== 'queued' && item.state !== 'sending')) continue;
    busy.add(thread);
    if (item.state === 'queued' && !retryTimers.has(item.roomId)) void sendItem(item);
  }
}

/** A conversation goes by dm.send (by username), which also opens it; a room by message.send. */
function post(item: OutboxItem): Promise<PostAck> {
  const conn = client();
  const content = { clientMsgId: item.clientMsgId, body: item.body, ...(item.replyTo ? { replyTo: item.replyTo.messageId } : {}) };
  if (item.peer) return conn.request('dm.send', { username: item.peer, ...content });
  return conn.request('message.send', { roomId: item.roomId, ...content });
}

async function sendItem(item: OutboxItem) {
  const conn = client();
  item.state = 'sending';
  item.attempts++;
  renderPending();
  try {
    const ack = await post(item);
    const view = ownMessage(ack, item.body, item.replyTo);
    removeFromOutbox(item);
    flushOutbox();
    if (item.peer) onConversationSent(item.peer, view);
    const tl = state.timelines.get(ack.roomId);
    if (tl?.detached) {
      // A window in the past: the message belongs to the present, which paging down reaches.
      if (!tl.held.some((x) => x.messageId === view.messageId)) tl.held.push(view);
    } else if (tl) {
      // My own message in the open room: show it, as after pressing Enter.
      const stick = ack.roomId === state.currentRoomId;
      addMessages(tl, [view]);
      if (stick) scrollToBottom();
    }
  } catch (err) {
    if (!state.outbox.includes(item)) return;
    const code = codeOf(err);
    if (code === 'HELD_FOR_REVIEW') {
      // Not posted, not refused: a moderator decides. Approved, it arrives as my message (same clientMsgId) and settles this.
      item.state = 'held';
      item.error = err;
    } else if (RETRYABLE.has(code)) {
      item.state = 'queued';
      item.error = null;
      // Still connected (a backend was slow or we were rate limited): retry after a pause, the
      // one the refusal names when it does (moderation's rate limit, slow mode).
      const named = code === 'RATE_LIMITED' ? retryAfterOf(err instanceof ChatClientError ? err.reason : null) : null;
      const wait = named !== null ? Math.min(named + 100, 10 * 60_000) : Math.min(10_000, 500 * 2 ** item.attempts);
      item.retryAt = named !== null ? Date.now() + wait : undefined;
      if (state.client === conn && conn.ready) retryRoomLater(item.roomId, wait);
    } else {
      // Muted: the composer says until when once my standing is read again.
      if (code === 'MUTED') refreshStandingSoon();
      item.state = 'failed';
      item.error = err;
      // Shown inline under the message; a toast too when it is not the open room's.
      if (item.roomId !== state.currentRoomId) toastError(err);
    }
    renderPending();
    // Held or failed, the next message of the room goes; after a pause, its timer sends it.
    flushOutbox();
  }
}

/** Rooms whose queued messages are sent again after a pause (one timer a room). */
const retryTimers = new Map<string, ReturnType<typeof setTimeout>>();

/**
 * After a retryable refusal: the room sends nothing until the pause is over, then goes on with
 * its first queued message (flushOutbox, one at a time, in the order written).
 */
function retryRoomLater(roomId: string, waitMs: number) {
  if (retryTimers.has(roomId)) return;
  retryTimers.set(
    roomId,
    setTimeout(() => {
      retryTimers.delete(roomId);
      flushOutbox(); // when not connected: on the next connection
    }, waitMs),
  );
}

export function removeFromOutbox(item: OutboxItem) {
  const i = state.outbox.indexOf(item);
  if (i >= 0) state.outbox.splice(i, 1);
  renderPending();
}

/** A message of ours arrived (live or in history): its outbox entry is done. */
export function settleOutbox(m: Pick<MessageView, 'senderId' | 'clientMsgId' | 'roomId'>) {
  if (m.senderId !== me()?.userId) return;
  const item = state.outbox.find((o) => o.clientMsgId === m.clientMsgId && o.roomId === m.roomId);
  if (item) removeFromOutbox(item);
}

/**
 * Whether my messages waiting to be sent continue my group: drawn like sent ones (avatar and
 * name once), they go on from my last message in the list when it is recent, and from each other.
 */
function pendingContinues(): boolean {
  const last = el.messageList.lastElementChild as HTMLElement | null;
  if (last?.dataset.testid !== 'message') return false;
  const mine = { senderId: me()?.userId ?? '', time: new Date().toISOString(), deleted: false };
  return continuesGroup(
    { senderId: last.dataset.senderId ?? '', time: last.dataset.time ?? '', deleted: last.dataset.deleted === 'true' },
    mine,
  );
}

export function renderPending() {
  const items = state.outbox.filter((o) => o.roomId === state.currentRoomId);
  const stick = nearBottom();
  const self = me();
  const first = pendingContinues();
  el.pendingList.replaceChildren(
    ...items.map((item, i) =>
      h(
        'li',
        {
          class: `message mine pending ${item.state}${i > 0 || first ? ' continued' : ''}`,
          testid: 'pending-message',
          'data-state': item.state,
          'data-client-msg-id': item.clientMsgId,
        },
        self ? avatarEl(self.userId, self.username) : null,
        h(
          'div',
          { class: 'message-head' },
          h('span', { class: 'sender', text: self?.username ?? '' }),
          h('span', {
            class: 'time muted',
            testid: 'pending-status',
            text: pendingStatus(item),
          }),
        ),
        item.replyTo
          ? h(
              'div',
              { class: 'quote', testid: 'reply-quote' },
              h('span', { class: 'quote-sender', text: item.replyTo.senderName }),
              h('span', { class: 'quote-text', text: plainExcerpt(item.replyTo, 200) }),
            )
          : null,
        h('div', { class: 'body', testid: 'message-body', text: item.body }),
        item.state === 'failed'
          ? h(
              'div',
              { class: 'send-error' },
              (() => {
                const box = h('div', { class: 'error inline', testid: 'send-error', role: 'alert' });
                showError(box, item.error);
                return box;
              })(),
              codeOf(item.error) === 'CONTENT_BLOCKED' || codeOf(item.error) === 'BAD_REQUEST'
                ? h(
                    'button',
                    { type: 'button', class: 'link-button', testid: 'edit-failed', onclick: () => editFailed(item) },
                    t('messages:outbox.edit'),
                  )
                : h(
                    'button',
                    { type: 'button', class: 'link-button', testid: 'retry-failed', onclick: () => retryFailed(item) },
                    t('messages:outbox.retry'),
                  ),
              h(
                'button',
                { type: 'button', class: 'link-button', testid: 'dismiss-failed', onclick: () => removeFromOutbox(item) },
                t('messages:outbox.dismiss'),
              ),
            )
          : null,
        item.state === 'held'
          ? h(
              'div',
              { class: 'send-held', testid: 'held-notice', role: 'status' },
              h('span', { text: t('messages:outbox.heldNotice') }),
              ' ',
              h(
                'button',
                { type: 'button', class: 'link-button', testid: 'dismiss-held', onclick: () => removeFromOutbox(item) },
                t('messages:outbox.dismiss'),
              ),
            )
          : null,
      ),
    ),
  );
  // An error line makes the entry taller: keep the reader at the bottom to see it.
  if (stick) scrollToBottom();
}

function pendingStatus(item: OutboxItem): string {
  if (item.state === 'failed') return t('messages:outbox.notSent');
  if (item.state === 'held') return t('messages:outbox.held');
  if (!state.client?.ready) return t('messages:outbox.waiting');
  // Rate limited: sent again when the refusal said (slow mode, moderation's limit).
  if (item.state === 'queued' && item.retryAt && item.retryAt > Date.now())
    return t('messages:outbox.tooFast', { duration: durationText(item.retryAt - Date.now()) });
  return t('messages:outbox.sending');
}

function retryFailed(item: OutboxItem) {
  item.state = 'queued';
  item.error = null;
  renderPending();
  flushOutbox();
}

function editFailed(item: OutboxItem) {
  removeFromOutbox(item);
  el.input.value = item.body;
  autoGrow();
  el.input.focus();
}

export function autoGrow() {
  el.input.style.height = 'auto';
  el.input.style.height = `${Math.min(el.input.scrollHeight, 160)}px`;
}
