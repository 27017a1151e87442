import { randomUUID } from 'node:crypto';
import { makeEvent, type Result, type RoomCreated, type UserView } from '@chat/contracts';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { fakeModeration, register as registerUser, startRooms } from './testing/rooms-fixture';

const error = (r: Result<unknown>) => (r.ok ? 'OK' : r.error);

describe('rooms service - slow mode over real NATS (two replicas)', () => {
  const namespace = randomName();
  let a: RunningService;
  let b: RunningService;
  let moderation: Subscription;

  beforeAll(async () => {
    a = await startRooms(namespace);
    b = await startRooms(namespace);
    moderation = fakeModeration(a, 'forbidden');
  });

  afterAll(async () => {
    moderation?.unsubscribe();
    await Promise.all([a?.close(), b?.close()]);
    await deleteNamespace(namespace);
  });

  const register = (username: string) => registerUser(a, username);
  const messagesIn = async (roomId: string) => {
    const last = await a.deps.js.lastOnSubject(a.deps.subjects.streams.chat.name, a.deps.subjects.chat.roomMessages(roomId));
    return last?.seq ?? 0;
  };
  const post = (svc: RunningService, u: UserView, roomId: string, clientMsgId: string) =>
    svc.deps.rpc.call('rooms.post', { ...u, roomId, clientMsgId, body: `hello ${clientMsgId}` });

  async function room(roomId: string, slowModeSeconds: number) {
    const [owner, admin, member] = await Promise.all([register(`${roomId}-o`), register(`${roomId}-a`), register(`${roomId}-m`)]);
    await a.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId, name: roomId });
    for (const u of [admin, member]) await a.deps.rpc.callOrThrow('rooms.join', { ...u, roomId });
    await a.deps.rpc.callOrThrow('rooms.setRole', {
      roomId,
      actorId: owner.userId,
      actorName: owner.username,
      userId: admin.userId,
      role: 'admin',
    });
    const updated = await a.deps.rpc.callOrThrow('rooms.update', { ...admin, roomId, slowModeSeconds });
    expect(updated.room).toEqual(expect.objectContaining({ slowModeSeconds }));
    return { owner, admin, member };
  }

  it('slow mode - a second post within the period is RATE_LIMITED with the wait, on either replica; nothing is stored', async () => {
    const { member } = await room('slow', 60);
    expect((await post(a, member, 'slow', 's1')).ok).toBe(true);
    const stored = await messagesIn('slow');
    // Replica b learns of the post from the stream (it did not store it).
    await new Promise((r) => setTimeout(r, 500));
    for (const svc of [a, b]) {
      const refused = error(await post(svc, member, 'slow', `s2-${svc === a ? 'a' : 'b'}`));
      expect(refused).toEqual({
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/^slow mode: one message per 60 s in "slow"; wait (59|60) s; retryAfterMs=\d+$/),
      });
      const ms = Number(/retryAfterMs=(\d+)$/.exec((refused as { message: string }).message)![1]);
      expect(ms).toBeGreaterThan(55_000);
      expect(ms).toBeLessThanOrEqual(60_000);
    }
    expect(await messagesIn('slow')).toBe(stored);
  });

  it('slow mode - a resend of a stored message (same clientMsgId) is answered with the original, not refused', async () => {
    const { member } = await room('resend', 60);
    const first = await a.deps.rpc.callOrThrow('rooms.post', { ...member, roomId: 'resend', clientMsgId: 'r1', body: 'once' });
    const again = await b.deps.rpc.callOrThrow('rooms.post', { ...member, roomId: 'resend', clientMsgId: 'r1', body: 'once' });
    expect(again).toEqual({ ...first, duplicate: true });
  });

  it('slow mode - the owner and admins are exempt', async () => {
    const { owner, admin } = await room('exempt', 60);
    for (const u of [owner, admin]) for (const id of ['e1', 'e2', 'e3']) expect((await post(a, u, 'exempt', id)).ok).toBe(true);
  });

  it('slow mode - 0 is off', async () => {
    const { admin, member } = await room('off', 60);
    await a.deps.rpc.callOrThrow('rooms.update', { ...admin, roomId: 'off', slowModeSeconds: 0 });
    for (const id of ['o1', 'o2', 'o3']) expect((await post(a, member, 'off', id)).ok).toBe(true);
  });

  it('room.update - slowModeSeconds out of range is BAD_REQUEST and changes nothing', async () => {
    const { admin, member } = await room('range', 10);
    for (const slowModeSeconds of [-1, 21_601, 2.5])
      expect(error(await a.deps.rpc.call('rooms.update', { ...admin, roomId: 'range', slowModeSeconds }))).toEqual(
        expect.objectContaining({ code: 'BAD_REQUEST' }),
      );
    expect(error(await a.deps.rpc.call('rooms.update', { ...member, roomId: 'range', slowModeSeconds: 1 }))).toEqual(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
    const details = await a.deps.rpc.callOrThrow('rooms.details', { roomId: 'range', userId: admin.userId });
    expect(details.slowModeSeconds).toBe(10);
  });

  it('old events - a room created by a RoomCreated v1 (before slow mode) reads back with slowModeSeconds 0', async () => {
    const owner = await register('old-owner');
    const ctx = {
      now: () => new Date(),
      newId: randomUUID,
      actor: { kind: 'user' as const, id: owner.userId },
      correlationId: randomUUID(),
    };
    const v2 = makeEvent<RoomCreated>(ctx, 'RoomCreated', 2, {
      roomId: 'old-room',
      name: 'Old',
      topic: '',
      visibility: 'public',
      postPolicy: 'members',
      memberLimit: 10,
      slowModeSeconds: 0,
      ownerId: owner.userId,
      ownerName: owner.username,
    });
    const { slowModeSeconds: _s, ...payload } = v2.payload;
    await a.deps.js.append(a.deps.subjects.chat.roomMeta('old-room'), { ...v2, version: 1, payload }, { msgId: v2.id });
    for (const svc of [a, b]) {
      let details: Result<{ slowModeSeconds: number }> | undefined;
      for (let i = 0; i < 50; i++) {
        details = await svc.deps.rpc.call('rooms.details', { roomId: 'old-room', userId: owner.userId });
        if (details.ok) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(details).toEqual({ ok: true, data: expect.objectContaining({ name: 'Old', slowModeSeconds: 0 }) });
    }
  });
});
