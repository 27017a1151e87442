import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { ReportsPort, StrikesPort } from '../ports';
import { storedEvents } from '../sanctions/testing';
import type { Verdict } from './subscriber';
import { startModerationWith } from './testing/service';
import { VerdictSink, verdictMsgId } from './verdicts';

// A subscriber's event redelivered to another replica (the first one crashed before its ack,
// or its ack was lost) is judged again there: the verdicts it carries out again must store
// nothing twice. Two real replicas on NATS carry out the same verdicts of the same event, at
// the same moment (neither has folded the other's appends yet) and again afterwards.
describe('moderation subscriber verdicts - stored once across replicas', () => {
  const namespace = randomName();
  let a: RunningService;
  let b: RunningService;

  beforeAll(async () => {
    [a, b] = await Promise.all([startModerationWith(namespace, []), startModerationWith(namespace, [])]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteNamespace(namespace);
  });

  it('warn, mute, report and strike (and the warning its escalation triggers) are stored once', async () => {
    const ann = { userId: randomUUID(), username: 'ann' };
    // Two strikes already: the verdict's strike is the third (MOD_STRIKES_WARN), which warns.
    for (const detail of ['one', 'two'])
      await a.app.get(StrikesPort).record({ ...ann, kind: 'filtered', detail, roomId: 'lounge', rule: 'words' });
    const verdicts: Verdict[] = [
      { kind: 'warn', ...ann, reason: 'calm down' },
      { kind: 'mute', ...ann, roomId: 'lounge', seconds: 600, reason: 'link spam' },
      {
        kind: 'report',
        roomId: 'lounge',
        messageId: randomUUID(),
        targetUserId: ann.userId,
        targetUsername: 'ann',
        excerpt: 'x',
        reason: 'look',
      },
      { kind: 'strike', ...ann, roomId: 'lounge', detail: 'link spam' },
    ];
    const source = { id: randomUUID(), correlationId: randomUUID() };
    const carryOut = (svc: RunningService) =>
      Promise.all(
        verdicts.map((v, i) =>
          svc.app.get(VerdictSink).execute(v, 'link-spam', { ...source, msgId: verdictMsgId('link-spam', 'messages', 17, i) }),
        ),
      );
    await Promise.all([carryOut(a), carryOut(b)]);
    await carryOut(b);
    await carryOut(a);

    const s = a.deps.subjects;
    const mine = await storedEvents(a, s.moderation.user(ann.userId));
    const count = (type: string) => mine.filter((e) => e.type === type).length;
    expect(count('StrikeRecorded')).toBe(3);
    expect(count('UserMuted')).toBe(1);
    // The verdict's warning and the third strike's.
    expect(
      mine
        .filter((e) => e.type === 'UserWarned')
        .map((e) => (e.payload as { rule: string }).rule)
        .sort(),
    ).toEqual(['link-spam', 'strikes']);
    const reports = (await storedEvents(a, s.moderation.all)).filter((e) => e.type === 'ReportFiled');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ causationId: source.id, correlationId: source.correlationId });
    // Filing again answers the stored report's id, on either replica.
    const again = (svc: RunningService) =>
      svc.app.get(ReportsPort).fileByRule(
        {
          roomId: 'lounge',
          messageId: null,
          targetUserId: ann.userId,
          targetUsername: 'ann',
          excerpt: null,
          reason: 'look',
          rule: 'link-spam',
        },
        { ...source, causationId: source.id, msgId: verdictMsgId('link-spam', 'messages', 17, 2) },
      );
    expect(await again(b)).toBe((reports[0].payload as { reportId: string }).reportId);
  });
});
