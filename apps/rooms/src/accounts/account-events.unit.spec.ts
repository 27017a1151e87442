import { decide } from '../room/room.decide';
import { removalCommands } from './account-events';

describe('account events - what a deleted account leaves', () => {
  const user = { userId: 'u1', username: 'ann' };

  it('a leave per room (conversations by their own command) and a decline per invitation', () => {
    expect(
      removalCommands(
        user,
        [
          { roomId: 'team', kind: 'group' },
          { roomId: 'dm:u1:u2', kind: 'direct' },
        ],
        ['secret'],
      ),
    ).toEqual([
      { type: 'LeaveRoom', roomId: 'team', user },
      { type: 'LeaveConversation', roomId: 'dm:u1:u2', user },
      { type: 'DeclineInvitation', roomId: 'secret', user },
    ]);
    expect(removalCommands(user, [], [])).toEqual([]);
  });

  it('leaving a conversation nobody has is the missing-room answer', () => {
    const ctx = { now: () => new Date(), newId: () => 'e1', actor: { kind: 'user' as const, id: 'u1' }, correlationId: 'c' };
    expect(() => decide(null, { type: 'LeaveConversation', roomId: 'nowhere', user }, ctx)).toThrow('does not exist');
  });
});
