import { ChatError, type Result } from '@chat/contracts';
import type { RpcClient } from '@chat/messaging';
import { MessageLookup } from './message-lookup';

/** An RPC client answering `history.message` with the given results in turn (the last one from then on). */
function history(...answers: Array<Result<unknown>>) {
  const calls: unknown[] = [];
  const rpc = {
    call: async (_name: string, data: unknown) => {
      calls.push(data);
      return answers[Math.min(calls.length, answers.length) - 1];
    },
  } as unknown as RpcClient;
  return { lookup: new MessageLookup(rpc), calls };
}

const notFound: Result<unknown> = { ok: false, error: { code: 'NOT_FOUND', message: 'no such message' } };
const ref = ['lounge', '33333333-3333-4333-8333-333333333333', '00000000-0000-4000-8000-00000000000a', 'corr'] as const;

describe('message lookup - the message as history holds it', () => {
  it('asks as the caller and returns the message', async () => {
    const h = history({ ok: true, data: { messageId: ref[1] } });
    expect(await h.lookup.find(...ref)).toEqual({ messageId: ref[1] });
    expect(h.calls).toEqual([{ roomId: ref[0], messageId: ref[1], userId: ref[2] }]);
  });

  it('a message not projected yet: asked again, found on a later try', async () => {
    const h = history(notFound, { ok: true, data: { messageId: ref[1] } });
    expect(await h.lookup.find(...ref)).toEqual({ messageId: ref[1] });
    expect(h.calls).toHaveLength(2);
  });

  it('unknown after three tries within about half a second: null', async () => {
    const h = history(notFound);
    const started = Date.now();
    expect(await h.lookup.find(...ref)).toBeNull();
    expect(h.calls).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('history unavailable: thrown at once, not retried', async () => {
    const h = history({ ok: false, error: { code: 'UNAVAILABLE', message: 'the history service is not running' } });
    await expect(h.lookup.find(...ref)).rejects.toEqual(new ChatError('UNAVAILABLE', 'the history service is not running'));
    expect(h.calls).toHaveLength(1);
  });
});
