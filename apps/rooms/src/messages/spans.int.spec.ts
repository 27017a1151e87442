import { Spans } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { fakeModeration, register, startRooms } from '../testing/rooms-fixture';

/** Counts of `chat_span_seconds{span}` on a service's /metrics. */
async function spanCounts(svc: RunningService): Promise<Record<string, number>> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^chat_span_seconds_count\{span="([^"]+)"\} (\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/**
 * TRACE_SPANS through a real rooms service on the real NATS: a send records its hops on the
 * service's /metrics, and without the setting nothing is recorded.
 */
describe('timing spans (TRACE_SPANS)', () => {
  const namespace = randomName();
  let svc: RunningService;
  let moderation: Subscription;

  afterEach(async () => {
    moderation?.unsubscribe();
    await svc?.close();
    // Spans are per process: the next service starts from "off".
    Spans.enable(null);
  });
  afterAll(() => deleteNamespace(namespace));

  it('on: a post records the RPC wait and handler, the idempotency lookup, the moderation round trip and the append', async () => {
    svc = await startRooms(namespace, { TRACE_SPANS: 'true' });
    moderation = fakeModeration(svc, 'never');
    const owner = await register(svc, `spans-${randomName().slice(-6)}`);
    await svc.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'traced', name: 'Traced' });
    const before = await spanCounts(svc);
    for (let i = 0; i < 3; i++)
      await svc.deps.rpc.callOrThrow('rooms.post', { ...owner, roomId: 'traced', clientMsgId: `t${i}`, body: 'hi' });
    const after = await spanCounts(svc);
    const grew = (span: string) => (after[span] ?? 0) - (before[span] ?? 0);
    expect({
      wait: grew('rpc.wait rooms.post'),
      handle: grew('rpc.handle rooms.post'),
      lookup: grew('post.lookup'),
      moderation: grew('rpc.call moderation.check'),
      append: grew('js.append'),
    }).toEqual({ wait: 3, handle: 3, lookup: 3, moderation: 3, append: 3 });
  });

  it('off (the default): no span is recorded', async () => {
    svc = await startRooms(namespace);
    moderation = fakeModeration(svc, 'never');
    const owner = await register(svc, `nospans-${randomName().slice(-6)}`);
    await svc.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'untraced', name: 'Untraced' });
    await svc.deps.rpc.callOrThrow('rooms.post', { ...owner, roomId: 'untraced', clientMsgId: 'u', body: 'hi' });
    expect(await spanCounts(svc)).toEqual({});
  });
});
