import { fail, ok, type Result } from '@chat/contracts';
import type { RpcClient } from '@chat/messaging';
import type { SessionRooms } from '../sessions/session-rooms';
import { RpcForwarder } from './rpc-forwarder';

/** The generic forwarding against a fake RPC client (what goes out, what comes back). */
describe('operations - forwarding to the owning service', () => {
  const user = { userId: '88b96545-bb3d-462b-9bdd-f95a3a5559f1', username: 'alice' };
  const ctx = { user, correlationId: 'c-1' };
  let calls: Array<{ name: string; req: unknown; correlationId?: string }>;
  let answer: Result<unknown>;
  let joined: Array<[string, string, number | undefined]>;
  let left: Array<[string, string]>;

  const forwarder = () => {
    const rpc = {
      call: async (name: string, req: unknown, opts: { correlationId?: string }) => {
        calls.push({ name, req, correlationId: opts.correlationId });
        return answer;
      },
    } as unknown as RpcClient;
    const rooms = {
      joined: async (u: string, r: string, p?: number) => void joined.push([u, r, p]),
      left: (u: string, r: string) => void left.push([u, r]),
    } as unknown as SessionRooms;
    return new RpcForwarder(rpc, rooms);
  };

  beforeEach(() => {
    calls = [];
    joined = [];
    left = [];
    answer = ok({});
  });

  it('sends the data plus the caller fields the table names, to the RPC the table names', async () => {
    const data = { roomId: 'general', clientMsgId: 'm1', body: 'hi' };
    answer = ok({ messageId: 'x' });
    await expect(forwarder().forward('message.send', ctx, data)).resolves.toEqual(answer);
    expect(calls).toEqual([{ name: 'rooms.post', req: { ...data, ...user }, correlationId: 'c-1' }]);
  });

  it('maps the reply when the table says so (rooms.list), and passes errors through as they are', async () => {
    answer = ok([{ roomId: 'general' }]);
    await expect(forwarder().forward('rooms.list', ctx, {})).resolves.toEqual(ok({ rooms: [{ roomId: 'general' }] }));
    expect(calls[0]).toMatchObject({ name: 'rooms.list', req: { userId: user.userId } });
    answer = fail('UNAVAILABLE', 'the rooms service is not running');
    await expect(forwarder().forward('rooms.list', ctx, {})).resolves.toEqual(answer);
  });

  it('names a field the service refused as the frame checks do (data.<field>), keeping one already so named', async () => {
    answer = fail('BAD_REQUEST', 'text must be at most 100 characters', [
      { field: 'text', problems: ['text must be at most 100 characters'] },
      { field: 'data.status', problems: ['x'] },
    ]);
    await expect(forwarder().forward('presence.set', ctx, { status: 'busy', text: 'x'.repeat(101) })).resolves.toEqual(
      fail('BAD_REQUEST', 'text must be at most 100 characters', [
        { field: 'data.text', problems: ['text must be at most 100 characters'] },
        { field: 'data.status', problems: ['x'] },
      ]),
    );
  });

  it('runs the gateway hooks: joins, accepted invitations and conversations are followed from the reply position; leaves stop at once', async () => {
    const room = { roomId: 'lobby' };
    answer = ok({ room, position: 11 });
    await forwarder().forward('room.create', ctx, { roomId: 'lobby', name: 'Lobby' } as never);
    await forwarder().forward('room.join', ctx, { roomId: 'lobby' });
    await forwarder().forward('invitation.accept', ctx, { roomId: 'lobby' });
    answer = ok({ roomId: 'dm-abc', position: 12, messageId: 'm', clientMsgId: 'c', time: 't', duplicate: false });
    await forwarder().forward('dm.send', ctx, { username: 'bob', clientMsgId: 'c', body: 'hi' } as never);
    answer = ok({ roomId: 'dm-abc', position: 14 });
    await forwarder().forward('user.block', ctx, { userId: '0b6d3a8e-6a53-4b57-9d1e-2f4c7a1b9e10' });
    answer = fail('ALREADY_MEMBER', 'already');
    await forwarder().forward('room.join', ctx, { roomId: 'lobby' });
    answer = fail('NOT_FOUND', 'nope');
    await forwarder().forward('invitation.accept', ctx, { roomId: 'gone' });
    await forwarder().forward('dm.send', ctx, { username: 'nobody', clientMsgId: 'c', body: 'hi' } as never);
    expect(joined).toEqual([
      [user.userId, 'lobby', 11],
      [user.userId, 'lobby', 11],
      [user.userId, 'lobby', 11],
      [user.userId, 'dm-abc', 12],
      [user.userId, 'dm-abc', 14],
      [user.userId, 'lobby', undefined],
    ]);
    answer = ok({ roomId: 'lobby', position: 13 });
    await forwarder().forward('room.leave', ctx, { roomId: 'lobby' });
    expect(left).toEqual([[user.userId, 'lobby']]);
  });

  it('history is not pre-checked here: the history service decides (NOT_FOUND for hidden rooms)', async () => {
    answer = fail('NOT_FOUND', 'room "secret" does not exist');
    await expect(forwarder().forward('history.page', ctx, { roomId: 'secret', limit: 5 })).resolves.toEqual(answer);
    expect(calls).toEqual([{ name: 'history.page', req: { roomId: 'secret', limit: 5, userId: ctx.user.userId }, correlationId: 'c-1' }]);
  });
});
