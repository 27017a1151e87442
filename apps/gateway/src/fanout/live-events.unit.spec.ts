import { positionOf, toMemberChange, toMessageView, toPresenceView } from './live-events';

const env = (type: string, payload: unknown) => ({
  id: 'e1',
  type,
  version: 1,
  time: '2025-01-01T00:00:00.000Z',
  actor: { kind: 'user', id: 'u' },
  correlationId: 'c',
  causationId: null,
  payload,
});

describe('live events - translation of republished events', () => {
  it('reads the position header', () => {
    expect(positionOf('42')).toBe(42);
    expect(positionOf(undefined)).toBeNull();
    expect(positionOf('0')).toBeNull();
    expect(positionOf('4x')).toBeNull();
  });

  it('maps MessagePosted to a MessageView with the position', () => {
    const p = { messageId: 'm', roomId: 'general', senderId: 's', senderName: 'Sam', clientMsgId: 'c1', body: 'hi' };
    expect(toMessageView(env('MessagePosted', p), 7)).toEqual({ ...p, time: '2025-01-01T00:00:00.000Z', position: 7 });
    expect(toMessageView(env('MessagePosted', { ...p, body: 3 }), 7)).toBeNull();
    expect(toMessageView(env('MemberJoined', p), 7)).toBeNull();
    expect(toMessageView('garbage', 7)).toBeNull();
  });

  it('maps member events and the owner of a created room, ignores other room events, flags malformed ones', () => {
    expect(toMemberChange(env('MemberJoined', { roomId: 'general', userId: 'u', username: 'Ann', role: 'member' }))).toEqual({
      event: 'member.joined',
      data: { roomId: 'general', userId: 'u', username: 'Ann', role: 'member', time: '2025-01-01T00:00:00.000Z' },
    });
    expect(toMemberChange(env('MemberLeft', { roomId: 'general', userId: 'u', username: 'Ann' }))).toEqual({
      event: 'member.left',
      data: { roomId: 'general', userId: 'u', username: 'Ann', time: '2025-01-01T00:00:00.000Z' },
    });
    expect(toMemberChange(env('RoomCreated', { roomId: 'general', ownerId: null, ownerName: null }))).toBe('ignore');
    expect(toMemberChange(env('RoomCreated', { roomId: 'team', ownerId: 'u', ownerName: 'Ann' }))).toEqual({
      event: 'member.joined',
      data: { roomId: 'team', userId: 'u', username: 'Ann', role: 'owner', time: '2025-01-01T00:00:00.000Z' },
    });
    expect(toMemberChange(env('RoomRenamed', { roomId: 'team' }))).toBe('ignore');
    expect(toMemberChange(env('MemberJoined', { roomId: 'general', userId: 'u', username: 'Ann', role: 'king' }))).toBe('malformed');
    expect(toMemberChange(null)).toBe('malformed');
  });

  it('maps PresenceChanged to a PresenceView', () => {
    const p = { userId: 'u', username: 'Ann', status: 'away', lastSeen: '2025-01-01T00:00:00.000Z' };
    expect(toPresenceView(env('PresenceChanged', p))).toEqual(p);
    expect(toPresenceView(env('PresenceChanged', { ...p, status: 'sleeping' }))).toBeNull();
  });
});
