import { randomUUID } from 'node:crypto';
import { directRoomId, type ChatEvent, type MessageView, type Result, type UserView } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { RoomCommandHandler } from '../room/room.commands';
import { RoomStore } from '../room/room.store';
import { fakeModeration, register as registerUser, startRooms } from '../testing/rooms-fixture';
import { MessageCommandHandler } from './message-commands';

const code = (r: Result<unknown>) => (r.ok ? 'OK' : r.error.code);

/**
 * The rooms service on real NATS deciding edits, deletions, reactions, replies, mentions and
 * retention. The history service's part (`history.message`) is played by a small responder on
 * the real subject, answering from the messages the test tells it about: a test double of a
 * service, not of NATS. What is asserted is what the stream holds and the typed errors.
 */
describe('rooms service - message lifecycle over NATS', () => {
  const namespace = randomName();
  let svc: RunningService;
  let moderation: Subscription;
  let history: Subscription | null = null;
  const rpc = () => svc.deps.rpc;
  /** What the history double knows, by message id; and who asked it what. */
  const known = new Map<string, MessageView>();
  const asked: Array<{ roomId: string; messageId: string; userId: string }> = [];

  const startHistory = () => {
    history = svc.nc.subscribe(svc.deps.subjects.rpc('history.message'), {
      queue: 'history',
      callback: (_err, msg) => {
        const req = decodeJson(msg.data) as { roomId: string; messageId: string; userId: string };
        asked.push(req);
        const m = known.get(req.messageId);
        msg.respond(
          encodeJson(
            m && m.roomId === req.roomId
              ? { ok: true, data: m }
              : { ok: false, error: { code: 'NOT_FOUND', message: `message "${req.messageId}" does not exist` } },
          ),
        );
      },
    });
  };

  beforeAll(async () => {
    svc = await startRooms(namespace, { SERVER_ADMINS: 'Root-Admin' });
    moderation = fakeModeration(svc, 'forbidden', 'the message contains a blocked word');
    startHistory();
  });

  afterAll(async () => {
    moderation?.unsubscribe();
    history?.unsubscribe();
    await svc?.close();
    await deleteNamespace(namespace);
  });

  const register = (username: string) => registerUser(svc, username);

  /** The event stored at `position` (the chat stream). */
  async function eventAt(subject: string, position: number): Promise<ChatEvent> {
    const m = await svc.deps.js.nextOnSubject(svc.deps.subjects.streams.chat.name, subject, position);
    expect(m?.seq).toBe(position);
    return m!.data as ChatEvent;
  }
  const onMessages = (roomId: string, position: number) => eventAt(svc.deps.subjects.chat.roomMessages(roomId), position);

  /** What history would hold for an accepted post (the double learns it from the stream). */
  async function remember(roomId: string, position: number): Promise<MessageView> {
    const e = (await onMessages(roomId, position)) as Extract<ChatEvent, { type: 'MessagePosted' }>;
    const view: MessageView = { ...e.payload, html: '', time: e.time, position, editedAt: null, deleted: null, reactions: [] };
    known.set(view.messageId, view);
    return view;
  }

  const post = (u: UserView, roomId: string, body: string, replyTo?: string) =>
    rpc().call('rooms.post', { ...u, roomId, clientMsgId: randomUUID(), body, ...(replyTo && { replyTo }) });

  let owner: UserView, admin: UserView, author: UserView, other: UserView, outsider: UserView, root: UserView;
  const R = 'lifecycle';

  beforeAll(async () => {
    [owner, admin, author, other, outsider, root] = await Promise.all([
      register('lc-owner'),
      register('lc-admin'),
      register('Lc-Author'),
      register('小明'),
      register('lc-outsider'),
      register('root-admin'),
    ]);
    await rpc().callOrThrow('rooms.create', { ...owner, roomId: R, name: 'Lifecycle' });
    for (const u of [admin, author, other]) await rpc().callOrThrow('rooms.join', { ...u, roomId: R });
    await rpc().callOrThrow('rooms.setRole', {
      roomId: R,
      actorId: owner.userId,
      actorName: owner.username,
      userId: admin.userId,
      role: 'admin',
    });
  });

  it('posts - MessagePosted v2 with the members it mentions; a reply carries its snapshot; an unknown quote is NOT_FOUND', async () => {
    const sent = await post(author, R, '@小明你好, and @LC-OWNER. Mail me@lc-admin.org; @lc-outsider is not here');
    if (!sent.ok) throw new Error(JSON.stringify(sent));
    const posted = await onMessages(R, sent.data.position);
    expect(posted).toEqual(
      expect.objectContaining({
        type: 'MessagePosted',
        version: 2,
        payload: expect.objectContaining({
          replyTo: null,
          mentions: [
            { userId: other.userId, username: '小明' },
            { userId: owner.userId, username: 'lc-owner' },
          ],
        }),
      }),
    );
    const quoted = await remember(R, sent.data.position);

    const reply = await post(other, R, 'agreed', quoted.messageId);
    if (!reply.ok) throw new Error(JSON.stringify(reply));
    expect(((await onMessages(R, reply.data.position)) as Extract<ChatEvent, { type: 'MessagePosted' }>).payload.replyTo).toEqual({
      messageId: quoted.messageId,
      position: quoted.position,
      senderId: author.userId,
      senderName: 'Lc-Author',
      excerpt: quoted.body,
    });
    // History was asked as the caller.
    expect(asked).toContainEqual({ roomId: R, messageId: quoted.messageId, userId: other.userId });

    // Unknown quote: NOT_FOUND, before moderation's verdict; a non-member is refused before history is asked.
    const before = asked.length;
    expect(code(await post(other, R, 'x', randomUUID()))).toBe('NOT_FOUND');
    expect(code(await post(other, R, 'forbidden', randomUUID()))).toBe('NOT_FOUND');
    const askedNow = asked.length;
    expect(code(await post(outsider, R, 'x', quoted.messageId))).toBe('NOT_MEMBER');
    expect(asked.length).toBe(askedNow);
    expect(askedNow).toBeGreaterThan(before);
    // A quote from another room is not found in this one.
    await rpc().callOrThrow('rooms.create', { ...author, roomId: 'lc-elsewhere', name: 'Elsewhere' });
    const there = await post(author, 'lc-elsewhere', 'over here');
    if (!there.ok) throw new Error(JSON.stringify(there));
    const elsewhere = await remember('lc-elsewhere', there.data.position);
    expect(code(await post(author, R, 'x', elsewhere.messageId))).toBe('NOT_FOUND');
  });

  it('edit - only the author; moderation checks the new text; MessageEdited with its mentions', async () => {
    const sent = await post(author, R, 'first draft');
    if (!sent.ok) throw new Error(JSON.stringify(sent));
    const m = await remember(R, sent.data.position);
    const edit = (u: UserView, body: string, messageId = m.messageId) =>
      rpc().call('rooms.editMessage', { ...u, roomId: R, messageId, body });

    expect((await Promise.all([edit(owner, 'x'), edit(admin, 'x'), edit(other, 'x')])).map(code)).toEqual([
      'FORBIDDEN',
      'FORBIDDEN',
      'FORBIDDEN',
    ]);
    expect(code(await edit(outsider, 'x'))).toBe('NOT_MEMBER');
    expect(code(await edit(author, 'now forbidden'))).toBe('CONTENT_BLOCKED');
    expect(code(await edit(author, 'x', randomUUID()))).toBe('NOT_FOUND');

    const ack = await rpc().callOrThrow('rooms.editMessage', { ...author, roomId: R, messageId: m.messageId, body: 'final, @小明' });
    expect(ack).toEqual({ roomId: R, messageId: m.messageId, position: expect.any(Number) });
    expect(await onMessages(R, ack.position)).toEqual(
      expect.objectContaining({
        type: 'MessageEdited',
        payload: {
          messageId: m.messageId,
          roomId: R,
          senderId: author.userId,
          body: 'final, @小明',
          mentions: [{ userId: other.userId, username: '小明' }],
        },
      }),
    );
  });

  it('reactions - any member; the 21st different emoji is FORBIDDEN; removal is appended', async () => {
    const sent = await post(author, R, 'react to me');
    if (!sent.ok) throw new Error(JSON.stringify(sent));
    const m = await remember(R, sent.data.position);
    const react = (u: UserView, emoji: string, op: 'rooms.addReaction' | 'rooms.removeReaction' = 'rooms.addReaction') =>
      rpc().call(op, { ...u, roomId: R, messageId: m.messageId, emoji });

    const added = await react(other, '👍🏽');
    if (!added.ok) throw new Error(JSON.stringify(added));
    expect(await onMessages(R, added.data.position)).toEqual(
      expect.objectContaining({
        type: 'ReactionAdded',
        payload: { messageId: m.messageId, roomId: R, userId: other.userId, username: '小明', emoji: '👍🏽' },
      }),
    );
    expect(code(await react(outsider, '👍🏽'))).toBe('NOT_MEMBER');
    expect(code(await react(other, 'no'))).toBe('BAD_REQUEST');

    const emoji = ['😀', '😁', '😂', '🤣', '😃', '😄', '😅', '😆', '😉', '😊', '😋', '😎', '😍', '😘', '🥰', '😗', '😙', '😚', '🙂', '🤗'];
    known.set(m.messageId, { ...m, reactions: emoji.map((e) => ({ emoji: e, count: 1, userIds: [owner.userId] })) });
    expect(code(await react(other, '🎉'))).toBe('FORBIDDEN');
    expect(code(await react(other, '😀'))).toBe('OK');

    const removed = await react(other, '👍🏽', 'rooms.removeReaction');
    if (!removed.ok) throw new Error(JSON.stringify(removed));
    expect((await onMessages(R, removed.data.position)).type).toBe('ReactionRemoved');
  });

  it('delete - author, room admins and server administrators; a plain member FORBIDDEN; a deleted message NOT_FOUND', async () => {
    const messages = [];
    for (const body of ['one', 'two', 'three']) {
      const sent = await post(author, R, body);
      if (!sent.ok) throw new Error(JSON.stringify(sent));
      messages.push(await remember(R, sent.data.position));
    }
    const del = (u: UserView, m: MessageView) => rpc().call('rooms.deleteMessage', { ...u, roomId: R, messageId: m.messageId });

    expect(code(await del(other, messages[0]))).toBe('FORBIDDEN');
    expect(code(await del(outsider, messages[0]))).toBe('NOT_MEMBER');

    const byAuthor = await del(author, messages[0]);
    const byAdmin = await del(admin, messages[1]);
    // root-admin is in SERVER_ADMINS (spelt differently) and not a member of this public room.
    const byRoot = await del(root, messages[2]);
    const reasons = [];
    for (const r of [byAuthor, byAdmin, byRoot]) {
      if (!r.ok) throw new Error(JSON.stringify(r));
      const e = await onMessages(R, r.data.position);
      expect(e.type).toBe('MessageDeleted');
      reasons.push((e as Extract<ChatEvent, { type: 'MessageDeleted' }>).payload.reason);
    }
    expect(reasons).toEqual(['author', 'moderator', 'moderator']);

    known.set(messages[0].messageId, {
      ...messages[0],
      body: '',
      deleted: { by: author, reason: 'author', time: new Date().toISOString() },
    });
    expect(code(await del(author, messages[0]))).toBe('NOT_FOUND');
    expect(code(await rpc().call('rooms.addReaction', { ...other, roomId: R, messageId: messages[0].messageId, emoji: '👍' }))).toBe(
      'NOT_FOUND',
    );
    expect(code(await post(other, R, 'quoting a deleted one', messages[0].messageId))).toBe('NOT_FOUND');
  });

  it('conversations - the author edits and deletes; a block stops edits and reactions, not deletion', async () => {
    const sent = await rpc().callOrThrow('rooms.directSend', {
      actorId: author.userId,
      actorName: author.username,
      username: '小明',
      clientMsgId: randomUUID(),
      body: 'hi @小明',
    });
    const m = await remember(sent.roomId, sent.position);
    expect(m.mentions).toEqual([{ userId: other.userId, username: '小明' }]);
    const reply = await rpc().callOrThrow('rooms.directSend', {
      actorId: other.userId,
      actorName: other.username,
      username: 'lc-author',
      clientMsgId: randomUUID(),
      body: 'hello back',
      replyTo: m.messageId,
    });
    expect(
      ((await onMessages(sent.roomId, reply.position)) as Extract<ChatEvent, { type: 'MessagePosted' }>).payload.replyTo?.messageId,
    ).toBe(m.messageId);

    // A first message quoting anything opens nothing: a conversation never opened has nothing to quote.
    const first = await rpc().call('rooms.directSend', {
      actorId: outsider.userId,
      actorName: outsider.username,
      username: '小明',
      clientMsgId: randomUUID(),
      body: 'hi',
      replyTo: m.messageId,
    });
    expect(code(first)).toBe('NOT_FOUND');
    expect(code(await rpc().call('rooms.details', { roomId: directRoomId(outsider.userId, other.userId), userId: other.userId }))).toBe(
      'NOT_FOUND',
    );

    const ref = { roomId: sent.roomId, messageId: m.messageId };
    expect(code(await rpc().call('rooms.editMessage', { ...other, ...ref, body: 'x' }))).toBe('FORBIDDEN');
    expect(code(await rpc().call('rooms.deleteMessage', { ...root, ...ref }))).toBe('NOT_FOUND');
    await rpc().callOrThrow('rooms.block', { actorId: other.userId, actorName: other.username, userId: author.userId });
    expect(code(await rpc().call('rooms.editMessage', { ...author, ...ref, body: 'x' }))).toBe('BLOCKED');
    expect(code(await rpc().call('rooms.addReaction', { ...author, ...ref, emoji: '👍' }))).toBe('BLOCKED');
    expect(code(await rpc().call('rooms.deleteMessage', { ...author, ...ref }))).toBe('OK');
    expect(code(await rpc().call('rooms.setRetention', { ...author, roomId: sent.roomId, days: 30 }))).toBe('FORBIDDEN');
  });

  it('retention - owner and admins of a group room; RoomRetentionSet on the meta subject; room.details shows it', async () => {
    const set = (u: UserView, days: number | null | undefined) =>
      rpc().call('rooms.setRetention', { ...u, roomId: R, ...(days !== undefined && { days }) });
    expect(code(await set(other, 30))).toBe('FORBIDDEN');
    expect(code(await set(outsider, 30))).toBe('NOT_MEMBER');
    expect(code(await set(admin, 0))).toBe('BAD_REQUEST');
    expect(code(await rpc().call('rooms.setRetention', { ...owner, roomId: 'lc-nowhere', days: 30 }))).toBe('NOT_FOUND');

    const ack = await set(admin, 30);
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    expect(ack.data).toEqual({ roomId: R, position: expect.any(Number), days: 30 });
    expect(await eventAt(svc.deps.subjects.chat.roomMeta(R), ack.data.position)).toEqual(
      expect.objectContaining({
        type: 'RoomRetentionSet',
        payload: { roomId: R, days: 30, byUserId: admin.userId, byUsername: admin.username },
      }),
    );
    expect((await rpc().callOrThrow('rooms.details', { roomId: R, userId: other.userId })).retentionDays).toBe(30);
    // The same again changes nothing; absent days is the deployment's default.
    const again = await set(owner, 30);
    expect(again.ok && again.data.position).toBe(ack.data.position);
    const cleared = await set(owner, undefined);
    expect(cleared.ok && cleared.data.days).toBeNull();
    expect((await rpc().callOrThrow('rooms.details', { roomId: R, userId: other.userId })).retentionDays).toBeNull();
  });

  it("replicas - a change decided on a replica that has not applied the caller's join yet catches up instead of refusing", async () => {
    const second = await startRooms(namespace);
    try {
      const sent = await post(author, R, 'for the newcomers');
      if (!sent.ok) throw new Error(JSON.stringify(sent));
      const m = await remember(R, sent.data.position);
      for (let i = 0; i < 5; i++) {
        const newcomer = { userId: randomUUID(), username: `lc-new-${i}` };
        // Joined through the first replica's own handler; the second one learns of it from the stream.
        await svc.app
          .get(RoomCommandHandler)
          .execute({ type: 'JoinRoom', roomId: R, user: newcomer }, { kind: 'user', id: newcomer.userId }, randomUUID());
        const ack = await second.app
          .get(MessageCommandHandler)
          .react({ ...newcomer, roomId: R, messageId: m.messageId, emoji: '👋' }, true, randomUUID());
        expect((await onMessages(R, ack.position)).type).toBe('ReactionAdded');
      }
    } finally {
      await second.close();
    }
  });

  it('history not running: UNAVAILABLE, nothing appended', async () => {
    const sent = await post(author, R, 'before the outage');
    if (!sent.ok) throw new Error(JSON.stringify(sent));
    const m = await remember(R, sent.data.position);
    history?.unsubscribe();
    history = null;
    try {
      const results = [
        await rpc().call('rooms.editMessage', { ...author, roomId: R, messageId: m.messageId, body: 'x' }),
        await rpc().call('rooms.deleteMessage', { ...author, roomId: R, messageId: m.messageId }),
        await rpc().call('rooms.addReaction', { ...author, roomId: R, messageId: m.messageId, emoji: '👍' }),
        await post(author, R, 'a reply', m.messageId),
      ];
      expect(results.map(code)).toEqual(['UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE']);
      const jsm = await svc.deps.js.nextOnSubject(
        svc.deps.subjects.streams.chat.name,
        svc.deps.subjects.chat.roomMessages(R),
        sent.data.position + 1,
      );
      expect(jsm).toBeNull();
    } finally {
      startHistory();
    }
  });
});
