import { positionOf, toMemberChange, toMessageView, toPresenceView } from './live-events';

const U = '00000000-0000-4000-8000-0000000000a1';
const M = '00000000-0000-4000-8000-0000000000b1';
const S = '00000000-0000-4000-8000-0000000000c1';
const settings = { name: 'Team', topic: '', visibility: 'public', postPolicy: 'members', memberLimit: 10 };

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
    const p = { messageId: M, roomId: 'general', senderId: S, senderName: 'Sam', clientMsgId: 'c1', body: 'hi' };
    expect(toMessageView(env('MessagePosted', p), 7)).toEqual({ ...p, time: '2025-01-01T00:00:00.000Z', position: 7 });
    expect(toMessageView(env('MessagePosted', { ...p, body: 3 }), 7)).toBeNull();
    expect(toMessageView(env('MemberJoined', p), 7)).toBeNull();
    expect(toMessageView('garbage', 7)).toBeNull();
  });

  it('maps member events and the owner of a created room, ignores other room events, flags malformed ones', () => {
    expect(toMemberChange(env('MemberJoined', { roomId: 'general', userId: U, username: 'Ann', role: 'member' }))).toEqual({
      event: 'member.joined',
      data: { roomId: 'general', userId: U, username: 'Ann', role: 'member', time: '2025-01-01T00:00:00.000Z' },
    });
    expect(toMemberChange(env('MemberLeft', { roomId: 'general', userId: U, username: 'Ann' }))).toEqual({
      event: 'member.left',
      data: { roomId: 'general', userId: U, username: 'Ann', time: '2025-01-01T00:00:00.000Z' },
    });
    expect(toMemberChange(env('RoomCreated', { ...settings, roomId: 'general', ownerId: null, ownerName: null }))).toBe('ignore');
    expect(toMemberChange(env('RoomCreated', { ...settings, roomId: 'team', ownerId: U, ownerName: 'Ann' }))).toEqual({
      event: 'member.joined',
      data: { roomId: 'team', userId: U, username: 'Ann', role: 'owner', time: '2025-01-01T00:00:00.000Z' },
    });
    expect(toMemberChange(env('RoomRenamed', { roomId: 'team' }))).toBe('ignore');
    expect(toMemberChange(env('MemberJoined', { roomId: 'general', userId: U, username: 'Ann', role: 'king' }))).toBe('malformed');
    expect(toMemberChange(null)).toBe('malformed');
  });

  it('checks room events whole: a version it cannot read or a bad field anywhere is malformed, not half-delivered', () => {
    const joined = env('MemberJoined', { roomId: 'general', userId: U, username: 'Ann', role: 'member' });
    expect(toMemberChange({ ...joined, version: 2 })).toBe('malformed');
    expect(toMemberChange({ ...joined, time: 'yesterday' })).toBe('malformed');
    expect(toMemberChange(env('RoomCreated', { roomId: 'general', ownerId: null, ownerName: null }))).toBe('malformed');
    expect(toMemberChange(env('RoomCreated', { ...settings, roomId: 'team', ownerId: U, ownerName: null }))).toBe('malformed');
    const p = { messageId: M, roomId: 'general', senderId: S, senderName: 'Sam', clientMsgId: 'c1', body: 'hi' };
    expect(toMemberChange(env('MessagePosted', p))).toBe('ignore');
  });

  it('maps PresenceChanged to a PresenceView', () => {
    const p = { userId: U, username: 'Ann', status: 'away', lastSeen: '2025-01-01T00:00:00.000Z' };
    expect(toPresenceView(env('PresenceChanged', p))).toEqual(p);
    expect(toPresenceView(env('PresenceChanged', { ...p, status: 'sleeping' }))).toBeNull();
  });
});
