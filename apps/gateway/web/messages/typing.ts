import type { WsEvents } from '@chat/contracts';
import { WS_LIMITS as WsLimits } from '../limits';
import { el, me, state } from '../state';
import { typingText } from './typing-text';

// Typing indicators. Sending: `typing {roomId, typing: true}` while the composer has text (at
// most every WsLimits.typingMinIntervalMs per room: the typist repeats it before the others'
// indicator expires), `typing: false` when the text is sent or cleared or the composer loses
// focus. Showing: "alice is typing…" under the timeline of the open room, each typist expiring
// after the event's expiresInMs unless repeated, and at once when their message arrives.

/** roomId -> when typing:true was last sent (0: not typing). */
const sent = new Map<string, number>();

/** The composer's text changed in `roomId`. */
export function onComposerTyping(roomId: string | null, text: string) {
  if (!roomId) return;
  if (!text.trim()) return stopTyping(roomId);
  const now = Date.now();
  if (now - (sent.get(roomId) ?? 0) < WsLimits.typingMinIntervalMs) return;
  if (!state.client?.ready) return;
  sent.set(roomId, now);
  state.client.request('typing', { roomId, typing: true }).catch(() => sent.delete(roomId));
}

/** Sent, cleared, blurred, or another room opened: stop, if we said we were typing. */
export function stopTyping(roomId: string | null) {
  if (!roomId || !sent.get(roomId)) return;
  sent.delete(roomId);
  state.client?.request('typing', { roomId, typing: false }).catch(() => undefined);
}

/** roomId -> userId -> who and until when. */
const typists = new Map<string, Map<string, { username: string; until: number; timer: ReturnType<typeof setTimeout> }>>();

export function onTyping(d: WsEvents['typing']) {
  if (!d?.roomId || !d.userId || d.userId === me()?.userId) return;
  let room = typists.get(d.roomId);
  const known = room?.get(d.userId);
  if (known) clearTimeout(known.timer);
  if (!d.typing) {
    room?.delete(d.userId);
  } else {
    if (!room) typists.set(d.roomId, (room = new Map()));
    const ms = Math.min(Math.max(d.expiresInMs || WsLimits.typingExpiresMs, 1000), 60_000);
    room.set(d.userId, { username: d.username, until: Date.now() + ms, timer: setTimeout(() => typistGone(d.roomId, d.userId), ms) });
  }
  renderTyping();
}

/** A message from this user arrived: they are not typing it any more. */
export function typistSent(roomId: string, userId: string) {
  if (typists.get(roomId)?.has(userId)) typistGone(roomId, userId);
}

function typistGone(roomId: string, userId: string) {
  const room = typists.get(roomId);
  const t = room?.get(userId);
  if (t) clearTimeout(t.timer);
  room?.delete(userId);
  renderTyping();
}

/** The line under the open room's timeline. */
export function renderTyping() {
  const room = typists.get(state.currentRoomId ?? '');
  const names = room ? [...room.values()].map((t) => t.username) : [];
  const text = typingText(names);
  el.typingLine.textContent = text;
  el.typingLine.dataset.count = String(names.length);
  el.typingLine.classList.toggle('active', names.length > 0);
}

/** Logged out: nobody is typing, and we are not either. */
export function resetTyping() {
  for (const room of typists.values()) for (const t of room.values()) clearTimeout(t.timer);
  typists.clear();
  sent.clear();
  renderTyping();
}
