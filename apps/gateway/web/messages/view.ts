import type { ChatClient } from '@chat/client';
import type { HistoryPage, MessageView, WsOps } from '@chat/contracts';
import { codeOf, h, showError, toast, toastError } from '../dom';
import { language, t } from '../i18n/i18n';
import { closeDrawers } from '../layout';
import { prefs } from '../session';
import { el, isConversation, isMember, mayPost, me, roomTitle, state, client } from '../state';
import { Timeline } from '../timeline';
import { renderSidebar } from '../rooms/sidebar';
import { renderSide } from '../side';
import { autoGrow, renderPending, settleOutbox } from './outbox';
import { setReplyTo } from './actions';
import { Drafts } from './drafts';
import { messageHash, parseMessageHash } from './permalink';
import { muteNote } from '../moderation/standing';
import { countPosted, dividerFor, maybeMarkRead } from '../reads/unread';
import { dayInText, dayKey, dayLabel } from './days';
import { fillMessage, messageEl, pending, wireActionBars } from './message';
import { continuesGroup, type Groupable } from './grouping';
import { renderTyping, stopTyping } from './typing';

// The open room or conversation: its header, its messages (history pages stitched to live
// events), and whether the composer is usable. A room opens at its newest page; with more
// unread than the loaded messages reach, at its first unread message; to show a message in
// context (a reply's quote, a search hit, a date), around that message: then pages load both
// ways as the reader scrolls, until the newest is reached again. Sending goes back to the newest.
// Each day starts with a separator naming it.

const PAGE_SIZE = 50;
/** After a reconnect, older pages fetched at most to close the gap to what we had; beyond it the view restarts at the newest page. */
const MAX_CATCH_UP_PAGES = 10;
/**
 * History is projected from the stream asynchronously and can lag it by a moment, so a message
 * posted just before this connection's live subscription started may be missing from the
 * newest page read right after (re)connecting. The newest page is read again after these delays.
 */
const SETTLE_DELAYS_MS = [1000, 4000];
/** Opening at the first unread message: this much of the read ones stays in view above it. */
const CONTEXT_ABOVE_PX = 90;
/** Scrolling this close to an edge loads the next page that way. */
const EDGE_PX = 40;
/**
 * The most messages the open room keeps (in memory and in the list): twelve pages. Scrolling
 * back further drops the newest ones (read again by scrolling down), scrolling down or
 * following the live end drops the oldest (read again by scrolling up), so the page stays as
 * light after 5,000 messages as after 600. The scroll position is kept to the pixel.
 */
export const MAX_KEPT = 600;

/** Where a room opens: its newest page, or around a position or a time. */
export type Anchor = Pick<WsOps['history.page']['req'], 'around' | 'at'> & {
  messageId?: string;
  /** Opening at the first unread message: the "new messages" line goes to the top, nothing flashes. */
  unread?: boolean;
  /** Jumping to a day (YYYY-MM-DD): says so when the day has no messages. */
  day?: string;
};

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
    el.roomMeta.textContent = blocked ? t('messages:header.dmBlocked') : t('messages:header.dm');
    el.joinRoom.hidden = el.leaveRoom.hidden = true;
    el.blockPeer.hidden = !conversation.peer.userId;
    el.blockPeer.textContent = blocked ? t('messages:header.unblock') : t('messages:header.block');
    el.blockPeer.dataset.blocked = String(blocked);
    el.placeholder.textContent = '';
    el.placeholder.hidden = true;
  } else if (!room) {
    el.roomName.textContent = id ? `# ${id}` : t('messages:header.pick');
    el.roomMeta.textContent = '';
    el.joinRoom.hidden = el.leaveRoom.hidden = true;
    el.placeholder.textContent = state.rooms.size
      ? t('messages:placeholder.pickOrJoin')
      : connected
        ? t('messages:placeholder.noRooms')
        : '';
    el.placeholder.hidden = false;
  } else {
    el.roomName.textContent = roomTitle(room);
    // The short facts first and the topic last: the line is cut with an ellipsis, and a long
    // topic must not hide the member count or slow mode (the whole line shows on hover).
    el.roomMeta.textContent = [
      t('messages:header.members', { count: room.memberCount }),
      room.postPolicy === 'admins' ? t('messages:header.announcements') : null,
      room.slowModeSeconds > 0 ? t('messages:header.slowMode', { seconds: room.slowModeSeconds }) : null,
      room.topic,
    ]
      .filter(Boolean)
      .join(' · ');
    el.roomMeta.title = el.roomMeta.textContent;
    el.roomRole.hidden = !room.myRole;
    el.roomRole.textContent = room.myRole ? t(`messages:role.${room.myRole}`) : '';
    el.roomRole.dataset.role = room.myRole ?? '';
    el.joinRoom.hidden = !!room.myRole;
    el.leaveRoom.hidden = !room.myRole;
    el.showMembers.hidden = el.showDetails.hidden = false;
    el.placeholder.textContent = room.myRole ? '' : t('messages:placeholder.joinToRead');
    el.placeholder.hidden = !!room.myRole;
  }
  el.jumpDateForm.hidden = !isMember(id);
  el.roomView.dataset.roomId = id ?? '';
  el.roomView.dataset.kind = conversation ? 'direct' : room ? 'group' : '';
  el.emptyState.hidden = !!(room || conversation || id);
  updateComposer();
}

export function updateComposer() {
  const id = state.currentRoomId;
  const muted = mayPost(id) ? muteNote(id) : null;
  const can = mayPost(id) && !muted;
  const room = state.rooms.get(id ?? '');
  // Writing stays possible while reconnecting: the message waits in the outbox.
  el.input.disabled = !can;
  el.send.disabled = !can;
  const announcement = !!room?.myRole && !mayPost(id);
  el.composerNote.hidden = !announcement && !muted;
  el.composerNote.textContent = muted ?? (announcement ? t('messages:composer.announcement') : '');
  el.composerNote.dataset.kind = muted ? 'muted' : announcement ? 'announcement' : '';
  el.input.placeholder = muted
    ? t('messages:composer.muted')
    : can
      ? state.client?.ready
        ? t('messages:composer.placeholder')
        : t('messages:composer.placeholderOffline')
      : announcement
        ? t('messages:composer.adminsOnly')
        : id
          ? t('messages:composer.joinToPost')
          : t('messages:header.pick');
}

export async function openRoom(roomId: string, { fromList = false, anchor }: { fromList?: boolean; anchor?: Anchor } = {}) {
  const switching = roomId !== state.currentRoomId;
  if (switching) {
    stopTyping(state.currentRoomId);
    keepDraft();
  }
  state.currentRoomId = roomId;
  if (switching) restoreDraft(roomId);
  renderTyping();
  prefs.set('room', roomId);
  if (fromList) closeDrawers();
  if (switching) {
    pending.editing = null;
    pending.deleting = null;
  }
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
  if (switching) tl.dividerAfter = dividerFor(roomId);
  // More unread than the loaded messages reach: open at the first unread one, not the newest.
  if (!anchor && switching && tl.dividerAfter !== null && !reachesDivider(tl)) anchor = { around: tl.dividerAfter + 1, unread: true };
  showJumpNote(null);
  if (switching) unseen = 0;
  if (anchor) {
    await openAround(tl, anchor);
  } else {
    if (switching || el.messageList.dataset.roomId !== roomId) {
      renderMessages();
      scrollToDividerOrBottom();
    }
    // One catch-up at a time per room (a join and its own member.joined event both open the room).
    if (!tl.fresh) await (tl.catchingUp ??= catchUp(tl).finally(() => (tl.catchingUp = null)));
  }
  renderHistoryEdge();
  maybeMarkRead();
  if (switching && (!anchor || anchor.unread) && !el.input.disabled) el.input.focus({ preventScroll: true });
}

/**
 * Whether the loaded messages take in the first unread one: the timeline holds the message at
 * or before the marker, or the room's first message. Positions are stream positions (other
 * events take some), so only a loaded message at or before the marker tells there is no gap.
 */
function reachesDivider(tl: Timeline): boolean {
  if (!tl.messages.length || tl.detached) return false;
  return tl.nextBefore === null || tl.oldestPosition <= tl.dividerAfter!;
}

/** A line above the messages about where the view is (a day with no messages). */
function showJumpNote(text: string | null) {
  el.jumpNote.textContent = text ?? '';
  el.jumpNote.hidden = !text;
}

/**
 * Opens the room around a message or a time: the timeline restarts as the page around it
 * (detached from the present unless the page reaches the newest message).
 */
async function openAround(tl: Timeline, anchor: Anchor) {
  const conn = client();
  el.messageList.dataset.state = 'loading';
  try {
    const req: WsOps['history.page']['req'] = { roomId: tl.roomId, limit: PAGE_SIZE };
    if (anchor.around !== undefined) req.around = anchor.around;
    else if (anchor.at !== undefined) req.at = anchor.at;
    const page = await conn.request('history.page', req);
    if (state.timelines.get(tl.roomId) !== tl) return;
    tl.clear();
    tl.nextBefore = page.nextBefore;
    tl.nextAfter = page.nextAfter;
    tl.fresh = true;
    if (tl.roomId !== state.currentRoomId) {
      for (const m of page.messages) tl.insert(m);
      return;
    }
    renderMessages();
    addMessages(tl, page.messages, { fromPage: true });
    renderHistoryEdge();
    if (anchor.day) {
      const anchored = page.anchor !== null ? page.messages.find((m) => m.position === page.anchor) : undefined;
      if (!anchored) showJumpNote(t('messages:jump.noneAfter', { day: dayInText(anchor.day, new Date(), language()) }));
      else if (dayKey(anchored.time) !== anchor.day)
        showJumpNote(t('messages:jump.noneOn', { day: dayInText(anchor.day, new Date(), language()) }));
    }
    const divider = el.messageList.querySelector<HTMLElement>('[data-testid="new-messages"]');
    const target =
      (anchor.messageId ? state.messageEls.get(anchor.messageId) : undefined) ??
      (page.anchor !== null ? elementAt(page.anchor) : undefined);
    if (anchor.unread) {
      const at = divider ?? target;
      if (at) showNearTop(at);
      else scrollToBottom();
    } else if (target) {
      target.scrollIntoView({ block: 'center' });
      flash(target);
    } else scrollToBottom();
  } catch (err) {
    if (tl.roomId === state.currentRoomId) showError(el.roomError, err);
  } finally {
    if (tl.roomId === state.currentRoomId) el.messageList.dataset.state = 'ready';
  }
}

const elementAt = (position: number) => el.messageList.querySelector<HTMLElement>(`[data-position="${position}"]`) ?? undefined;

function flash(node: HTMLElement) {
  node.classList.remove('flash');
  void node.offsetWidth;
  node.classList.add('flash');
  node.dataset.highlighted = 'true';
  setTimeout(() => delete node.dataset.highlighted, 3000);
}

/**
 * Shows a message of a room in context: scrolls to it when the open timeline has it, else
 * opens the room around its position (`history.page` `around`).
 */
export async function jumpToMessage(roomId: string, position: number, messageId?: string) {
  const tl = state.timelines.get(roomId);
  const loaded = roomId === state.currentRoomId && tl && (messageId ? tl.ids.has(messageId) : !!elementAt(position));
  const node = loaded ? (messageId ? state.messageEls.get(messageId) : elementAt(position)) : undefined;
  if (node) {
    node.scrollIntoView({ block: 'center', behavior: 'smooth' });
    flash(node);
    return;
  }
  await openRoom(roomId, { anchor: { around: position, messageId } });
}

/** Back to the newest messages after reading in the past. */
export async function jumpToPresent() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  if (!tl) return;
  showJumpNote(null);
  if (tl.detached) {
    tl.clear();
    renderMessages();
    await openRoom(tl.roomId);
  }
  unseen = 0;
  scrollToBottom();
  renderJump();
  maybeMarkRead();
}

/** Opens the open room at the first message of a day (local midnight), or the newest page when none is after it. */
export async function jumpToDate(day: string) {
  const roomId = state.currentRoomId;
  const start = new Date(`${day}T00:00:00`);
  if (!roomId || Number.isNaN(start.getTime())) return;
  await openRoom(roomId, { anchor: { at: start.toISOString(), day } });
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
  // Reading in the past: paging down reads what was missed; the newest page would leave a gap.
  if (tl.detached) {
    tl.fresh = true;
    return;
  }
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
      const stick = !firstLoad && nearBottom();
      for (const p of pages) addMessages(tl, p.messages, { fromPage: true });
      renderHistoryEdge();
      if (firstLoad) scrollToDividerOrBottom();
      else if (stick) scrollToBottom();
      maybeMarkRead();
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
      if (state.client !== conn || !conn.ready || state.timelines.get(tl.roomId) !== tl || tl.detached) return;
      try {
        const page = await conn.request('history.page', { roomId: tl.roomId, limit: PAGE_SIZE });
        if (state.timelines.get(tl.roomId) !== tl) return;
        if (tl.detached) return;
        const stick = tl.roomId === state.currentRoomId && nearBottom();
        addMessages(tl, page.messages, { fromPage: true });
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
  el.loadOlder.textContent = t('messages:history.loading');
  try {
    const page = await client().request('history.page', { roomId: tl.roomId, before: tl.nextBefore, limit: PAGE_SIZE });
    tl.nextBefore = page.nextBefore;
    if (tl.roomId === state.currentRoomId) {
      // Keep what the reader is looking at in place while content is added above it.
      const anchor = viewAnchor();
      addMessages(tl, page.messages, { fromPage: true });
      restoreAnchor(anchor);
      // Dropping the newest (below the view) moves nothing the reader sees.
      dropFarSide(tl, 'older');
      renderHistoryEdge();
    } else for (const m of page.messages) tl.insert(m);
  } catch (err) {
    showError(el.roomError, err);
  } finally {
    tl.loadingOlder = false;
    el.loadOlder.disabled = false;
    el.loadOlder.textContent = t('messages:history.loadOlder');
  }
}

/** While reading in the past: the next newer page; reaching the newest message attaches the timeline to the live events again. */
export async function loadNewer() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  if (!tl || tl.loadingNewer || !tl.detached || !state.client?.ready) return;
  tl.loadingNewer = true;
  el.loadNewer.disabled = true;
  el.loadNewer.textContent = t('messages:history.loading');
  try {
    const page = await client().request('history.page', { roomId: tl.roomId, after: tl.nextAfter!, limit: PAGE_SIZE });
    if (state.timelines.get(tl.roomId) !== tl) return;
    const onScreen = tl.roomId === state.currentRoomId;
    // Content is added below: what the reader looks at stays where it is.
    const top = el.scroller.scrollTop;
    tl.nextAfter = page.nextAfter;
    if (onScreen) addMessages(tl, page.messages, { fromPage: true });
    else for (const m of page.messages) tl.insert(m);
    if (!tl.detached) {
      const held = tl.held;
      tl.held = [];
      if (onScreen) addMessages(tl, held);
      else for (const m of held) tl.insert(m);
    }
    if (onScreen) {
      el.scroller.scrollTop = top;
      dropFarSide(tl, 'newer');
      renderHistoryEdge();
      maybeMarkRead();
    } else tl.trim(MAX_KEPT, 'newer');
  } catch (err) {
    showError(el.roomError, err);
  } finally {
    tl.loadingNewer = false;
    el.loadNewer.disabled = false;
    el.loadNewer.textContent = t('messages:history.loadNewer');
  }
}

/** Scrolling: pages load at either edge, the marker follows what was read, and "jump to the newest" shows when away from it. */
export function onScroll() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  if (el.scroller.scrollTop < EDGE_PX) void loadOlder();
  const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight;
  if (tl?.detached && fromBottom < EDGE_PX) void loadNewer();
  stuckToBottom = nearBottom();
  if (stuckToBottom && !tl?.detached) unseen = 0;
  renderJump(fromBottom);
  markSoon();
}

let markTimer: ReturnType<typeof setTimeout> | undefined;
function markSoon() {
  clearTimeout(markTimer);
  markTimer = setTimeout(maybeMarkRead, 250);
}

function renderHistoryEdge() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  const member = isMember(state.currentRoomId);
  const more = member && !!tl && tl.nextBefore !== null && tl.nextBefore !== undefined;
  el.loadOlder.hidden = !more;
  el.historyStart.hidden = !(member && tl && tl.nextBefore === null);
  el.historyStart.textContent = isConversation(state.currentRoomId)
    ? t('messages:history.startConversation')
    : t('messages:history.startRoom');
  el.scroller.dataset.hasOlder = String(more);
  el.loadNewer.hidden = !(member && tl?.detached);
  el.scroller.dataset.detached = String(!!tl?.detached);
  renderJump();
}

/** Messages that arrived live while the reader was scrolled up (or reading in the past) and has not seen yet. */
let unseen = 0;
/** Whether the view was at the newest message before the latest change of size. */
let stuckToBottom = true;

/**
 * "Jump to the newest messages" shows when away from them (reading in the past, or scrolled
 * up far), and says how many arrived meanwhile ("3 new messages ↓") when any did.
 */
function renderJump(fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight) {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  el.jumpPresent.hidden = !tl || (!tl.detached && !unseen && fromBottom < 400);
  el.jumpPresent.textContent = unseen ? t('messages:jump.newArrived', { count: unseen }) : t('messages:jump.present');
  el.jumpPresent.dataset.unseen = String(unseen);
}

/** Opening a room with unread messages: show the "new messages" line, else the newest. */
function scrollToDividerOrBottom() {
  const divider = el.messageList.querySelector<HTMLElement>('[data-testid="new-messages"]');
  const tl = state.timelines.get(state.currentRoomId ?? '');
  // Above the first loaded message, the line is right only when nothing older is unread.
  if (divider && tl && reachesDivider(tl)) showNearTop(divider);
  else scrollToBottom();
}

/** Scrolls a node to the top of the view, with a little of what is above it (the last read messages) still shown. */
function showNearTop(node: HTMLElement) {
  node.scrollIntoView({ block: 'start' });
  el.scroller.scrollTop -= Math.min(CONTEXT_ABOVE_PX, el.scroller.clientHeight / 4);
}

/** The "new messages" line sits above the first message after my marker as it was when the room was opened. */
function placeDivider(tl: Timeline) {
  el.messageList.querySelector('[data-testid="new-messages"]')?.remove();
  if (tl.dividerAfter === null) return;
  const mine = me()?.userId;
  const first = tl.messages.find((m) => m.position > tl.dividerAfter! && m.senderId !== mine);
  const node = first && state.messageEls.get(first.messageId);
  if (!node) return;
  el.messageList.insertBefore(
    h(
      'li',
      { class: 'new-messages', testid: 'new-messages', role: 'separator', 'aria-label': t('messages:newMessages') },
      h('span', { text: t('messages:newMessages') }),
    ),
    node,
  );
}

export function nearBottom() {
  return el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight < 80;
}

export function scrollToBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
  stuckToBottom = true;
}

/** Inserts messages into the timeline and, for the open room, into the list at their position. */
export function addMessages(tl: Timeline, messages: MessageView[], { fromPage = false } = {}) {
  const onScreen = tl.roomId === state.currentRoomId && el.messageList.dataset.roomId === tl.roomId;
  let added = false;
  if (onScreen) removeDaySeparators();
  for (const m of messages) {
    const i = tl.insert(m);
    settleOutbox(m);
    if (i < 0) {
      // A page shows the message as it is now (edits, deletion, reactions): take that.
      const kept = fromPage ? tl.refresh(m) : undefined;
      const node = kept && onScreen ? state.messageEls.get(m.messageId) : undefined;
      if (node && kept) fillMessage(node, kept);
      continue;
    }
    if (!onScreen) continue;
    const node = messageEl(m);
    state.messageEls.set(m.messageId, node);
    const next = tl.messages[i + 1];
    const before = next ? (state.messageEls.get(next.messageId) ?? null) : null;
    // The divider sits right above its message: a message inserted after it goes below it.
    el.messageList.insertBefore(
      node,
      before?.previousElementSibling?.matches('[data-testid="new-messages"]') ? before.previousElementSibling : before,
    );
    added = true;
  }
  if (added) placeDivider(tl);
  if (onScreen) {
    placeDaySeparators();
    placeGroups();
  }
}

/**
 * The text of the first message in view and where it is: the list may change above it (a page
 * added, separators moved, the message joining the group of an older one and losing its name
 * line), and the text is put back at the same pixel.
 */
function viewAnchor(): { node: HTMLElement; top: number } | null {
  const top = el.scroller.getBoundingClientRect().top;
  for (const li of el.messageList.querySelectorAll<HTMLElement>('[data-testid="message"]')) {
    if (li.getBoundingClientRect().bottom <= top) continue;
    const node = li.querySelector<HTMLElement>(':scope > .body, :scope > .edit-form') ?? li;
    return { node, top: node.getBoundingClientRect().top };
  }
  return null;
}

function restoreAnchor(anchor: { node: HTMLElement; top: number } | null) {
  if (anchor?.node.isConnected) el.scroller.scrollTop += anchor.node.getBoundingClientRect().top - anchor.top;
}

/**
 * Keeps the open timeline to MAX_KEPT messages (Timeline.trim) and takes the dropped ones out
 * of the list. Content removed above the view would shift it: the scroll position is moved back
 * by the height that went away.
 */
function dropFarSide(tl: Timeline, keep: 'older' | 'newer') {
  const heightBefore = el.scroller.scrollHeight;
  const dropped = tl.trim(MAX_KEPT, keep);
  if (!dropped.length) return;
  for (const m of dropped) {
    state.messageEls.get(m.messageId)?.remove();
    state.messageEls.delete(m.messageId);
  }
  placeDivider(tl);
  placeDaySeparators();
  placeGroups();
  if (keep === 'newer') el.scroller.scrollTop -= heightBefore - el.scroller.scrollHeight;
}

const DAY_SEPARATOR = '[data-testid="day-separator"]';
const removeDaySeparators = () => el.messageList.querySelectorAll(DAY_SEPARATOR).forEach((n) => n.remove());

/** A line with the day above the first message of each day (above the "new messages" line when that is there). */
function placeDaySeparators() {
  removeDaySeparators();
  const now = new Date();
  let last = '';
  for (const node of [...el.messageList.querySelectorAll<HTMLElement>('[data-testid="message"]')]) {
    const key = dayKey(node.dataset.time ?? '');
    if (!key || key === last) continue;
    last = key;
    const prev = node.previousElementSibling;
    const at = prev?.matches('[data-testid="new-messages"]') ? prev : node;
    const label = dayLabel(key, now, language());
    el.messageList.insertBefore(
      h(
        'li',
        { class: 'day-separator', testid: 'day-separator', role: 'separator', 'aria-label': label, 'data-day': key },
        h('span', { text: label }),
      ),
      at,
    );
  }
}

const groupable = (node: HTMLElement): Groupable => ({
  senderId: node.dataset.senderId ?? '',
  time: node.dataset.time ?? '',
  deleted: node.dataset.deleted === 'true',
});

/**
 * Marks each message that continues its sender's group (`continued`: no avatar or name; the
 * time shows on hover). A separator (a day, the "new messages" line) between two messages starts
 * a new group.
 */
export function placeGroups() {
  let prev: HTMLElement | null = null;
  for (const node of el.messageList.children as HTMLCollectionOf<HTMLElement>) {
    if (node.dataset.testid !== 'message') {
      prev = null;
      continue;
    }
    node.classList.toggle('continued', continuesGroup(prev ? groupable(prev) : undefined, groupable(node)));
    prev = node;
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
  if (tl) placeDivider(tl);
  placeDaySeparators();
  placeGroups();
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
  const known = !!tl?.ids.has(m.messageId) || !!tl?.held.some((x) => x.messageId === m.messageId);
  if (!known) countPosted(m);
  if (!tl || tl.detached) {
    settleOutbox(m);
    // Reading in the past: the message waits until paging down reaches the present.
    if (tl && !known) {
      tl.held.push(m);
      if (m.roomId === state.currentRoomId) arrived(m);
    }
    if (conversation) renderSidebar();
    return;
  }
  const current = m.roomId === state.currentRoomId;
  const stick = current && (nearBottom() || m.senderId === me()?.userId);
  // My own message may be here already, drawn from the send's reply, which has no mentions and
  // no html (the server makes both): take them from the stored copy, unless an edit came first.
  const ours = known ? tl.find(m.messageId) : undefined;
  if (ours && !ours.deleted && !ours.editedAt && (!ours.html || (!ours.mentions.length && m.mentions.length))) {
    ours.mentions = m.mentions;
    ours.html = m.html ?? '';
    const node = state.messageEls.get(m.messageId);
    if (node && current) fillMessage(node, ours);
  }
  addMessages(tl, [m]);
  if (conversation) renderSidebar();
  if (stick) {
    dropFarSide(tl, 'newer');
    scrollToBottom();
  }
  if (current && !known) arrived(m, stick);
  if (current) maybeMarkRead();
}

/** A new message of someone else in the open room: said to screen readers, and counted when out of view. */
function arrived(m: MessageView, seen = false) {
  if (m.senderId === me()?.userId) return;
  announce(m);
  if (seen) return;
  unseen++;
  renderJump();
}

/**
 * The one live region of the timeline (#message-announcer, visually hidden): one short sentence
 * per message arriving live ("alice: hello"). Pages of history loaded by scrolling are not
 * announced (the list itself is no live region).
 */
function announce(m: MessageView) {
  const region = document.getElementById('message-announcer');
  if (!region) return;
  const text = m.deleted ? t('messages:live.deleted') : m.body.length > 140 ? `${m.body.slice(0, 140)}…` : m.body;
  region.textContent = t('messages:live.message', { name: m.senderName, text });
}

// ---------------------------------------------------------------- drafts

const drafts = new Drafts(typeof sessionStorage === 'undefined' ? null : sessionStorage);

/** Puts the composer's text away as the open room's draft (empty: none). */
export function keepDraft() {
  const userId = me()?.userId;
  const roomId = state.currentRoomId;
  if (userId && roomId) drafts.save(userId, roomId, el.input.value);
}

/** The composer shows the room's own draft (or nothing), and a reply started elsewhere is dropped. */
function restoreDraft(roomId: string) {
  const userId = me()?.userId;
  el.input.value = userId ? drafts.load(userId, roomId) : '';
  autoGrow();
  if (state.replyTo && state.replyTo.roomId !== roomId) setReplyTo(null);
}

// ---------------------------------------------------------------- links to a message

/** "Copy link" on a message: the page's address with the message's hash (permalink.ts). */
export async function copyMessageLink(m: MessageView) {
  const url = `${location.origin}${location.pathname}${messageHash(m)}`;
  try {
    await navigator.clipboard.writeText(url);
    toast(t('messages:action.linkCopied'));
  } catch (err) {
    toastError(err);
  }
}

/**
 * The page was opened (or its hash set) with a link to a message: open its room at it,
 * highlighted. The hash is then cleared, so a reconnect does not jump there again.
 */
export async function openLinkedMessage() {
  const link = parseMessageHash(location.hash);
  if (!link || !state.client?.ready || !isMember(link.roomId)) return;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  await jumpToMessage(link.roomId, link.position, link.messageId);
}

// ---------------------------------------------------------------- keyboard and size

/** How much of the view a page key scrolls (a little overlap keeps the reader's place). */
const pageStep = () => Math.max(40, el.scroller.clientHeight - 60);

function scrollByKey(e: KeyboardEvent): boolean {
  const step =
    e.key === 'PageUp'
      ? -pageStep()
      : e.key === 'PageDown'
        ? pageStep()
        : e.target === el.messageList && e.key === 'ArrowUp'
          ? -40
          : e.target === el.messageList && e.key === 'ArrowDown'
            ? 40
            : 0;
  if (step) el.scroller.scrollBy({ top: step });
  else if (e.target === el.messageList && e.key === 'Home') el.scroller.scrollTop = 0;
  else if (e.target === el.messageList && e.key === 'End') scrollToBottom();
  else return false;
  e.preventDefault();
  return true;
}

/**
 * The timeline's own wiring (called once by main.ts): PageUp/PageDown scroll the list from the
 * composer and from the list itself (focusable, with arrows, Home and End too); the view stays
 * at the newest message when its size changes (window resized, composer grown) if it was there;
 * the composer's text is kept as the room's draft as it is typed; a message link opened in this
 * tab (hash change) shows the message.
 */
export function wireTimeline() {
  el.input.addEventListener('keydown', (e) => {
    if ((e.key === 'PageUp' || e.key === 'PageDown') && !e.isComposing) scrollByKey(e);
  });
  el.messageList.addEventListener('keydown', (e) => {
    if (e.target === el.messageList) scrollByKey(e);
  });
  el.input.addEventListener('input', keepDraft);
  wireActionBars(el.messageList);
  new ResizeObserver(() => {
    if (stuckToBottom && !state.timelines.get(state.currentRoomId ?? '')?.detached) scrollToBottom();
  }).observe(el.scroller);
  window.addEventListener('hashchange', () => void openLinkedMessage());
}
