import type { WsEvents } from '@chat/contracts';
import { WS_LIMITS as WsLimits } from '../limits';
import { el, me, state } from '../state';
import { typingText } from './typing-text';

// Typing indicators. Sending: `typing {roomId, typing: true}` while the composer has text (at
// most every WsLimits.typingMinIntervalMs per room: the typist repeats it before the others'
// indicator expires), `typing: false` when the text is sent or cleared or the composer loses
// focus. Showing: "alice is typing…" under the timeline of the open room, each typist expiring
// after the event's expiresInMs unless repeated, and at once when their message arrives.

/** The gateway counts the interval from when it received the previous one: a little later than we sent it. */
const GATEWAY_CLOCK_MARGIN_MS = 400;
/** roomId -> when typing:true was last sent (kept after a stop: the gateway's interval counts from it). */
const lastTrue = new Map<string, number>();
/** Rooms where we said we are typing and have not said we stopped. */
const typing = new Set<string>();
/** roomId -> a typing:true waiting for the interval to pass. */
const deferred = new Map<string, ReturnType<typeof setTimeout>>();

/**
 * The composer's text changed in `roomId`. A typing:true within the interval of the previous
 * one would be swallowed by the gateway (answered, not sent on), so it waits for the interval:
 * typing again right after sending or clearing still shows.
 */
export function onComposerTyping(roomId: string | null, text: string) {
  if (!roomId) return;
  if (!text.trim()) return stopTyping(roomId);
  if (deferred.has(roomId)) return;
  const wait = (lastTrue.get(roomId) ?? 0) + WsLimits.typingMinIntervalMs + GATEWAY_CLOCK_MARGIN_MS - Date.now();
  if (wait <= 0) return sendTyping(roomId);
  if (typing.has(roomId)) return; // said recently, still fresh for the others
  deferred.set(
    roomId,
    setTimeout(() => {
      deferred.delete(roomId);
      if (state.currentRoomId === roomId && el.input.value.trim()) sendTyping(roomId);
    }, wait),
  );
}

function sendTyping(roomId: string) {
  if (!state.client?.ready) return;
  lastTrue.set(roomId, Date.now());
  typing.add(roomId);
  state.client.request('typing', { roomId, typing: true }).catch(() => typing.delete(roomId));
}

/** Sent, cleared, blurred, or another room opened: stop, if we said we were typing. */
export function stopTyping(roomId: string | null) {
  if (!roomId) return;
  clearTimeout(deferred.get(roomId));
  deferred.delete(roomId);
  if (!typing.delete(roomId)) return;
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
  for (const t of deferred.values()) clearTimeout(t);
  deferred.clear();
  typing.clear();
  lastTrue.clear();
  renderTyping();
}
