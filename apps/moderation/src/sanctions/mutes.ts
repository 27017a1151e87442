import type { MuteView, UserMuted, UserUnmuted } from '@chat/contracts';

/**
 * Mutes in force, by muteId: a UserMuted adds one (replacing the user's earlier mute of the
 * same scope, room or server-wide), a UserUnmuted (expired or lifted) removes it. A mute whose
 * `until` has passed stays here until its UserUnmuted is stored (every replica appends it at
 * `until`; see MuteExpiry): readers ask `activeMute` with the current time, so a passed mute
 * never silences anyone while its expiry event is on the way.
 */
export interface Mutes {
  byId: Map<string, MuteView>;
  /** The same mutes by user, then muteId: what the send path asks on every message. */
  byUser: Map<string, Map<string, MuteView>>;
}

export const emptyMutes = (): Mutes => ({ byId: new Map(), byUser: new Map() });

function remove(mutes: Mutes, muteId: string): void {
  const m = mutes.byId.get(muteId);
  if (!m) return;
  mutes.byId.delete(muteId);
  const ofUser = mutes.byUser.get(m.userId);
  ofUser?.delete(muteId);
  if (ofUser?.size === 0) mutes.byUser.delete(m.userId);
}

const ofUser = (mutes: Mutes, userId: string): Iterable<MuteView> => mutes.byUser.get(userId)?.values() ?? [];

export function evolveMutes(mutes: Mutes, e: UserMuted | UserUnmuted): void {
  if (e.type === 'UserUnmuted') {
    remove(mutes, e.payload.muteId);
    return;
  }
  const m = e.payload;
  for (const other of [...ofUser(mutes, m.userId)]) if (other.roomId === m.roomId) remove(mutes, other.muteId);
  const view: MuteView = {
    muteId: m.muteId,
    userId: m.userId,
    username: m.username,
    roomId: m.roomId,
    until: m.until,
    reason: m.reason,
    by: m.byUserId && m.byUsername ? { userId: m.byUserId, username: m.byUsername } : null,
    rule: m.rule,
    time: e.time,
  };
  mutes.byId.set(m.muteId, view);
  const forUser = mutes.byUser.get(m.userId) ?? new Map<string, MuteView>();
  forUser.set(m.muteId, view);
  mutes.byUser.set(m.userId, forUser);
}

const endsAt = (m: MuteView) => Date.parse(m.until);

/** The mute that keeps the user from posting in `roomId` at `now` (that room's or the server-wide one; the later-ending one), or null. */
export function activeMute(mutes: Mutes, userId: string, roomId: string, now: number): MuteView | null {
  let found: MuteView | null = null;
  for (const m of ofUser(mutes, userId)) {
    if (endsAt(m) <= now) continue;
    if (m.roomId !== null && m.roomId !== roomId) continue;
    if (!found || endsAt(m) > endsAt(found)) found = m;
  }
  return found;
}

/** The user's mutes not yet ended at `now` (every scope), soonest-ending first. */
export function mutesOf(mutes: Mutes, userId: string, now: number): MuteView[] {
  return [...ofUser(mutes, userId)].filter((m) => endsAt(m) > now).sort((a, b) => endsAt(a) - endsAt(b));
}

/** Mutes in force at `now` in one scope: a room's (`roomId`), or server-wide (`null`); all of them when `roomId` is undefined. */
export function mutesIn(mutes: Mutes, roomId: string | null | undefined, now: number): MuteView[] {
  return [...mutes.byId.values()]
    .filter((m) => endsAt(m) > now && (roomId === undefined || m.roomId === roomId))
    .sort((a, b) => endsAt(a) - endsAt(b));
}

/** The user's mute of exactly this scope still in the fold (even if its time has passed), or null. */
export function muteOfScope(mutes: Mutes, userId: string, roomId: string | null): MuteView | null {
  for (const m of ofUser(mutes, userId)) if (m.roomId === roomId) return m;
  return null;
}

/**
 * What the expiry timer should do at `now`: the mutes whose time has passed (their UserUnmuted
 * is due), and when to look again (the soonest `until` still ahead, or null when none is).
 */
export function expiryDue(mutes: Mutes, now: number): { due: MuteView[]; nextAt: number | null } {
  const due: MuteView[] = [];
  let nextAt: number | null = null;
  for (const m of mutes.byId.values()) {
    const at = endsAt(m);
    if (at <= now) due.push(m);
    else if (nextAt === null || at < nextAt) nextAt = at;
  }
  return { due, nextAt };
}

/** The JetStream msgId of a mute's expiry: whichever replica appends it first, it is stored once. */
export const expiryMsgId = (muteId: string) => `unmute:${muteId}`;
