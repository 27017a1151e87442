import type { UserView } from '@chat/contracts';
import { h } from '../dom';
import { t } from '../i18n/i18n';
import { roomTitle, state } from '../state';

// The moderation operations name users by id, and no operation looks a name up: the forms that
// take a username (audit filter, granting a server role) resolve it among the people this page
// knows — statuses, conversations, the senders of loaded messages, and every user the moderation
// lists showed (reports, audit, mutes, bans, roles).

const seen = new Map<string, UserView>();

/** Remembers users a moderation list showed. */
export function remember(...users: Array<UserView | null | undefined>) {
  for (const u of users) if (u?.userId && u.username) seen.set(u.userId, { userId: u.userId, username: u.username });
}

/** Every user this page knows, by id. */
export function knownUsers(): Map<string, UserView> {
  const users = new Map(seen);
  const add = (userId: string, username: string) => userId && username && users.set(userId, { userId, username });
  for (const { view } of state.presence.values()) add(view.userId, view.username);
  for (const u of state.serverOnline ?? []) add(u.userId, u.username);
  for (const c of state.conversations.values()) add(c.peer.userId, c.peer.username);
  for (const tl of state.timelines.values()) for (const m of tl.messages) add(m.senderId, m.senderName);
  if (state.session) add(state.session.user.userId, state.session.user.username);
  return users;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A typed username (or a pasted user id) as a user, or null when this page does not know it. */
export function resolveUser(text: string): UserView | null {
  const t = text.trim();
  if (!t) return null;
  const users = knownUsers();
  if (UUID.test(t)) return users.get(t.toLowerCase()) ?? { userId: t.toLowerCase(), username: t };
  const key = t.normalize('NFKC').toLowerCase();
  for (const u of users.values()) if (u.username.normalize('NFKC').toLowerCase() === key) return u;
  return null;
}

/** MODERATION_USER of the contracts (whose runtime the bundle leaves out): the service acting on its own. */
const MODERATION_USER_ID = '00000000-0000-0000-0000-00000000d0d0';

/**
 * How the page names a user: their username; when a view only had an id (or the id as the
 * name), the name this page knows, else a short id ("user 1a2b…"); the moderation service by
 * that name.
 */
export function userName(u: UserView): string {
  if (u.userId === MODERATION_USER_ID) return t('moderation:auto');
  if (u.username && u.username !== u.userId) return u.username;
  const known = knownUsers().get(u.userId)?.username;
  return known && known !== u.userId ? known : t('moderation:user.short', { id: u.userId.slice(0, 4) });
}

/** How the page names a room: "# name" (🔒 private), a conversation by the other person, else "# <id>". */
export function roomName(roomId: string): string {
  const room = state.rooms.get(roomId);
  if (room) return roomTitle(room);
  const peer = state.conversations.get(roomId)?.peer;
  if (peer) return t('moderation:room.conversation', { name: peer.username });
  return roomId.startsWith('dm-') ? t('moderation:room.someConversation') : `# ${roomId}`;
}

export const namer = { user: userName, room: roomName };

let listCount = 0;
/** A username input with the known people as suggestions. */
export function userInput(testid: string, placeholder: string = t('moderation:people.placeholder')): HTMLInputElement {
  const id = `mod-users-${++listCount}`;
  const input = h('input', {
    testid,
    placeholder,
    list: id,
    spellcheck: 'false',
    autocapitalize: 'none',
    maxlength: 128,
  }) as HTMLInputElement;
  const list = h('datalist', { id });
  const fill = () => list.replaceChildren(...[...knownUsers().values()].map((u) => h('option', { value: u.username })));
  input.addEventListener('focus', fill);
  fill();
  // The datalist must be in the page with the input: it travels as the input's next sibling.
  queueMicrotask(() => input.after(list));
  return input;
}
