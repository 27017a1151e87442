import type { MessageView, WsEvents } from '@chat/contracts';
import { act, h, showError, toastError } from '../dom';
import { t } from '../i18n/i18n';
import { recountIfUnread } from '../reads/unread';
import { client, el, me, state } from '../state';
import { fillMessage, mayDelete, mayEdit, pending, setMessageActions } from './message';
import { applyReaction } from './reactions';
import { plainExcerpt } from './excerpt';
import { openPicker } from './picker';
import { copyMessageLink, jumpToMessage, placeGroups } from './view';
import { openReportDialog } from '../moderation/report';
import { openUserCard } from '../moderation/user-card';

// What a person does to a message (reply, react, edit, delete) and how the changes others make
// arrive (message.edited, message.deleted, reaction.added, reaction.removed). A change is
// applied to the message wherever this page holds it (a loaded timeline, a conversation's last
// message) and redrawn if it is on screen, and so are the replies quoting it.

const myId = () => me()?.userId;

/** Redraws a message of the open room, and the replies on screen that quote it. */
function redraw(roomId: string, messageId: string) {
  if (roomId !== state.currentRoomId) return;
  const tl = state.timelines.get(roomId);
  if (!tl) return;
  const m = tl.find(messageId);
  const node = state.messageEls.get(messageId);
  if (m && node) fillMessage(node, m);
  for (const r of tl.messages)
    if (r.replyTo?.messageId === messageId) {
      const quoting = state.messageEls.get(r.messageId);
      if (quoting) fillMessage(quoting, r);
    }
}

/** Every copy of a message this page holds (its timeline's, a conversation's last message). */
function copiesOf(roomId: string, messageId: string): MessageView[] {
  const copies: MessageView[] = [];
  const inTimeline = state.timelines.get(roomId)?.find(messageId);
  if (inTimeline) copies.push(inTimeline);
  const last = state.conversations.get(roomId)?.lastMessage;
  if (last?.messageId === messageId && last !== inTimeline) copies.push(last);
  return copies;
}

// ---------------------------------------------------------------- live changes

export function onEdited(d: WsEvents['message.edited']) {
  for (const m of copiesOf(d.roomId, d.messageId)) {
    // A deletion is final, and an edit older than the one shown changes nothing.
    if (m.deleted || (m.editedAt && m.editedAt > d.editedAt)) continue;
    Object.assign(m, { body: d.body, mentions: d.mentions, html: d.html, editedAt: d.editedAt });
  }
  redraw(d.roomId, d.messageId);
  recountIfUnread(d.roomId);
}

export function onDeleted(d: WsEvents['message.deleted']) {
  for (const m of copiesOf(d.roomId, d.messageId))
    Object.assign(m, {
      body: '',
      html: '',
      replyTo: null,
      mentions: [],
      reactions: [],
      deleted: { by: d.by, reason: d.reason, time: d.time },
    });
  if (pending.editing?.messageId === d.messageId) pending.editing = null;
  if (pending.deleting === d.messageId) pending.deleting = null;
  if (state.replyTo?.messageId === d.messageId) setReplyTo(null);
  redraw(d.roomId, d.messageId);
  // A deleted message ends its sender's group.
  if (d.roomId === state.currentRoomId) placeGroups();
  recountIfUnread(d.roomId);
}

export function onReaction(d: WsEvents['reaction.added'], added: boolean) {
  for (const m of copiesOf(d.roomId, d.messageId)) if (!m.deleted) applyReaction(m, d.emoji, d.userId, added);
  redraw(d.roomId, d.messageId);
}

// ---------------------------------------------------------------- reply

/** The composer's next message answers `m` (null: not a reply). */
export function setReplyTo(m: MessageView | null) {
  state.replyTo = m;
  el.replyBar.hidden = !m;
  if (!m) {
    el.replyBar.replaceChildren();
    return;
  }
  el.replyBar.replaceChildren(
    h('span', { class: 'muted', text: `${t('messages:reply.to')} ` }),
    h('strong', { text: m.senderName }),
    h('span', { class: 'reply-excerpt muted', text: plainExcerpt(m, 120) }),
    h(
      'button',
      {
        type: 'button',
        class: 'icon-button',
        testid: 'reply-cancel',
        title: t('messages:reply.cancel'),
        'aria-label': t('messages:reply.cancel'),
        onclick: () => setReplyTo(null),
      },
      '×',
    ),
  );
}

// ---------------------------------------------------------------- requests

/** Toggles my reaction: remove when I have it, else add. The event (from the server) redraws. */
function react(m: MessageView, emoji: string) {
  const uid = myId();
  if (!uid || m.deleted) return;
  const had = !!m.reactions?.find((r) => r.emoji === emoji)?.userIds.includes(uid);
  const ref = { roomId: m.roomId, messageId: m.messageId, emoji };
  // Shown at once; the event from the server repeats it (a no-op) and a refusal takes it back.
  applyReaction(m, emoji, uid, !had);
  redraw(m.roomId, m.messageId);
  client()
    .request(had ? 'reaction.remove' : 'reaction.add', ref)
    .catch((err) => {
      applyReaction(m, emoji, uid, had);
      redraw(m.roomId, m.messageId);
      toastError(err);
    });
}

function startEdit(m: MessageView) {
  if (!mayEdit(m)) return;
  const previous = pending.editing?.messageId;
  pending.editing = { messageId: m.messageId, draft: m.body };
  pending.deleting = null;
  if (previous && previous !== m.messageId) redraw(m.roomId, previous);
  redraw(m.roomId, m.messageId);
}

function endEdit(m?: MessageView) {
  const id = pending.editing?.messageId;
  pending.editing = null;
  if (id && state.currentRoomId) redraw(m?.roomId ?? state.currentRoomId, id);
  if (!el.input.disabled) el.input.focus({ preventScroll: true });
}

async function saveEdit(m: MessageView, body: string, button: HTMLButtonElement, errorEl: HTMLElement) {
  // An emptied message: offer to delete it (a message cannot be empty).
  if (!body.trim()) {
    if (!mayDelete(m)) return showError(errorEl, new Error(t('messages:edit.empty')));
    pending.editing = null;
    return askDelete(m);
  }
  if (body === m.body) return endEdit(m);
  await act(button, errorEl, async () => {
    await client().request('message.edit', { roomId: m.roomId, messageId: m.messageId, body });
    // The message.edited event brings the text as stored (with its mentions and time).
    if (pending.editing?.messageId === m.messageId) endEdit(m);
  });
}

function askDelete(m: MessageView) {
  const previous = pending.deleting;
  pending.deleting = m.messageId;
  if (previous && previous !== m.messageId) redraw(m.roomId, previous);
  redraw(m.roomId, m.messageId);
  state.messageEls.get(m.messageId)?.querySelector<HTMLElement>('[data-testid="delete-confirm"]')?.focus();
}

async function confirmDelete(m: MessageView, button: HTMLButtonElement, errorEl: HTMLElement) {
  await act(button, errorEl, async () => {
    await client().request('message.delete', { roomId: m.roomId, messageId: m.messageId });
    pending.deleting = null;
  });
}

function cancelDelete() {
  const id = pending.deleting;
  pending.deleting = null;
  if (id && state.currentRoomId) redraw(state.currentRoomId, id);
}

/** Up in an empty composer: edit my newest message of the open room. */
export function editLastOwn(): boolean {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  if (!tl) return false;
  for (let i = tl.messages.length - 1; i >= 0; i--) {
    const m = tl.messages[i];
    if (mayEdit(m)) {
      startEdit(m);
      state.messageEls.get(m.messageId)?.scrollIntoView({ block: 'nearest' });
      return true;
    }
  }
  return false;
}

setMessageActions({
  reply: (m) => {
    setReplyTo(m);
    el.input.focus();
  },
  react,
  openPicker: (m, anchor) => openPicker(m, anchor, (emoji) => react(m, emoji)),
  startEdit,
  saveEdit: (m, body, button, errorEl) => void saveEdit(m, body, button, errorEl),
  cancelEdit: () => endEdit(),
  askDelete,
  confirmDelete: (m, button, errorEl) => void confirmDelete(m, button, errorEl),
  cancelDelete,
  jumpTo: (roomId, position, messageId) => void jumpToMessage(roomId, position, messageId),
  report: openReportDialog,
  moderate: (m) => openUserCard({ userId: m.senderId, username: m.senderName }, m.roomId),
  profile: (m) => openUserCard({ userId: m.senderId, username: m.senderName }, m.roomId),
  copyLink: (m) => void copyMessageLink(m),
});
