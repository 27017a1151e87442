import { directRoomId, type ModerationCheckRequest, type Result } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { register, startRooms } from '../testing/rooms-fixture';

const code = (r: Result<unknown>) => (r.ok ? 'OK' : r.error.code);

// Review of issue 9: a first private message that the filters hold (HELD_FOR_REVIEW) opens no
// conversation, so the moderator's approval (rooms.post as the sender with heldReportId, see
// apps/moderation/src/reports/reports.ops.ts resolve) finds no conversation and fails NOT_FOUND:
// a held first message can never be approved. docs/protocol.md: "`held`: approves the message:
// it is posted as its sender, with its original clientMsgId".
describe('review - a held first private message can be approved', () => {
  const namespace = randomName();
  let svc: RunningService;
  let moderation: Subscription;
  const REPORT_ID = '7a1d7d3e-3c0b-4d39-9a53-2f1f0d0f6a11';

  beforeAll(async () => {
    svc = await startRooms(namespace);
    // Moderation as it answers a text its link policy holds: hold, unless it is the approval.
    moderation = svc.nc.subscribe(svc.deps.subjects.rpc('moderation.check'), {
      queue: 'moderation',
      callback: (_err, msg) => {
        const req = decodeJson(msg.data) as ModerationCheckRequest;
        const verdict =
          req.heldReportId === REPORT_ID
            ? { verdict: 'allow', body: req.body }
            : { verdict: 'hold', rule: 'links', reason: 'a link waits for a moderator', reportId: REPORT_ID };
        msg.respond(encodeJson({ ok: true, data: verdict }));
      },
    });
  });
  afterAll(async () => {
    moderation?.unsubscribe();
    await svc?.close();
    await deleteNamespace(namespace);
  });

  it('the approval posts the held first message in the conversation', async () => {
    const ann = await register(svc, 'heldann');
    const bob = await register(svc, 'heldbob');
    const rpc = svc.deps.rpc;
    const body = 'see https://review.example';
    const sent = await rpc.call('rooms.directSend', {
      actorId: ann.userId,
      actorName: ann.username,
      username: bob.username,
      clientMsgId: 'h1',
      body,
    });
    expect(code(sent)).toBe('HELD_FOR_REVIEW');
    // The moderator approves: the moderation service posts it as ann with the report's id.
    const approved = await rpc.call('rooms.post', {
      userId: ann.userId,
      username: ann.username,
      roomId: directRoomId(ann.userId, bob.userId),
      clientMsgId: 'h1',
      body,
      heldReportId: REPORT_ID,
    });
    expect(code(approved)).toBe('OK');
  });
});
