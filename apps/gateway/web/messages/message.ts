import type { Mention, MessageView, ReplyRef } from '@chat/contracts';
import { fullTime, h, shortTime } from '../dom';
import { t } from '../i18n/i18n';
import { avatarEl } from '../members/avatar';
import { linkParts } from './links';
import { icon, type IconName } from './icons';
import { plainExcerpt } from './excerpt';
import { sanitizedFragment } from './sanitize';
import { LINK_ATTRS } from './sanitize-config';
import { mentionRanges } from './mention-match';
import { reactedText } from './reactions';
import { isAdmin, isConversation, me, state } from '../state';
import { mayModerate } from '../moderation/user-card';

// How one message is drawn: the quote of the message it answers, the sender and time with
// "(edited)", the text with its mentions marked, or a tombstone; its reactions; and the
// actions on it (reply, react, edit, delete), shown for one message at a time (wireActionBars). What the
// actions do is in actions.ts; they register here so this file stays free of requests.

export interface MessageActions {
  reply(m: MessageView): void;
  react(m: MessageView, emoji: string): void;
  openPicker(m: MessageView, anchor: HTMLElement): void;
  startEdit(m: MessageView): void;
  saveEdit(m: MessageView, body: string, button: HTMLButtonElement, errorEl: HTMLElement): void;
  cancelEdit(): void;
  askDelete(m: MessageView): void;
  confirmDelete(m: MessageView, button: HTMLButtonElement, errorEl: HTMLElement): void;
  cancelDelete(): void;
  jumpTo(roomId: string, position: number, messageId: string): void;
  /** Report the message to the moderators (moderation/report.ts). */
  report(m: MessageView): void;
  /** Open the sender's moderation card (server staff; a room's owner and admins). */
  moderate(m: MessageView): void;
  /** Open the sender's profile card (anyone: status, last seen, Send a message). */
  profile(m: MessageView): void;
  /** Copy a link to the message (permalink.ts). */
  copyLink(m: MessageView): void;
}

let actions: MessageActions | null = null;
export const setMessageActions = (a: MessageActions) => (actions = a);

/** What this page is doing to one message: editing it (with the draft) or asking to delete it. */
export const pending = {
  editing: null as { messageId: string; draft: string } | null,
  deleting: null as string | null,
};

const myId = () => me()?.userId;
export const mentionsMe = (m: Pick<MessageView, 'mentions'>) => (m.mentions ?? []).some((x) => x.userId === myId());
export const mayEdit = (m: MessageView) => !m.deleted && m.senderId === myId();
/** The author; in a group room also its owner and admins (server administrators use the protocol). */
export const mayDelete = (m: MessageView) => !m.deleted && (m.senderId === myId() || (!isConversation(m.roomId) && isAdmin(m.roomId)));

export function messageEl(m: MessageView): HTMLElement {
  const li = h('li', { testid: 'message' });
  fillMessage(li, m);
  return li;
}

/** (Re)draws a message into its element, after an edit, a deletion or a reaction. */
export function fillMessage(li: HTMLElement, m: MessageView) {
  const mine = m.senderId === myId();
  // Whether it continues its sender's group is the list's business (view.ts placeGroups).
  const classes = ['message', ...['continued', 'actions-open'].filter((c) => li.classList.contains(c))];
  if (mine) classes.push('mine');
  if (m.deleted) classes.push('deleted');
  if (!m.deleted && !mine && mentionsMe(m)) classes.push('mentions-me');
  li.className = classes.join(' ');
  Object.assign(li.dataset, {
    messageId: m.messageId,
    position: String(m.position),
    time: m.time,
    senderId: m.senderId,
    deleted: String(!!m.deleted),
    mentionsMe: String(mentionsMe(m)),
  });
  const editing = pending.editing?.messageId === m.messageId && !m.deleted;
  // An open emoji picker stays open (with its focus) through a redraw: a page read again or a
  // reaction arriving must not close it under the reader's keys.
  const picker = li.querySelector<HTMLElement>(':scope > .emoji-picker');
  const focused = picker?.contains(document.activeElement) ? (document.activeElement as HTMLElement) : null;
  li.replaceChildren(
    ...[
      avatarEl(m.senderId, m.senderName),
      h(
        'div',
        { class: 'message-head' },
        h('button', {
          type: 'button',
          class: 'sender',
          testid: 'message-sender',
          title: t('messages:action.profile', { name: m.senderName }),
          text: m.senderName,
          onclick: () => actions?.profile(m),
        }),
        h('time', { class: 'time muted', datetime: m.time, title: fullTime(m.time), text: shortTime(m.time) }),
      ),
      m.replyTo && !m.deleted ? quoteEl(m.roomId, m.replyTo) : null,
      m.deleted ? tombstone(m) : editing ? editor(m) : withEdited(bodyEl(m.body, m.mentions, m.html), m),
      m.reactions?.length && !m.deleted ? reactionsEl(m) : null,
      m.deleted || editing ? null : pending.deleting === m.messageId ? deleteConfirm(m) : actionsEl(m),
    ].filter((c): c is HTMLElement => !!c),
  );
  if (picker && !m.deleted) {
    li.append(picker);
    focused?.focus();
  }
}

/** "(edited)" at the end of the text's last paragraph (in a group, the head shows only on hover). */
function withEdited(body: HTMLElement, m: MessageView): HTMLElement {
  if (!m.editedAt) return body;
  const last = body.lastElementChild;
  const into = last && last.tagName === 'P' ? last : body;
  into.append(
    ' ',
    h('span', {
      class: 'edited muted',
      testid: 'message-edited',
      title: t('messages:edited.title', { time: fullTime(m.editedAt) }),
      text: t('messages:edited'),
    }),
  );
  return body;
}

function tombstone(m: MessageView) {
  const by = m.deleted!.reason === 'moderator' ? m.deleted!.by.username : null;
  const time = fullTime(m.deleted!.time);
  return h('div', {
    class: 'body tombstone muted',
    testid: 'message-deleted',
    title: by ? t('messages:deleted.titleBy', { time, name: by }) : t('messages:deleted.title', { time }),
    text: by ? t('messages:deleted.by', { name: by }) : t('messages:deleted'),
  });
}

/**
 * The text. Formatted from the server's `html` (docs/protocol.md, Formatting) when there is one:
 * that field is safe by construction (the server escapes all text and emits only a fixed set of
 * tags, links http(s)/mailto only), is sanitised again here all the same (sanitize.ts), and is
 * the only HTML this page ever parses. Mentions of
 * the reader are then marked, and test ids set. Without it (the own message shown from its ack,
 * before the stored copy arrives; an older server), the plain text with each `@name` of a
 * mentioned member marked and http(s) links made clickable, built as DOM nodes.
 */
export function bodyEl(body: string, mentions: Mention[], html?: string): HTMLElement {
  if (html) return formattedEl(html);
  const div = h('div', { class: 'body', testid: 'message-body' });
  let at = 0;
  for (const r of mentionRanges(body, mentions)) {
    if (r.start > at) div.append(...textWithLinks(body.slice(at, r.start)));
    div.append(
      h('span', {
        class: `mention${r.mention.userId === myId() ? ' me' : ''}`,
        testid: 'mention',
        'data-user-id': r.mention.userId,
        text: body.slice(r.start, r.end),
      }),
    );
    at = r.end;
  }
  if (at < body.length) div.append(...textWithLinks(body.slice(at)));
  return div;
}

function formattedEl(html: string): HTMLElement {
  const div = h('div', { class: 'body formatted', testid: 'message-body' });
  div.append(sanitizedFragment(html));
  const self = myId();
  for (const span of div.querySelectorAll<HTMLElement>('span.mention')) {
    span.dataset.testid = 'mention';
    if (span.dataset.userId === self) span.classList.add('me');
  }
  for (const a of div.querySelectorAll<HTMLAnchorElement>('a[href]')) {
    a.classList.add('link');
    a.dataset.testid = 'message-link';
  }
  return div;
}

/** Text with its http(s) URLs as links that open in a new tab and tell the target nothing. */
function textWithLinks(text: string): (string | HTMLElement)[] {
  return linkParts(text).map((p) =>
    p.url ? h('a', { href: p.url, ...LINK_ATTRS, class: 'link', testid: 'message-link', text: p.text }) : p.text,
  );
}

/** The quoted message, as the timeline has it now when it is loaded, else as the reply's snapshot. */
function quoteEl(roomId: string, ref: ReplyRef): HTMLElement {
  const now = state.timelines.get(roomId)?.find(ref.messageId);
  const gone = now ? !!now.deleted : ref.excerpt === '';
  const text = gone ? t('messages:deleted') : plainExcerpt(now ?? ref.excerpt, 200);
  return h(
    'button',
    {
      type: 'button',
      class: `quote${gone ? ' gone' : ''}`,
      testid: 'reply-quote',
      'data-reply-to': ref.messageId,
      title: t('messages:quote.title'),
      onclick: () => actions?.jumpTo(roomId, ref.position, ref.messageId),
    },
    h('span', { class: 'quote-sender', text: now?.senderName ?? ref.senderName }),
    h('span', { class: 'quote-text', testid: 'reply-quote-text', text }),
  );
}

/** Names of the people this page knows (presence, conversation peers, senders and mentions in the room's timeline). */
function knownNames(roomId: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const { view } of state.presence.values()) names.set(view.userId, view.username);
  for (const c of state.conversations.values()) names.set(c.peer.userId, c.peer.username);
  for (const x of state.timelines.get(roomId)?.messages ?? []) {
    names.set(x.senderId, x.senderName);
    for (const u of x.mentions ?? []) names.set(u.userId, u.username);
  }
  const self = me();
  if (self) names.set(self.userId, self.username);
  return names;
}

function reactionsEl(m: MessageView) {
  const me = myId();
  const names = knownNames(m.roomId);
  return h(
    'div',
    { class: 'reactions', testid: 'reactions' },
    ...m.reactions.map((r) => {
      const mine = !!me && r.userIds.includes(me);
      return h(
        'button',
        {
          type: 'button',
          class: `reaction${mine ? ' mine' : ''}`,
          testid: 'reaction',
          'data-emoji': r.emoji,
          'data-count': r.count,
          'aria-pressed': String(mine),
          title: mine
            ? t('messages:reaction.takeBack', { who: reactedText(r, names, me) })
            : t('messages:reaction.add', { who: reactedText(r, names, me), emoji: r.emoji }),
          onclick: () => actions?.react(m, r.emoji),
        },
        h('span', { class: 'emoji', text: r.emoji }),
        h('span', { class: 'count', testid: 'reaction-count', text: String(r.count) }),
      );
    }),
  );
}

/** The one message whose actions show: the last one hovered, tapped or focused into. */
let actionsShown: HTMLElement | null = null;

function showActionsOf(li: HTMLElement | null) {
  if (actionsShown === li) return;
  actionsShown?.classList.remove('actions-open');
  actionsShown = li;
  li?.classList.add('actions-open');
}

/**
 * One action bar at a time (two showed at once when the mouse was over one message and the
 * focus in another): moving the pointer onto a message, tapping it or moving the focus into it
 * shows its bar and hides the previous one. The bar stays while the focus is in it.
 */
export function wireActionBars(list: HTMLElement) {
  const messageOf = (target: EventTarget | null) =>
    target instanceof Element ? target.closest<HTMLElement>('[data-testid="message"]') : null;
  const holdsFocus = () => !!actionsShown?.contains(document.activeElement);
  list.addEventListener('pointerover', (e) => {
    const li = messageOf(e.target);
    if (li || !holdsFocus()) showActionsOf(li);
  });
  // A touch ends with pointerleave too: the tapped message keeps its bar.
  list.addEventListener('pointerleave', (e) => e.pointerType === 'mouse' && !holdsFocus() && showActionsOf(null));
  list.addEventListener('focusin', (e) => {
    const li = messageOf(e.target);
    if (li) showActionsOf(li);
  });
  list.addEventListener('focusout', (e) => {
    if (!list.contains(e.relatedTarget as Node | null) && !actionsShown?.matches(':hover')) showActionsOf(null);
  });
}

function actionsEl(m: MessageView) {
  const button = (testid: string, symbol: IconName, title: string, onclick: (e: Event) => void) =>
    h('button', { type: 'button', class: 'message-action', testid, title, 'aria-label': title, onclick }, icon(symbol));
  const react = button('react', 'react', t('messages:action.react'), () => actions?.openPicker(m, react));
  return h(
    'div',
    { class: 'message-actions', role: 'toolbar', 'aria-label': t('messages:action.actions', { name: m.senderName }) },
    button('reply', 'reply', t('messages:action.reply'), () => actions?.reply(m)),
    react,
    button('copy-link', 'link', t('messages:action.copyLink'), () => actions?.copyLink(m)),
    mayEdit(m) ? button('edit', 'edit', t('messages:action.edit'), () => actions?.startEdit(m)) : null,
    mayDelete(m) ? button('delete', 'delete', t('messages:action.delete'), () => actions?.askDelete(m)) : null,
    m.senderId !== myId() ? button('report', 'report', t('messages:action.report'), () => actions?.report(m)) : null,
    mayModerate(m.senderId, m.roomId)
      ? button('moderate', 'moderate', t('messages:action.moderate', { name: m.senderName }), () => actions?.moderate(m))
      : null,
  );
}

/** The edit box grows with its text up to this height, then scrolls. */
const EDIT_MAX_PX = 320;

function editor(m: MessageView) {
  const input = h('textarea', {
    class: 'edit-input',
    testid: 'edit-input',
    rows: 2,
    maxlength: 4000,
    'aria-label': t('messages:edit.label'),
    value: pending.editing?.draft ?? m.body,
  }) as HTMLTextAreaElement;
  const error = h('div', { class: 'error inline', testid: 'edit-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'small primary', testid: 'edit-save' }, t('common:save')) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'edit-form', testid: 'edit-form' },
    input,
    h(
      'div',
      { class: 'edit-actions' },
      save,
      h('button', { type: 'button', class: 'small', testid: 'edit-cancel', onclick: () => actions?.cancelEdit() }, t('common:cancel')),
      h('span', { class: 'hint muted', text: t('messages:edit.hint') }),
    ),
    error,
  );
  input.addEventListener('input', () => pending.editing && (pending.editing.draft = input.value));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      actions?.cancelEdit();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      actions?.saveEdit(m, input.value, save, error);
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    actions?.saveEdit(m, input.value, save, error);
  });
  // As tall as its text (up to a limit, then it scrolls), so a long message shows from its first line.
  const fitHeight = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, EDIT_MAX_PX)}px`;
  };
  input.addEventListener('input', fitHeight);
  // Focus once the form is in the page.
  queueMicrotask(() => {
    fitHeight();
    input.scrollTop = 0;
    input.focus({ preventScroll: true });
    input.setSelectionRange(input.value.length, input.value.length);
  });
  return form;
}

function deleteConfirm(m: MessageView) {
  const error = h('div', { class: 'error inline', testid: 'delete-error', role: 'alert', hidden: true });
  const confirm = h(
    'button',
    { type: 'button', class: 'small danger', testid: 'delete-confirm' },
    t('messages:action.delete'),
  ) as HTMLButtonElement;
  confirm.onclick = () => actions?.confirmDelete(m, confirm, error);
  const other = m.senderId !== myId();
  return h(
    'div',
    { class: 'delete-confirm', testid: 'delete-confirm-box', role: 'group' },
    h('span', { text: other ? t('messages:delete.confirmOther', { name: m.senderName }) : t('messages:delete.confirmOwn') }),
    confirm,
    h('button', { type: 'button', class: 'small', testid: 'delete-cancel', onclick: () => actions?.cancelDelete() }, t('common:cancel')),
    error,
  );
}
