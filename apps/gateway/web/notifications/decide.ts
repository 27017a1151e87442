import { t } from '../i18n/i18n';

// When a message becomes a desktop notification, what the tab title counts, and the muted rooms
// as stored (pure, unit-tested; notify.ts does the DOM and the Notification API).

/** A message as the decision needs it. */
export interface Posted {
  roomId: string;
  senderId: string;
  senderName: string;
  body: string;
  /** It mentions me. */
  mentionsMe: boolean;
  /** It is in a private conversation. */
  isConversation: boolean;
}

/** The page as the decision needs it. */
export interface PageNow {
  myUserId: string | undefined;
  openRoomId: string | null;
  /** document.visibilityState === 'visible' */
  visible: boolean;
  /** The room is muted by me. */
  muted: boolean;
  /** Notification.permission, or 'unsupported'. */
  permission: string;
}

/**
 * A desktop notification for a mention of me or a private message, by someone else, in a room
 * I do not mute, when I am not looking at it (the tab is hidden or another room is open), and
 * only once the person allowed notifications.
 */
export function shouldNotify(m: Posted, page: PageNow): boolean {
  if (page.permission !== 'granted' || !page.myUserId || m.senderId === page.myUserId || page.muted) return false;
  if (!m.mentionsMe && !m.isConversation) return false;
  return !page.visible || m.roomId !== page.openRoomId;
}

/** The most of a message's text a notification shows. */
const BODY_MAX = 140;

/** A notification's title and text: the sender (a private message), or who mentioned me where. */
export function notificationText(m: Posted, roomName: string | undefined): { title: string; body: string } {
  const title = m.isConversation
    ? t('notifications:notice.dm', { sender: m.senderName })
    : t('notifications:notice.mention', { sender: m.senderName, room: roomName ?? m.roomId });
  const chars = [...m.body.replace(/\s+/g, ' ').trim()];
  return { title, body: chars.length > BODY_MAX ? `${chars.slice(0, BODY_MAX - 1).join('')}…` : chars.join('') };
}

/** A room's or conversation's counts, as reads/ keeps them. */
export interface Counts {
  roomId: string;
  unread: number;
  mentions: number;
}

/**
 * What the tab title counts: unread mentions of me in rooms, plus unread private messages;
 * nothing from a muted room or conversation.
 */
export function titleCount(counts: Iterable<Counts>, isConversation: (roomId: string) => boolean, isMuted: (roomId: string) => boolean) {
  let n = 0;
  for (const c of counts) {
    if (isMuted(c.roomId)) continue;
    n += isConversation(c.roomId) ? c.unread : c.mentions;
  }
  return n;
}

/** "(N) Chat", or the name alone when nothing waits. */
export const titleText = (name: string, count: number) => (count > 0 ? `(${count > 999 ? '999+' : count}) ${name}` : name);

/** The rooms `userId` muted, from localStorage's `chat.mutedRooms` ({ userId: roomIds }). */
export function mutedOf(raw: string | null, userId: string): Set<string> {
  try {
    const all = JSON.parse(raw ?? '{}') as Record<string, unknown>;
    const mine = all?.[userId];
    return new Set(Array.isArray(mine) ? mine.filter((r): r is string => typeof r === 'string') : []);
  } catch {
    return new Set();
  }
}

/** `chat.mutedRooms` after `userId` muted (on) or unmuted a room; other users' choices are kept. */
export function withMuted(raw: string | null, userId: string, roomId: string, on: boolean): string {
  let all: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(raw ?? '{}') as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) all = parsed as Record<string, unknown>;
  } catch {
    // a broken value is replaced
  }
  const mine = mutedOf(raw, userId);
  if (on) mine.add(roomId);
  else mine.delete(roomId);
  if (mine.size) all[userId] = [...mine];
  else delete all[userId];
  return JSON.stringify(all);
}
