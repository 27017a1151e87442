import { ResumeSelection, isChatEvent, membershipChange, resumeRefusal, selectResumeFrames, type StoredEvent } from './resume';

const ME = '00000000-0000-4000-8000-0000000000a1';
const BOB = '00000000-0000-4000-8000-0000000000a2';
const BOSS = '00000000-0000-4000-8000-0000000000b0';
const MSG = '00000000-0000-4000-8000-0000000000e1';
const T = '2025-01-01T00:00:00.000Z';
const byBoss = { byUserId: BOSS, byUsername: 'Boss' };

let nextPosition = 100;
const env = (type: string, payload: unknown, version = 1): StoredEvent => ({
  position: ++nextPosition,
  data: {
    id: `e${nextPosition}`,
    type,
    version,
    time: T,
    actor: { kind: 'user', id: 'u' },
    correlationId: 'c',
    causationId: null,
    payload,
  },
});
const post = (roomId: string, senderId = BOB, body = 'hi') =>
  env(
    'MessagePosted',
    {
      roomId,
      messageId: `00000000-0000-4000-8000-${String(nextPosition + 1).padStart(12, '0')}`,
      senderId,
      senderName: 'x',
      clientMsgId: 'c',
      body,
      replyTo: null,
      mentions: [],
    },
    2,
  );
const edit = (roomId: string, senderId = BOB) => env('MessageEdited', { roomId, messageId: MSG, senderId, body: 'b', mentions: [] });
const reaction = (roomId: string, userId = BOB) => env('ReactionAdded', { roomId, messageId: MSG, emoji: '👍', userId, username: 'Bob' });
const joined = (roomId: string, userId = ME) => env('MemberJoined', { roomId, userId, username: 'Me', role: 'member' });
const left = (roomId: string, userId = ME) =>
  env('MemberLeft', { roomId, userId, username: 'Me', successorId: null, successorName: null }, 2);
const kicked = (roomId: string, userId = ME) => env('MemberKicked', { roomId, userId, username: 'Me', ...byBoss, reason: 'spam' });
const invited = (roomId: string, userId = ME) => env('MemberInvited', { roomId, userId, username: 'Me', ...byBoss, roomName: 'Room' });
const banned = (roomId: string, userId = ME) => env('MemberBanned', { roomId, userId, username: 'Me', ...byBoss, reason: 'spam' });
const deleted = (roomId: string) => env('RoomDeleted', { roomId, reason: 'owner', ...byBoss });
const opened = (roomId: string, reason: 'message' | 'block' = 'message', openedById = BOB) =>
  env('ConversationOpened', { roomId, userAId: ME, userAName: 'Me', userBId: BOB, userBName: 'Bob', openedById, reason });
const blocked = (roomId: string, blockerId = BOB, blockedId = ME) => env('UserBlocked', { roomId, blockerId, blockedId });

/** The selection as [position, event, roomId] triples. */
function pick(events: StoredEvent[], currentRooms: string[], max?: number) {
  const out = selectResumeFrames(ME, events, currentRooms, max);
  if (out === 'too_many') return out;
  return out.frames.map((f) => [f.position, f.frame.event, (f.frame.data as { roomId: string }).roomId]);
}
const at = (e: StoredEvent) => e.position;

describe('resume - which stored events a returning user is sent', () => {
  it("sends the events of the user's rooms in position order, frames as live delivery makes them, nothing of other rooms", () => {
    const events = [post('a'), post('other'), edit('a'), reaction('a'), post('b'), joined('a', BOB), post('other')];
    expect(pick(events, ['a', 'b'])).toEqual([
      [at(events[0]), 'message.posted', 'a'],
      [at(events[2]), 'message.edited', 'a'],
      [at(events[3]), 'reaction.added', 'a'],
      [at(events[4]), 'message.posted', 'b'],
      [at(events[5]), 'member.joined', 'a'],
    ]);
    const out = selectResumeFrames(ME, events, ['a']);
    expect(out !== 'too_many' && out.frames[0].frame.data).toMatchObject({ roomId: 'a', position: at(events[0]), body: 'hi' });
  });

  it('a room joined in the window: from the join on, not before (though the room is among the current ones)', () => {
    const events = [post('a'), joined('a'), post('a')];
    expect(pick(events, ['a'])).toEqual([
      [at(events[1]), 'member.joined', 'a'],
      [at(events[2]), 'message.posted', 'a'],
    ]);
  });

  it('a room left, kicked or banned from in the window: up to and including the removal (though no longer current)', () => {
    const k = [post('a'), kicked('a'), post('a')];
    expect(pick(k, [])).toEqual([
      [at(k[0]), 'message.posted', 'a'],
      [at(k[1]), 'member.kicked', 'a'],
    ]);
    const l = [post('b'), left('b'), post('b'), joined('b'), post('b')];
    expect(pick(l, ['b'])).toEqual([
      [at(l[0]), 'message.posted', 'b'],
      [at(l[1]), 'member.left', 'b'],
      [at(l[3]), 'member.joined', 'b'],
      [at(l[4]), 'message.posted', 'b'],
    ]);
  });

  it('events about the user reach them outside the room: an invitation, a conversation opened', () => {
    const events = [post('c'), invited('c'), post('c'), opened('dm'), post('dm')];
    expect(pick(events, [])).toEqual([
      [at(events[1]), 'invitation.received', 'c'],
      [at(events[3]), 'conversation.opened', 'dm'],
      [at(events[4]), 'message.posted', 'dm'],
    ]);
  });

  it('a deleted room: its deletion is the last event', () => {
    const events = [post('a'), deleted('a'), post('a')];
    expect(pick(events, ['a'])).toEqual([
      [at(events[0]), 'message.posted', 'a'],
      [at(events[1]), 'room.deleted', 'a'],
    ]);
  });

  it('a room deleted in the window with nothing else to tell: undecided until the resumer settles it from the earlier events', () => {
    const events = [post('gone'), deleted('gone'), post('left-then-deleted'), left('left-then-deleted'), deleted('left-then-deleted')];
    const member = new ResumeSelection(ME, []);
    events.forEach((e) => member.learn(e));
    expect(member.undecided()).toEqual(['gone']);
    member.settle('gone', true);
    expect(events.flatMap((e) => (member.select(e) as Array<{ event: string }>).map((f) => f.event))).toEqual([
      'message.posted',
      'room.deleted',
      'message.posted',
      'member.left',
    ]);
    const stranger = new ResumeSelection(ME, []);
    events.forEach((e) => stranger.learn(e));
    stranger.settle('gone', false);
    expect(events.flatMap((e) => (stranger.select(e) as Array<{ event: string }>).map((f) => f.event))).toEqual([
      'message.posted',
      'member.left',
    ]);
    expect([joined('x'), kicked('x'), deleted('x'), post('x'), joined('x', BOB)].map((e) => membershipChange(ME, e))).toEqual([
      true,
      false,
      false,
      null,
      null,
    ]);
  });

  it('a ban first in the window (a non-member can be banned too) is undecided like a deletion; a later join does not decide it (the unban, not about a member, is not theirs)', () => {
    const events = [
      post('b'),
      banned('b'),
      env('MemberUnbanned', { roomId: 'b', userId: ME, username: 'Me', ...byBoss }),
      joined('b'),
      post('b'),
    ];
    const wasMember = new ResumeSelection(ME, ['b']);
    events.forEach((e) => wasMember.learn(e));
    expect(wasMember.undecided()).toEqual(['b']);
    wasMember.settle('b', true);
    expect(events.flatMap((e) => (wasMember.select(e) as Array<{ event: string }>).map((f) => f.event))).toEqual([
      'message.posted',
      'member.banned',
      'member.joined',
      'message.posted',
    ]);
    const never = new ResumeSelection(ME, ['b']);
    events.forEach((e) => never.learn(e));
    never.settle('b', false);
    expect(events.flatMap((e) => (never.select(e) as Array<{ event: string }>).map((f) => f.event))).toEqual([
      'member.banned',
      'member.joined',
      'message.posted',
    ]);
  });

  it('like live delivery: no post or change by someone removed after their removal, none in a blocked conversation', () => {
    const events = [kicked('a', BOB), post('a', BOB), edit('a', BOB), post('a', ME), blocked('dm'), post('dm', ME)];
    expect(pick(events, ['a', 'dm'])).toEqual([
      [at(events[0]), 'member.kicked', 'a'],
      [at(events[3]), 'message.posted', 'a'],
    ]);
    // The blocker is told; the blocked side is not (blocking is silent).
    const mine = [blocked('dm', ME, BOB)];
    expect(pick(mine, ['dm'])).toEqual([[at(mine[0]), 'user.blocked', 'dm']]);
  });

  it('skips malformed and unknown stored events (counted), as live delivery drops them', () => {
    const events = [{ position: 1, data: { nonsense: true } }, env('SomethingNew', { roomId: 'a' }), post('a')];
    const out = selectResumeFrames(ME, events, ['a']);
    expect(out !== 'too_many' && { n: out.frames.length, skipped: out.skipped }).toEqual({ n: 1, skipped: 1 });
  });

  it("more frames than the limit: 'too_many' (the client reloads)", () => {
    const events = [post('a'), post('a'), post('a')];
    expect(pick(events, ['a'], 2)).toBe('too_many');
    expect(pick(events, ['a'], 3)).toHaveLength(3);
  });

  it('refuses before reading: beyond the newest position, purged, too far behind; a client up to date gets nothing', () => {
    expect(resumeRefusal(11, { first: 1, last: 10 }, 100)).toEqual({ status: 'reload', reason: 'unknown_position', latest: 10 });
    expect(resumeRefusal(3, { first: 5, last: 10 }, 100)).toEqual({ status: 'reload', reason: 'purged', latest: 10 });
    expect(resumeRefusal(4, { first: 5, last: 10 }, 100)).toBeNull();
    expect(resumeRefusal(4, { first: 11, last: 10 }, 100)).toEqual({ status: 'reload', reason: 'purged', latest: 10 });
    expect(resumeRefusal(10, { first: 11, last: 10 }, 100)).toBeNull();
    expect(resumeRefusal(0, { first: 1, last: 101 }, 100)).toEqual({ status: 'reload', reason: 'too_far_behind', latest: 101 });
    expect(resumeRefusal(1, { first: 1, last: 101 }, 100)).toBeNull();
    expect(resumeRefusal(0, { first: 1, last: 0 }, 100)).toBeNull();
  });

  it('only chat-stream events are replayed and held (presence, typing, read markers, shutdown are not)', () => {
    expect((['message.posted', 'member.kicked', 'invitation.received'] as const).every((e) => isChatEvent(e))).toBe(true);
    expect(['presence.changed', 'presence.mine', 'typing', 'read.marker', 'server.shutdown'].some((e) => isChatEvent(e as never))).toBe(
      false,
    );
  });
});
