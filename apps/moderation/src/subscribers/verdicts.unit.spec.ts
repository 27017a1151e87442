import { createSubjects, fail, ok, type ModerationEvent } from '@chat/contracts';
import type { RpcClient } from '@chat/messaging';
import { randomUUID } from 'node:crypto';
import type { ModerationLog } from '../log/moderation-log';
import type { ReportsPort, SanctionsPort, StrikesPort } from '../ports';
import type { Verdict } from './subscriber';
import { VerdictExecutor, VerdictRefused, verdictProblem } from './verdicts';

const s = createSubjects('t');
const userId = randomUUID();
const messageId = randomUUID();
const cause = { id: randomUUID(), correlationId: randomUUID(), msgId: 'verdict:r:messages:7:0' };

function setUp(rpcAnswer: unknown = ok({ ok: true, messageId })) {
  const calls: Array<[string, unknown]> = [];
  const causes: unknown[] = [];
  const record = (name: string) => async (arg: unknown, by: unknown) => void (calls.push([name, arg]), causes.push(by));
  const sanctions = { muteByRule: record('mute'), warnByRule: record('warn') } as unknown as SanctionsPort;
  const strikes = { record: record('strike') } as unknown as StrikesPort;
  const reports = {
    fileByRule: async (arg: unknown, by: unknown) => (calls.push(['report', arg]), causes.push(by), 'r1'),
  } as unknown as ReportsPort;
  const rpc = {
    call: async (name: string, req: unknown, opts: unknown) => (calls.push([name, { req, opts }]), rpcAnswer),
  } as unknown as RpcClient;
  const appended: Array<{ subject: string; event: ModerationEvent; msgId: string }> = [];
  let appendFails = false;
  const log = {
    append: async (subject: string, event: ModerationEvent, msgId: string) => {
      if (appendFails) throw new Error('stream unavailable');
      appended.push({ subject, event, msgId });
      return { seq: 1 };
    },
  } as unknown as ModerationLog;
  const failAppend = (on: boolean) => (appendFails = on);
  return { executor: new VerdictExecutor(sanctions, strikes, reports, rpc, log, s), calls, causes, appended, failAppend };
}

describe('moderation verdicts', () => {
  it('redact: deletes through rooms.moderatorDelete, then stores a MessageRedacted once per message', async () => {
    const { executor, calls, appended } = setUp();
    await executor.execute({ kind: 'redact', roomId: 'lobby', messageId, userId, username: 'ann', reason: 'spam' }, 'link-spam', cause);
    expect(calls).toEqual([
      [
        'rooms.moderatorDelete',
        { req: { roomId: 'lobby', messageId, reason: 'spam', rule: 'link-spam' }, opts: { correlationId: cause.correlationId } },
      ],
    ]);
    expect(appended).toHaveLength(1);
    expect(appended[0].subject).toBe(s.moderation.redactions('lobby'));
    expect(appended[0].msgId).toBe(`redact:${messageId}`);
    expect(appended[0].event).toMatchObject({
      type: 'MessageRedacted',
      actor: { kind: 'service', id: 'moderation' },
      correlationId: cause.correlationId,
      causationId: cause.id,
      payload: { roomId: 'lobby', messageId, userId, username: 'ann', reason: 'spam', rule: 'link-spam' },
    });
  });

  it('redact: not answered or not found (history may not have the message yet) is retried; a malformed request is final; nothing stored', async () => {
    const v: Verdict = { kind: 'redact', roomId: 'lobby', messageId, userId, username: 'ann', reason: 'spam' };
    for (const answer of [fail('UNAVAILABLE', 'the rooms service is not running'), fail('NOT_FOUND', 'no such message')]) {
      const r = setUp(answer);
      await expect(r.executor.execute(v, 'r', cause)).rejects.not.toBeInstanceOf(VerdictRefused);
      expect(r.appended).toEqual([]);
    }
    const bad = setUp(fail('BAD_REQUEST', 'reason too long'));
    await expect(bad.executor.execute(v, 'r', cause)).rejects.toBeInstanceOf(VerdictRefused);
    expect(bad.appended).toEqual([]);
  });

  it('redact: a retry after the delete went through and the MessageRedacted did not only appends', async () => {
    const { executor, calls, appended, failAppend } = setUp();
    const v: Verdict = { kind: 'redact', roomId: 'lobby', messageId, userId, username: 'ann', reason: 'spam' };
    failAppend(true);
    await expect(executor.execute(v, 'r', cause)).rejects.toThrow('stream unavailable');
    failAppend(false);
    await executor.execute(v, 'r', cause);
    expect(calls.filter(([name]) => name === 'rooms.moderatorDelete')).toHaveLength(1);
    expect(appended).toHaveLength(1);
  });

  it("warn, mute, report and strike go to the ports, named after the rule, with the cause's msgId (stored once whichever replica carries them out)", async () => {
    const { executor, calls, causes } = setUp();
    await executor.execute({ kind: 'warn', userId, username: 'ann', reason: 'calm down' }, 'r', cause);
    await executor.execute({ kind: 'mute', userId, username: 'ann', roomId: null, seconds: 60, reason: 'flood' }, 'r', cause);
    await executor.execute(
      { kind: 'report', roomId: 'lobby', messageId, targetUserId: userId, targetUsername: 'ann', excerpt: 'x', reason: 'look' },
      'r',
      cause,
    );
    await executor.execute({ kind: 'strike', userId, username: 'ann', roomId: 'lobby', detail: '5 links' }, 'r', cause);
    expect(calls).toEqual([
      ['warn', { userId, username: 'ann', reason: 'calm down', rule: 'r' }],
      ['mute', { userId, username: 'ann', roomId: null, seconds: 60, reason: 'flood', rule: 'r' }],
      ['report', { roomId: 'lobby', messageId, targetUserId: userId, targetUsername: 'ann', excerpt: 'x', reason: 'look', rule: 'r' }],
      ['strike', { userId, username: 'ann', kind: 'rule', detail: '5 links', roomId: 'lobby', rule: 'r' }],
    ]);
    expect(causes).toEqual(Array(4).fill({ msgId: cause.msgId, correlationId: cause.correlationId, causationId: cause.id }));
  });

  it('checks verdicts before carrying them out', () => {
    const good: Verdict[] = [
      { kind: 'redact', roomId: 'lobby', messageId, userId, username: 'ann', reason: 'spam' },
      { kind: 'warn', userId, username: 'ann', reason: 'r' },
      { kind: 'mute', userId, username: 'ann', roomId: 'lobby', seconds: 1, reason: 'r' },
      { kind: 'report', roomId: null, messageId: null, targetUserId: userId, targetUsername: 'ann', excerpt: null, reason: 'r' },
      { kind: 'strike', userId, username: 'ann', roomId: null, detail: '' },
    ];
    expect(good.map(verdictProblem)).toEqual([null, null, null, null, null]);
    const bad: Verdict[] = [
      { kind: 'redact', roomId: 'Not A Room', messageId, userId, username: 'ann', reason: 'spam' },
      { kind: 'redact', roomId: 'lobby', messageId: 'm1', userId, username: 'ann', reason: 'spam' },
      { kind: 'warn', userId: 'bob', username: 'bob', reason: 'r' },
      { kind: 'warn', userId, username: 'ann', reason: 'x'.repeat(301) },
      { kind: 'mute', userId, username: 'ann', roomId: null, seconds: 0, reason: 'r' },
      { kind: 'mute', userId, username: 'ann', roomId: null, seconds: 1.5, reason: 'r' },
      { kind: 'mute', userId, username: 'ann', roomId: null, seconds: 2_592_001, reason: 'r' },
      { kind: 'report', roomId: null, messageId: null, targetUserId: userId, targetUsername: '', excerpt: null, reason: 'r' },
      { kind: 'ban', userId } as unknown as Verdict,
    ];
    for (const v of bad) expect(verdictProblem(v)).toEqual(expect.any(String));
  });
});
