import { RpcClient } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { ModerationConfig } from './config';
import { moderationService } from './service';

/** A check request as the rooms service sends it. */
const check = (senderId: string, body: string) => ({
  roomId: 'general',
  senderId,
  senderName: 'ann',
  senderRole: 'member' as const,
  kind: 'post' as const,
  clientMsgId: 'c1',
  body,
  heldReportId: null,
});

describe('moderation service - check over NATS', () => {
  let svc: RunningService;
  let rpc: RpcClient;
  const namespace = randomName();

  beforeAll(async () => {
    const config = loadConfig(ModerationConfig, {
      NATS_URL: await testNatsUrl(),
      NATS_NAMESPACE: namespace,
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
      BLOCKED_WORDS: 'forbidden,禁止',
    });
    svc = await startService(moderationService(config));
    rpc = svc.deps.rpc;
  });
  afterAll(async () => {
    await svc.close();
    await deleteNamespace(namespace);
  });

  it('rejects a blocked word and allows clean text', async () => {
    const senderId = randomUUID();
    const bad = await rpc.call('moderation.check', check(senderId, 'this is 禁止 text'));
    expect(bad).toEqual({ ok: true, data: expect.objectContaining({ verdict: 'reject', rule: 'words' }) });
    const good = await rpc.call('moderation.check', check(senderId, 'hello'));
    expect(good).toEqual({ ok: true, data: { verdict: 'allow', body: 'hello' } });
  });

  it('answers a malformed request with BAD_REQUEST and keeps serving', async () => {
    const bad = await rpc.call('moderation.check', { roomId: 'Not A Room', senderId: 'x', body: 1 } as never);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.code).toBe('BAD_REQUEST');
    const raw = await svc.nc.request(svc.deps.subjects.rpc('moderation.check'), new TextEncoder().encode('not json'));
    expect(JSON.parse(new TextDecoder().decode(raw.data))).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', message: 'request is not valid JSON' },
    });
    const good = await rpc.call('moderation.check', check(randomUUID(), 'still here'));
    expect(good.ok).toBe(true);
  });

  it('serves health and metrics', async () => {
    const ready = await fetch(`${svc.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { nats: true, 'moderation-replayed': true } });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });
});
