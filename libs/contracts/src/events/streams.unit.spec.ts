import { decodeAccountEvent, accountEventTypes } from '../accounts/decode';
import type { AccountEvent } from '../accounts/events';
import { makeEvent, type Event, type EventContext } from '../envelope';
import { chatEventTypes, decodeChatEvent, isMessageEvent, isRoomEvent, messageEventTypes } from '../messages/decode';
import type { ChatEvent, MessageEvent } from '../messages/events';
import { decodePresenceEvent, presenceEventTypes } from '../presence/decode';
import type { PresenceEvent } from '../presence/events';
import { isRoomEventType, roomEventTypes } from '../rooms/decode';
import type { RoomEvent } from '../rooms/events';
import type { Decoded } from './decoder';

const USER = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const ctx: EventContext = {
  now: () => new Date('2030-01-02T03:04:05.678Z'),
  newId: () => '33333333-3333-4333-8333-333333333333',
  actor: { kind: 'user', id: USER },
  correlationId: 'c-1',
  causationId: null,
};
const event = <E extends Event<string, unknown, number>>(type: E['type'], payload: E['payload'], version: E['version'] = 1) =>
  makeEvent<E>(ctx, type, version, payload);

/** One valid event per type: a type added to a union without a sample here does not compile. */
type Samples<E extends Event<string, unknown, number>> = { [T in E['type']]: Extract<E, { type: T }> };

const chat: Samples<ChatEvent> = {
  RoomCreated: event(
    'RoomCreated',
    {
      roomId: 'team',
      name: 'Team',
      topic: '',
      visibility: 'private',
      postPolicy: 'admins',
      memberLimit: 10,
      slowModeSeconds: 30,
      ownerId: USER,
      ownerName: 'ann',
    },
    2,
  ),
  MemberJoined: event('MemberJoined', { roomId: 'team', userId: OTHER, username: 'bo', role: 'member' }),
  MemberLeft: event('MemberLeft', { roomId: 'team', userId: USER, username: 'ann', successorId: OTHER, successorName: 'bo' }, 2),
  MemberInvited: event('MemberInvited', {
    roomId: 'team',
    userId: OTHER,
    username: 'bo',
    byUserId: USER,
    byUsername: 'ann',
    roomName: 'Team',
  }),
  InvitationDeclined: event('InvitationDeclined', { roomId: 'team', userId: OTHER, username: 'bo' }),
  MemberKicked: event('MemberKicked', { roomId: 'team', userId: OTHER, username: 'bo', byUserId: USER, byUsername: 'ann', reason: '' }),
  MemberBanned: event('MemberBanned', { roomId: 'team', userId: OTHER, username: 'bo', byUserId: USER, byUsername: 'ann', reason: 'spam' }),
  MemberUnbanned: event('MemberUnbanned', { roomId: 'team', userId: OTHER, username: 'bo', byUserId: USER, byUsername: 'ann' }),
  MemberRoleChanged: event('MemberRoleChanged', {
    roomId: 'team',
    userId: OTHER,
    username: 'bo',
    byUserId: USER,
    byUsername: 'ann',
    role: 'admin',
  }),
  OwnershipTransferred: event('OwnershipTransferred', { roomId: 'team', userId: OTHER, username: 'bo', byUserId: USER, byUsername: 'ann' }),
  RoomSettingsChanged: event(
    'RoomSettingsChanged',
    {
      roomId: 'team',
      name: 'Team 2',
      topic: 'plans',
      visibility: 'public',
      postPolicy: 'members',
      memberLimit: 20,
      slowModeSeconds: 0,
      byUserId: USER,
      byUsername: 'ann',
    },
    2,
  ),
  RoomRetentionSet: event('RoomRetentionSet', { roomId: 'team', days: 30, byUserId: USER, byUsername: 'ann' }),
  RoomDeleted: event('RoomDeleted', { roomId: 'team', reason: 'owner', byUserId: USER, byUsername: 'ann' }),
  ConversationOpened: event('ConversationOpened', {
    roomId: 'dm-0a1b',
    userAId: USER,
    userAName: 'ann',
    userBId: OTHER,
    userBName: 'bo',
    openedById: USER,
    reason: 'message',
  }),
  UserBlocked: event('UserBlocked', { roomId: 'dm-0a1b', blockerId: USER, blockedId: OTHER }),
  UserUnblocked: event('UserUnblocked', { roomId: 'dm-0a1b', blockerId: USER, blockedId: OTHER }),
  MessagePosted: event(
    'MessagePosted',
    {
      messageId: OTHER,
      roomId: 'team',
      senderId: USER,
      senderName: 'ann',
      clientMsgId: 'c-42',
      body: 'hello @bo',
      replyTo: { messageId: USER, position: 7, senderId: OTHER, senderName: 'bo', excerpt: 'hi' },
      mentions: [{ userId: OTHER, username: 'bo' }],
    },
    2,
  ),
  MessageEdited: event('MessageEdited', { messageId: OTHER, roomId: 'team', senderId: USER, body: 'hello', mentions: [] }),
  MessageDeleted: event('MessageDeleted', { messageId: OTHER, roomId: 'team', byUserId: USER, byUsername: 'ann', reason: 'moderator' }),
  ReactionAdded: event('ReactionAdded', { messageId: OTHER, roomId: 'team', userId: USER, username: 'ann', emoji: '👍' }),
  ReactionRemoved: event('ReactionRemoved', { messageId: OTHER, roomId: 'team', userId: USER, username: 'ann', emoji: '👍🏽' }),
};
const accounts: Samples<AccountEvent> = {
  UserRegistered: event('UserRegistered', { userId: USER, username: 'ann' }),
  UserPasswordChanged: event('UserPasswordChanged', { userId: USER, keptSessionId: 'sess-1' }),
  UserDisabled: event('UserDisabled', { userId: USER, byUserId: OTHER, reason: 'spam' }),
  UserEnabled: event('UserEnabled', { userId: USER, byUserId: OTHER }),
  UserDeleted: event('UserDeleted', { userId: USER, username: 'ann' }),
};
const presence: Samples<PresenceEvent> = {
  PresenceChanged: event(
    'PresenceChanged',
    { userId: USER, username: 'ann', status: 'away', text: '在开会', lastSeen: '2030-01-02T03:04:05.678Z' },
    2,
  ),
};

/** Compile-time equality of two types: `true` only when each is assignable to the other. */
type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const exactly = <T extends true>(proof: T) => proof;

const streams = [
  { name: 'chat', decode: decodeChatEvent as (d: unknown) => Decoded<Event<string, object, number>>, samples: chat, types: chatEventTypes },
  { name: 'accounts', decode: decodeAccountEvent, samples: accounts, types: accountEventTypes },
  { name: 'presence', decode: decodePresenceEvent, samples: presence, types: presenceEventTypes },
] as const;
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe.each(streams)('$name stream decoder', ({ decode, samples, types }) => {
  const all = Object.values(samples) as Array<Event<string, Record<string, unknown>, number>>;

  it('decodes a valid event of every type, from bytes and from parsed JSON', () => {
    for (const e of all) {
      expect(decode(bytes(e))).toEqual({ ok: true, event: e });
      expect(decode(e)).toEqual({ ok: true, event: e });
    }
  });

  it('lists exactly the types of its union', () => {
    expect([...types].sort()).toEqual(Object.keys(samples).sort());
  });

  it('an unknown type is its own failure', () => {
    expect(decode({ ...all[0], type: 'RoomExploded' })).toEqual({
      ok: false,
      kind: 'unknown-type',
      type: 'RoomExploded',
      reason: 'unknown event type "RoomExploded"',
    });
  });

  it('a version above the current one, or 0, is unsupported', () => {
    for (const e of all)
      for (const version of [e.version + 1, 0])
        expect(decode({ ...e, version })).toMatchObject({ ok: false, kind: 'unsupported-version', type: e.type, version });
  });

  it.each([
    ['invalid JSON bytes', new TextEncoder().encode('{"type":'), 'not JSON'],
    ['no JSON at all (undefined)', undefined, 'not JSON'],
    ['a string', 'garbage', 'not an event envelope (no type)'],
    ['an array', [1, 2], 'not an event envelope (no type)'],
    ['null', null, 'not an event envelope (no type)'],
    ['an object without a type', { version: 1, payload: {} }, 'not an event envelope (no type)'],
  ])('%s is malformed', (_what, data, reason) => {
    expect(decode(data)).toEqual({ ok: false, kind: 'malformed', type: null, reason });
  });

  it.each([
    ['a version that is not a number', { version: '1' }, 'version must be a non-negative integer'],
    ['a fractional version', { version: 1.5 }, 'version must be a non-negative integer'],
    ['no id', { id: undefined }, 'id must be a non-empty string'],
    ['a time that is not ISO-8601 UTC', { time: '2030-01-02 03:04:05' }, 'time must be an ISO-8601 UTC time'],
    ['an impossible time', { time: '2030-13-45T00:00:00Z' }, 'time must be an ISO-8601 UTC time'],
    ['an actor without a kind', { actor: { id: USER } }, 'actor must be'],
    ['an actor of an unknown kind', { actor: { kind: 'robot', id: USER } }, 'actor must be'],
    ['no correlation id', { correlationId: undefined }, 'correlationId must be a non-empty string'],
    ['a causation id that is a number', { causationId: 7 }, 'causationId must be a non-empty string or null'],
    ['a null payload', { payload: null }, 'payload must be an object'],
    ['an array payload', { payload: ['x'] }, 'payload must be an object'],
    ['a string payload', { payload: 'x' }, 'payload must be an object'],
  ])('an envelope with %s is malformed', (_what, change, reason) => {
    for (const e of all) {
      const out = decode({ ...e, ...change });
      expect(out).toMatchObject({ ok: false, kind: 'malformed', type: e.type });
      expect(!out.ok && out.reason).toContain(reason);
    }
  });

  it('an event with any payload field missing, or of the wrong type, is malformed and names the field', () => {
    for (const e of all) {
      for (const field of Object.keys(e.payload)) {
        const { [field]: _dropped, ...missing } = e.payload;
        for (const payload of [missing, { ...e.payload, [field]: { wrong: true } }]) {
          const out = decode({ ...e, payload });
          expect(out).toMatchObject({ ok: false, kind: 'malformed', type: e.type });
          expect(!out.ok && out.reason).toContain(`payload.${field} must be`);
        }
      }
    }
  });
});

describe('chat stream decoder - field rules', () => {
  it.each([
    ['a room id that is not a slug', 'MemberJoined', { roomId: 'Not A Room' }, 'payload.roomId must be a room id'],
    ['a user id that is not a UUID', 'MemberLeft', { userId: 'bo' }, 'payload.userId must be a UUID'],
    ['an unknown role', 'MemberJoined', { role: 'king' }, 'payload.role must be one of owner, admin, member'],
    ['an unknown visibility', 'RoomCreated', { visibility: 'secret' }, 'payload.visibility must be one of public, private'],
    ['a member limit of 0', 'RoomCreated', { memberLimit: 0 }, 'payload.memberLimit must be a positive integer'],
    ['a fractional member limit', 'RoomCreated', { memberLimit: 2.5 }, 'payload.memberLimit must be a positive integer'],
    ['an owner id that is not a UUID', 'RoomCreated', { ownerId: 'ann' }, 'payload.ownerId must be a UUID or null'],
    ['a message id that is not a UUID', 'MessagePosted', { messageId: 'm-1' }, 'payload.messageId must be a UUID'],
    ['an empty sender name', 'MessagePosted', { senderName: '' }, 'payload.senderName must be a non-empty string'],
    ['a numeric body', 'MessagePosted', { body: 42 }, 'payload.body must be a string'],
  ] as const)('%s is malformed', (_what, type, change, reason) => {
    const e = chat[type];
    const out = decodeChatEvent({ ...e, payload: { ...e.payload, ...change } });
    expect(out).toEqual({ ok: false, kind: 'malformed', type, reason: `${type}: ${reason}` });
  });

  it('reads a room the system created (no owner) and an empty body', () => {
    const system = { ...chat.RoomCreated, payload: { ...chat.RoomCreated.payload, ownerId: null, ownerName: null } };
    expect(decodeChatEvent(system)).toEqual({ ok: true, event: system });
    const empty = { ...chat.MessagePosted, payload: { ...chat.MessagePosted.payload, body: '' } };
    expect(decodeChatEvent(empty)).toEqual({ ok: true, event: empty });
  });

  it('reports every problem of a payload at once', () => {
    const out = decodeChatEvent({ ...chat.MemberJoined, payload: { roomId: 'team' } });
    expect(!out.ok && out.reason).toBe(
      'MemberJoined: payload.userId must be a UUID; payload.username must be a non-empty string; payload.role must be one of owner, admin, member',
    );
  });

  it('splits the chat stream into room events and message events, and the lists cover exactly the unions', () => {
    exactly<Equal<(typeof roomEventTypes)[number], RoomEvent['type']>>(true);
    exactly<Equal<(typeof messageEventTypes)[number], MessageEvent['type']>>(true);
    exactly<Equal<(typeof chatEventTypes)[number], ChatEvent['type']>>(true);
    const messageTypes = ['MessagePosted', 'MessageEdited', 'MessageDeleted', 'ReactionAdded', 'ReactionRemoved'];
    expect([...roomEventTypes].sort()).toEqual(
      Object.keys(chat)
        .filter((t) => !messageTypes.includes(t))
        .sort(),
    );
    expect([...messageEventTypes].sort()).toEqual([...messageTypes].sort());
    expect([...chatEventTypes].sort()).toEqual([...roomEventTypes, ...messageEventTypes].sort());
    for (const e of Object.values(chat)) {
      expect(isRoomEvent(e)).toBe(isRoomEventType(e.type));
      expect(isMessageEvent(e)).toBe(!isRoomEventType(e.type));
    }
  });

  it('a chat event is an unknown type to the other streams, and the other way round', () => {
    expect(decodePresenceEvent(chat.MessagePosted)).toMatchObject({ ok: false, kind: 'unknown-type', type: 'MessagePosted' });
    expect(decodeChatEvent(presence.PresenceChanged)).toMatchObject({ ok: false, kind: 'unknown-type', type: 'PresenceChanged' });
    expect(decodeAccountEvent(chat.MemberJoined)).toMatchObject({ ok: false, kind: 'unknown-type' });
  });
});

describe('presence stream decoder - field rules', () => {
  it.each([
    ['an unknown status', { status: 'sleeping' }, 'payload.status must be one of online, away, busy, offline'],
    ['a lastSeen that is not a UTC time', { lastSeen: '2030-01-02T03:04:05+02:00' }, 'payload.lastSeen must be an ISO-8601 UTC time'],
    ['a user id that is not a UUID', { userId: 'u' }, 'payload.userId must be a UUID'],
  ])('%s is malformed', (_what, change, reason) => {
    const e = presence.PresenceChanged;
    expect(decodePresenceEvent({ ...e, payload: { ...e.payload, ...change } })).toEqual({
      ok: false,
      kind: 'malformed',
      type: 'PresenceChanged',
      reason: `PresenceChanged: ${reason}`,
    });
  });
});

describe('MemberLeft v1 (before successors)', () => {
  it('is read as v2 with no successor', () => {
    const v1 = { ...event('MemberLeft', { roomId: 'team', userId: OTHER, username: 'bo' } as never), version: 1 };
    expect(decodeChatEvent(v1)).toEqual({
      ok: true,
      event: { ...v1, version: 2, payload: { roomId: 'team', userId: OTHER, username: 'bo', successorId: null, successorName: null } },
    });
  });
});

describe('RoomCreated v1 and RoomSettingsChanged v1 (before slow mode)', () => {
  it('are read as v2 with slow mode off', () => {
    for (const e of [chat.RoomCreated, chat.RoomSettingsChanged]) {
      const { slowModeSeconds: _s, ...payload } = e.payload;
      const v1 = { ...e, version: 1, payload };
      expect(decodeChatEvent(v1)).toEqual({ ok: true, event: { ...v1, version: 2, payload: { ...payload, slowModeSeconds: 0 } } });
    }
  });

  it('a v2 without slowModeSeconds, or out of range, is malformed', () => {
    const { slowModeSeconds: _s, ...payload } = chat.RoomCreated.payload;
    expect(decodeChatEvent({ ...chat.RoomCreated, payload })).toMatchObject({ ok: false, kind: 'malformed' });
    expect(decodeChatEvent({ ...chat.RoomCreated, payload: { ...payload, slowModeSeconds: 21_601 } })).toMatchObject({
      ok: false,
      reason: 'RoomCreated: payload.slowModeSeconds must be an integer 0-21600',
    });
  });
});

describe('MessagePosted v1 (before replies and mentions)', () => {
  it('is read as v2 that replies to nothing and mentions nobody', () => {
    const { replyTo: _r, mentions: _m, ...payload } = chat.MessagePosted.payload;
    const v1 = { ...chat.MessagePosted, version: 1, payload };
    expect(decodeChatEvent(v1)).toEqual({ ok: true, event: { ...v1, version: 2, payload: { ...payload, replyTo: null, mentions: [] } } });
  });

  it('a v1 missing a field is malformed, naming the version', () => {
    const { body: _b, replyTo: _r, mentions: _m, ...payload } = chat.MessagePosted.payload;
    expect(decodeChatEvent({ ...chat.MessagePosted, version: 1, payload })).toMatchObject({
      ok: false,
      kind: 'malformed',
      reason: 'MessagePosted v1: payload.body must be a string',
    });
  });
});

describe('nested payload checks', () => {
  it('a mention without a user id, or too many mentions, is malformed', () => {
    const e = chat.MessagePosted;
    const bad = decodeChatEvent({ ...e, payload: { ...e.payload, mentions: [{ username: 'bo' }] } });
    expect(!bad.ok && bad.reason).toContain('payload.mentions must be an array of at most 50');
    const many = Array.from({ length: 51 }, () => ({ userId: OTHER, username: 'bo' }));
    expect(decodeChatEvent({ ...e, payload: { ...e.payload, mentions: many } })).toMatchObject({ ok: false, kind: 'malformed' });
  });

  it('a reply reference with a position that is not a positive integer is malformed', () => {
    const e = chat.MessagePosted;
    const replyTo = { ...e.payload.replyTo, position: 0 };
    const out = decodeChatEvent({ ...e, payload: { ...e.payload, replyTo } });
    expect(!out.ok && out.reason).toContain(
      'payload.replyTo must be an object { messageId, position, senderId, senderName, excerpt } or null',
    );
  });
});
