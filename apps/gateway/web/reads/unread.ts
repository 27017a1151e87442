import type { MessageView, ReadStateView, WsEvents } from '@chat/contracts';
import { h, toast } from '../dom';
import { t } from '../i18n/i18n';
import { client, el, me, state } from '../state';
import { renderSidebar } from '../rooms/sidebar';

// Unread counts and mention counts per room and conversation. The truth is on the server
// (`read.state`: worked out from stream positions and the user's read marker, the same on every
// device); this page loads it after every (re)connect and keeps it live from events:
// `message.posted` by someone else after the marker counts one (and a mention when it names
// me), `read.marker` (from any of my devices) moves the marker, and a deletion or a moved
// marker is recounted by the server (the page cannot know which of the unread messages a
// deletion or a marker from another device took away). The open room, when the tab is
// visible, is marked read up to the newest message on screen.

/** Counts stop here on the server; the badge then says "999+". */
const COUNT_CAP = 999;
/** Recounts asked for within this time are one read.state call. */
const RECOUNT_DELAY_MS = 300;

const empty = (roomId: string): ReadStateView => ({ roomId, lastRead: 0, unread: 0, mentions: 0, lastPosition: 0 });

export function readStateOf(roomId: string): ReadStateView {
  let r = state.reads.get(roomId);
  if (!r) state.reads.set(roomId, (r = empty(roomId)));
  return r;
}

export const badgeText = (n: number) => (n >= COUNT_CAP ? `${COUNT_CAP}+` : String(n));

/** Replaces every room's counts with the server's. A failure keeps what the page counted. */
export async function loadReadState(): Promise<void> {
  const conn = client();
  try {
    const { rooms } = await conn.request('read.state', {});
    if (state.client !== conn) return;
    const fresh = new Map(rooms.map((r) => [r.roomId, r]));
    // A marker that moved on this page after the request was answered is newer than the reply.
    for (const [roomId, mine] of state.reads) {
      const theirs = fresh.get(roomId);
      if (theirs && mine.lastRead > theirs.lastRead) fresh.set(roomId, { ...theirs, lastRead: mine.lastRead, unread: 0, mentions: 0 });
    }
    state.reads = fresh;
    renderSidebar();
    maybeMarkRead();
  } catch {
    // History may be down or catching up: the live counts go on, and the next connect reloads.
  }
}

let recount: ReturnType<typeof setTimeout> | undefined;
function recountSoon() {
  clearTimeout(recount);
  recount = setTimeout(() => state.client?.ready && void loadReadState(), RECOUNT_DELAY_MS);
}

/** The user is looking at this room's newest messages now. */
function readingNow(roomId: string): boolean {
  const tl = state.timelines.get(roomId);
  return roomId === state.currentRoomId && document.visibilityState === 'visible' && !!tl && !tl.detached;
}

/** A message arrived live: it is unread unless it is mine, already read, or on screen now. */
export function countPosted(m: MessageView) {
  if (m.senderId === me()?.userId) return;
  const r = readStateOf(m.roomId);
  if (m.position <= r.lastRead) return;
  r.lastPosition = Math.max(r.lastPosition, m.position);
  if (readingNow(m.roomId)) return; // maybeMarkRead runs once it is drawn
  r.unread = Math.min(COUNT_CAP, r.unread + 1);
  if (m.mentions.some((x) => x.userId === me()?.userId)) {
    r.mentions = Math.min(COUNT_CAP, r.mentions + 1);
    // Mentions notify: a notice besides the badge, unless the room is on screen.
    if (m.roomId !== state.currentRoomId || document.visibilityState !== 'visible') {
      const where = state.rooms.get(m.roomId)?.name;
      toast(where ? t('reads:mentionedYouIn', { name: m.senderName, room: where }) : t('reads:mentionedYou', { name: m.senderName }));
    }
  }
  renderSidebar();
}

/**
 * A message was deleted (it no longer counts) or edited (its mentions may differ): when the
 * room has anything unread, the server recounts.
 */
export function recountIfUnread(roomId: string) {
  const r = state.reads.get(roomId);
  if (r && r.unread > 0) recountSoon();
}

/** My marker moved on some device (this one included): what is before it is read. */
export function onReadMarker(d: WsEvents['read.marker']) {
  const r = readStateOf(d.roomId);
  if (d.lastRead <= r.lastRead) return;
  r.lastRead = d.lastRead;
  if (d.lastRead >= r.lastPosition) {
    r.unread = 0;
    r.mentions = 0;
    renderSidebar();
  } else recountSoon();
}

/** The newest message of the open room that is on screen (its top above the bottom edge). */
function newestShownPosition(): number {
  const view = el.scroller.getBoundingClientRect();
  const items = el.messageList.children;
  for (let i = items.length - 1; i >= 0; i--) {
    const node = items[i] as HTMLElement;
    const position = Number(node.dataset.position);
    if (!position) continue;
    if (node.getBoundingClientRect().top < view.bottom) return position;
  }
  return 0;
}

const marking = new Map<string, number>();

/**
 * Marks the open room read up to the newest message shown, when the tab is visible. One
 * request per room at a time; a newer position seen meanwhile is sent after it.
 */
export function maybeMarkRead() {
  const roomId = state.currentRoomId;
  const tl = state.timelines.get(roomId ?? '');
  if (!roomId || !tl || !state.client?.ready || document.visibilityState !== 'visible') return;
  const position = newestShownPosition();
  const r = readStateOf(roomId);
  if (!position || position <= r.lastRead) {
    // Everything shown is read; a room whose newest message is on screen has nothing unread.
    if (!tl.detached && position && position >= tl.newestPosition && (r.unread || r.mentions)) {
      r.unread = r.mentions = 0;
      renderSidebar();
    }
    return;
  }
  if (marking.has(roomId)) {
    marking.set(roomId, Math.max(marking.get(roomId)!, position));
    return;
  }
  marking.set(roomId, position);
  // Shown at once; the server's answer (or a read.marker) corrects the counts.
  const caughtUp = !tl.detached && position >= tl.newestPosition;
  r.lastRead = position;
  if (caughtUp) r.unread = r.mentions = 0;
  renderSidebar();
  void client()
    .request('read.mark', { roomId, position })
    .then((view) => {
      const now = readStateOf(roomId);
      if (view.lastRead >= now.lastRead || now.lastRead === position)
        state.reads.set(roomId, { ...view, lastRead: Math.max(view.lastRead, now.lastRead) });
      renderSidebar();
    })
    .catch(() => undefined)
    .finally(() => {
      const next = marking.get(roomId)!;
      marking.delete(roomId);
      if (next > position) maybeMarkRead();
    });
}

/** The "new messages" line of a room being opened: after my marker, when anything is unread. */
export function dividerFor(roomId: string): number | null {
  const r = state.reads.get(roomId);
  return r && r.unread > 0 ? r.lastRead : null;
}

/** The badges of a room in the sidebar: mentions of me (`@n`) and unread messages. */
export function badges(roomId: string): { unread: number; nodes: HTMLElement[] } {
  const r = state.reads.get(roomId);
  // The open room, read as it arrives, shows none.
  const unread = r?.unread ?? 0;
  const mentions = r?.mentions ?? 0;
  const nodes: HTMLElement[] = [];
  if (mentions)
    nodes.push(
      h('span', {
        class: 'badge mention-badge',
        testid: `mentions-${roomId}`,
        title: t('reads:mentions', { count: mentions }),
        text: `@${badgeText(mentions)}`,
      }),
    );
  if (unread)
    nodes.push(
      h('span', { class: 'badge', testid: `unread-${roomId}`, title: t('reads:unread', { count: unread }), text: badgeText(unread) }),
    );
  return { unread, nodes };
}
