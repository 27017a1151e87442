import type { ResumeResult, WsEventName } from '@chat/contracts';
import { readRoomEvent, roomOf, type WsFrame } from './live-events';

/**
 * Resume (docs/protocol.md "Resuming"), the pure part: which of the stored CHAT events after a
 * client's `resumeFrom` it is sent, as which frames. The same translation as live delivery
 * (live-events.ts), with the membership of the user at each position decided from the stored
 * events themselves. Reading the stream is the resumer's job (resumer.ts).
 */

/** A stored event of the CHAT stream: its position (stream sequence) and its parsed data. */
export interface StoredEvent {
  position: number;
  data: unknown;
}

/** One frame to send, at its stream position. */
export interface ResumeFrame {
  position: number;
  frame: WsFrame;
}

/** Events whose positions are not CHAT stream positions: never replayed, never held for a resume. */
const NOT_CHAT: ReadonlySet<WsEventName> = new Set<WsEventName>([
  'presence.changed',
  'presence.mine',
  'typing',
  'read.marker',
  'server.shutdown',
]);

/** true for events positioned in the CHAT stream (the ones a resume replays, and the client's resume position counts). */
export const isChatEvent = (event: WsEventName): boolean => !NOT_CHAT.has(event);

/**
 * What a stored event does to the user's membership of its room: true (joined: a join, a room
 * created by them, a conversation opened with them), false (left, kicked or banned; a deleted
 * room ends everyone's), null (nothing).
 */
export function membershipChange(userId: string, e: StoredEvent): boolean | null {
  const read = readRoomEvent(e.data, e.position);
  if (typeof read === 'string' || read.kind !== 'room') return null;
  const { follow, unfollow } = read.effect;
  if (follow.includes(userId)) return true;
  if (unfollow === 'everyone' || unfollow.includes(userId)) return false;
  return null;
}

/** Why a resume cannot be served, before reading anything; null when it can. */
export function resumeRefusal(
  resumeFrom: number,
  stream: { first: number; last: number },
  maxGap: number,
): Extract<ResumeResult, { status: 'reload' }> | null {
  const reload = (reason: 'too_far_behind' | 'purged' | 'unknown_position') => ({ status: 'reload' as const, reason, latest: stream.last });
  if (resumeFrom > stream.last) return reload('unknown_position');
  if (resumeFrom === stream.last) return null;
  // `first` is the oldest event still stored (last + 1 when none is): everything after resumeFrom must be there.
  if (stream.first > resumeFrom + 1) return reload('purged');
  if (stream.last - resumeFrom > maxGap) return reload('too_far_behind');
  return null;
}

/**
 * Selection of one user's frames, in two passes over the same window of the stream (both in
 * position order): `learn` sees the room (meta) events, `select` then sees every event.
 *
 * Membership at the window's start is not stored anywhere, so it is inferred: in a room where
 * the user's first membership change in the window is a join (or a conversation opened with
 * them), they were not a member before it; where it is a leave or a kick, they were; where it
 * is a ban or the room's deletion, the room's earlier events tell (`undecided`, `settle`); in
 * every other room their membership did not change in the window, so it is what the rooms
 * service lists now (`currentRooms`). Then, like live delivery, the user gets a room's
 * events while a member (their own join and removal included), the events about them
 * (invitations, conversations opened) wherever they are, and no post or message change stored
 * after its author's removal or in a conversation while a block stands.
 */
export class ResumeSelection {
  private readonly current: ReadonlySet<string>;
  /** roomId -> membership at the window's start, from the user's first membership change in it (pass 1). */
  private readonly initially = new Map<string, boolean>();
  /**
   * Rooms whose first event about the user in the window does not tell their membership before
   * it (pass 1): a deletion (everyone's end), or a ban (a non-member can be banned too).
   */
  private readonly unclear = new Set<string>();
  /** roomId -> membership after the events selected so far (pass 2). */
  private readonly member = new Map<string, boolean>();
  /** roomId -> users removed in the window with no later join (their posts after it are void). */
  private readonly removed = new Map<string, Set<string>>();
  /** roomId -> users blocking the other in the conversation, as seen in the window. */
  private readonly blockers = new Map<string, Set<string>>();

  constructor(
    private readonly userId: string,
    currentRooms: Iterable<string>,
  ) {
    this.current = new Set(currentRooms);
  }

  /** Pass 1: a stored room event of the window (anything else is ignored). */
  learn(e: StoredEvent): void {
    const read = readRoomEvent(e.data, e.position);
    if (typeof read === 'string' || read.kind !== 'room') return;
    const { roomId, follow, unfollow, room } = read.effect;
    if (this.initially.has(roomId) || this.unclear.has(roomId)) return;
    if (follow.includes(this.userId)) this.initially.set(roomId, false);
    else if (unfollow === 'everyone') this.unclear.add(roomId);
    else if (unfollow.includes(this.userId)) {
      if (room?.event === 'member.banned') this.unclear.add(roomId);
      else this.initially.set(roomId, true);
    }
  }

  /**
   * Rooms whose membership at the window's start the window cannot tell (the user's first
   * change in it is the room's deletion or a ban of theirs): the resumer reads the room's
   * earlier events and says (`settle`).
   */
  undecided(): string[] {
    return [...this.unclear].filter((roomId) => !this.initially.has(roomId));
  }

  /** The user's membership of a room at the window's start, learnt from the room's earlier events. */
  settle(roomId: string, member: boolean): void {
    this.initially.set(roomId, member);
  }

  /** Pass 2: the frames (zero or one) this stored event gives the user; 'malformed' when it is not a valid event. */
  select(e: StoredEvent): WsFrame[] | 'malformed' {
    const read = readRoomEvent(e.data, e.position);
    if (read === 'ignore') return [];
    if (read === 'malformed') return 'malformed';
    const roomId = roomOf(read);
    const member = this.isMember(roomId);
    if (read.kind !== 'room') {
      const authorId = read.kind === 'message' ? read.message.senderId : read.senderId;
      if (!member || this.removed.get(roomId)?.has(authorId) || (this.blockers.get(roomId)?.size ?? 0) > 0) return [];
      return [read.kind === 'message' ? { event: 'message.posted', data: read.message } : read.frame];
    }
    const { effect } = read;
    if (effect.block) {
      const set = this.setOf(this.blockers, roomId);
      if (effect.block.blocked) set.add(effect.block.blockerId);
      else set.delete(effect.block.blockerId);
    }
    for (const u of effect.follow) this.removed.get(roomId)?.delete(u);
    const joins = effect.follow.includes(this.userId);
    if (joins) this.member.set(roomId, true);
    // Like live delivery: the user's personal frame wherever they are, else the room's while a member.
    const frame = effect.personal.get(this.userId) ?? (member || joins ? effect.room : null);
    if (effect.unfollow === 'everyone') {
      this.member.set(roomId, false);
      this.removed.delete(roomId);
      this.blockers.delete(roomId);
    } else {
      for (const u of effect.unfollow) this.setOf(this.removed, roomId).add(u);
      if (effect.unfollow.includes(this.userId)) this.member.set(roomId, false);
    }
    return frame ? [frame] : [];
  }

  private isMember(roomId: string): boolean {
    return this.member.get(roomId) ?? this.initially.get(roomId) ?? this.current.has(roomId);
  }

  private setOf(map: Map<string, Set<string>>, roomId: string): Set<string> {
    let set = map.get(roomId);
    if (!set) map.set(roomId, (set = new Set()));
    return set;
  }
}

/**
 * Both passes over a window held in memory (tests; the resumer streams the same two passes):
 * the user's frames in position order, or 'too_many' once more than `maxFrames` are selected.
 * Malformed stored events are skipped (`skipped` counts them), as live delivery drops them.
 */
export function selectResumeFrames(
  userId: string,
  events: readonly StoredEvent[],
  currentRooms: Iterable<string>,
  maxFrames = Infinity,
): { frames: ResumeFrame[]; skipped: number } | 'too_many' {
  const selection = new ResumeSelection(userId, currentRooms);
  for (const e of events) selection.learn(e);
  const frames: ResumeFrame[] = [];
  let skipped = 0;
  for (const e of events) {
    const out = selection.select(e);
    if (out === 'malformed') {
      skipped++;
      continue;
    }
    for (const frame of out) frames.push({ position: e.position, frame });
    if (frames.length > maxFrames) return 'too_many';
  }
  return { frames, skipped };
}
