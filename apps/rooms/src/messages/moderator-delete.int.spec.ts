import { randomUUID } from 'node:crypto';
import {
  MODERATION_USER,
  type ChatEvent,
  type MessageView,
  type ModerationCheckRequest,
  type Result,
  type UserView,
} from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { register as registerUser, startRooms } from '../testing/rooms-fixture';

const code = (r: Result<unknown>) => (r.ok ? 'OK' : r.error.code);

/**
 * The rooms service's side of moderation on real NATS: `rooms.moderatorDelete` (a message
 * removed on a rule's verdict, as the moderation service) and the held-message approval's
 * `heldReportId`, passed on to the moderation check. History and moderation are played by small
 * responders on their real subjects (test doubles of services, not of NATS).
 */
describe('rooms service - moderation glue over NATS', () => {
  const namespace = randomName();
  let svc: RunningService;
  const subs: Subscription[] = [];
  const rpc = () => svc.deps.rpc;
  const known = new Map<string, MessageView>();
  const askedHistory: Array<{ roomId: string; messageId: string; userId: string }> = [];
  const checks: ModerationCheckRequest[] = [];
  let owner: UserView, member: UserView, peer: UserView;

  beforeAll(async () => {
    svc = await startRooms(namespace);
    subs.push(
      svc.nc.subscribe(svc.deps.subjects.rpc('history.message'), {
        queue: 'history',
        callback: (_err, msg) => {
          const req = decodeJson(msg.data) as { roomId: string; messageId: string; userId: string };
          askedHistory.push(req);
          const m = known.get(req.messageId);
          msg.respond(
            encodeJson(
              m && m.roomId === req.roomId
                ? { ok: true, data: m }
                : { ok: false, error: { code: 'NOT_FOUND', message: 'no such message' } },
            ),
          );
        },
      }),
      svc.nc.subscribe(svc.deps.subjects.rpc('moderation.check'), {
        queue: 'moderation',
        callback: (_err, msg) => {
          const req = decodeJson(msg.data) as ModerationCheckRequest;
          checks.push(req);
          msg.respond(encodeJson({ ok: true, data: { verdict: 'allow', body: req.body } }));
        },
      }),
    );
    [owner, member, peer] = await Promise.all([registerUser(svc, 'md-owner'), registerUser(svc, 'md-member'), registerUser(svc, '小红')]);
  });

  afterAll(async () => {
    subs.forEach((s) => s.unsubscribe());
    await svc?.close();
    await deleteNamespace(namespace);
  });

  async function eventAt(roomId: string, position: number): Promise<ChatEvent> {
    const m = await svc.deps.js.nextOnSubject(svc.deps.subjects.streams.chat.name, svc.deps.subjects.chat.roomMessages(roomId), position);
    expect(m?.seq).toBe(position);
    return m!.data as ChatEvent;
  }

  /** What history would hold for an accepted post. */
  async function remember(roomId: string, position: number): Promise<MessageView> {
    const e = (await eventAt(roomId, position)) as Extract<ChatEvent, { type: 'MessagePosted' }>;
    const view: MessageView = { ...e.payload, html: '', time: e.time, position, editedAt: null, deleted: null, reactions: [] };
    known.set(view.messageId, view);
    return view;
  }

  const moderatorDelete = (roomId: string, messageId: string) =>
    rpc().call('rooms.moderatorDelete', { roomId, messageId, reason: 'link spam', rule: 'link-spam' });

  it('moderatorDelete - removes a message of a private room as MODERATION_USER (reason moderator), history asked as a member', async () => {
    const R = 'md-private';
    await rpc().callOrThrow('rooms.create', { ...owner, roomId: R, name: 'Private', visibility: 'private' });
    const sent = await rpc().callOrThrow('rooms.post', {
      ...owner,
      roomId: R,
      clientMsgId: randomUUID(),
      body: 'buy now http://spam.example',
    });
    const m = await remember(R, sent.position);

    const r = await moderatorDelete(R, m.messageId);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.data).toEqual({ roomId: R, messageId: m.messageId, position: expect.any(Number) });
    const e = await eventAt(R, r.data.position);
    expect(e).toMatchObject({
      type: 'MessageDeleted',
      actor: { kind: 'service', id: 'moderation' },
      payload: { roomId: R, messageId: m.messageId, byUserId: MODERATION_USER.userId, byUsername: 'moderation', reason: 'moderator' },
    });
    expect(askedHistory.at(-1)).toEqual({ roomId: R, messageId: m.messageId, userId: owner.userId });
  });

  it('moderatorDelete - works in a conversation too', async () => {
    const sent = await rpc().callOrThrow('rooms.directSend', {
      actorId: member.userId,
      actorName: member.username,
      username: peer.username,
      clientMsgId: randomUUID(),
      body: '你好 http://spam.example',
    });
    const m = await remember(sent.roomId, sent.position);
    const r = await moderatorDelete(sent.roomId, m.messageId);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(await eventAt(sent.roomId, r.data.position)).toMatchObject({
      type: 'MessageDeleted',
      payload: { messageId: m.messageId, byUserId: MODERATION_USER.userId, reason: 'moderator' },
    });
  });

  it('moderatorDelete - NOT_FOUND for an unknown room or message, or one already deleted; nothing stored; bad input is BAD_REQUEST', async () => {
    const R = 'md-public';
    await rpc().callOrThrow('rooms.create', { ...owner, roomId: R, name: 'Public' });
    const sent = await rpc().callOrThrow('rooms.post', { ...owner, roomId: R, clientMsgId: randomUUID(), body: 'hello' });
    const m = await remember(R, sent.position);
    known.set(m.messageId, { ...m, body: '', deleted: { by: owner, reason: 'author', time: new Date().toISOString() } });
    const last = async () =>
      (await svc.deps.js.lastOnSubject(svc.deps.subjects.streams.chat.name, svc.deps.subjects.chat.roomMessages(R)))?.seq;
    const before = await last();

    expect(code(await moderatorDelete(R, m.messageId))).toBe('NOT_FOUND');
    expect(code(await moderatorDelete(R, randomUUID()))).toBe('NOT_FOUND');
    expect(code(await moderatorDelete('md-nowhere', m.messageId))).toBe('NOT_FOUND');
    expect(code(await rpc().call('rooms.moderatorDelete', { roomId: R, messageId: 'not-a-uuid', reason: 'x', rule: 'r' } as never))).toBe(
      'BAD_REQUEST',
    );
    expect(code(await rpc().call('rooms.moderatorDelete', { roomId: R, messageId: m.messageId, reason: '', rule: 'r' }))).toBe(
      'BAD_REQUEST',
    );
    expect(await last()).toBe(before);
  });

  it('post - heldReportId (a moderator approving a held message) is passed on to the moderation check; without it, null', async () => {
    const R = 'md-held';
    await rpc().callOrThrow('rooms.create', { ...owner, roomId: R, name: 'Held' });
    await rpc().callOrThrow('rooms.join', { ...member, roomId: R });
    const heldReportId = randomUUID();
    const clientMsgId = randomUUID();
    await rpc().callOrThrow('rooms.post', { ...member, roomId: R, clientMsgId, body: 'held text', heldReportId });
    expect(checks.find((c) => c.clientMsgId === clientMsgId)).toEqual({
      roomId: R,
      senderId: member.userId,
      senderName: member.username,
      senderRole: 'member',
      kind: 'post',
      clientMsgId,
      body: 'held text',
      heldReportId,
    });
    const plain = randomUUID();
    await rpc().callOrThrow('rooms.post', { ...owner, roomId: R, clientMsgId: plain, body: 'plain' });
    expect(checks.find((c) => c.clientMsgId === plain)).toMatchObject({ heldReportId: null, senderRole: 'owner' });
  });
});
