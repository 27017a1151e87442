import type { ModerationCheckRequest } from '@chat/contracts';
import { filterConfigsByHand } from '../filters/testing';
import { filterConfig } from '../rules/filter-config.fixture';
import { SendCheck } from './send-check';
import { FakePermissions, FakeReports, FakeSanctions, FakeStrikes } from './testing/fake-ports';

// Review of issue 9: the approval of a held message (heldReportId) is allowed before the ban
// and mute checks, so a message held before its sender was banned from the server (by a
// moderator, or for review by strikes) is still posted under their name when approved, while
// docs/protocol.md says a banned user's sends are refused SERVER_BANNED "should one still reach it".
const ANN = '00000000-0000-4000-8000-00000000000a';
const req = (body: string, more: Partial<ModerationCheckRequest> = {}): ModerationCheckRequest => ({
  roomId: 'general',
  senderId: ANN,
  senderName: 'ann',
  senderRole: 'member',
  kind: 'post',
  clientMsgId: 'c1',
  body,
  heldReportId: null,
  ...more,
});

describe('review - approving a held message of a user banned since', () => {
  it('is refused SERVER_BANNED', async () => {
    const { configs, set } = filterConfigsByHand('');
    set(null, filterConfig({ links: { default: 'hold' } }));
    const sanctions = new FakeSanctions();
    const reports = new FakeReports();
    const check = new SendCheck(
      configs,
      new FakePermissions(),
      sanctions,
      new FakeStrikes(),
      reports,
      { MOD_SEND_RATE_PER_S: 1, MOD_SEND_BURST: 100, MOD_FLOOD_ROOMS: 3, MOD_FLOOD_WINDOW_S: 30 },
      { now: () => 1_000_000 },
    );
    const held = await check.check(req('buy at https://shop.example'));
    expect(held.verdict).toBe('hold');
    sanctions.banned.add(ANN);
    const approval = await check.check(req('buy at https://shop.example', { heldReportId: reports.held[0].reportId }));
    expect(approval).toMatchObject({ verdict: 'reject', code: 'SERVER_BANNED' });
  });
});
