import type { ModerationCheckRequest } from '@chat/contracts';
import { filterConfigsByHand } from '../filters/testing';
import { filterConfig, words } from '../rules/filter-config.fixture';
import { SendCheck } from './send-check';
import { FakePermissions, FakeReports, FakeSanctions, FakeStrikes } from './testing/fake-ports';

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

function setUp(config: Partial<{ rate: number; burst: number; floodRooms: number }> = {}) {
  const { configs, set } = filterConfigsByHand('forbidden');
  const permissions = new FakePermissions();
  const sanctions = new FakeSanctions();
  const strikes = new FakeStrikes();
  const reports = new FakeReports();
  const clock = { now: () => 1_000_000 };
  const check = new SendCheck(
    configs,
    permissions,
    sanctions,
    strikes,
    reports,
    {
      MOD_SEND_RATE_PER_S: config.rate ?? 1,
      MOD_SEND_BURST: config.burst ?? 100,
      MOD_FLOOD_ROOMS: config.floodRooms ?? 3,
      MOD_FLOOD_WINDOW_S: 30,
    },
    clock,
  );
  return { check, set, permissions, sanctions, strikes, reports, clock };
}

describe('send check', () => {
  it('allows clean text and masks where the filters say', async () => {
    const { check, set } = setUp();
    set(null, filterConfig({ words: words('mask', 'darn') }));
    await expect(check.check(req('hello'))).resolves.toEqual({ verdict: 'allow', body: 'hello' });
    await expect(check.check(req('darn it'))).resolves.toEqual({ verdict: 'allow', body: '*** it' });
  });

  it('a blocked message is CONTENT_BLOCKED and a `filtered` strike', async () => {
    const { check, strikes } = setUp();
    await expect(check.check(req('this is FORBIDDEN'))).resolves.toEqual({
      verdict: 'reject',
      code: 'CONTENT_BLOCKED',
      rule: 'words',
      reason: 'the message contains a blocked word',
      retryAfterMs: null,
    });
    expect(strikes.recorded).toEqual([
      { userId: ANN, username: 'ann', kind: 'filtered', detail: 'the message contains a blocked word', roomId: 'general', rule: 'words' },
    ]);
  });

  it("a block of the room's own filters refuses without a strike; one the server's filters also make strikes", async () => {
    const { check, set, strikes } = setUp();
    set(null, filterConfig({ links: { domains: [{ domain: 'bad.example', action: 'block' }] } }));
    set('general', filterConfig({ words: words('block', 'hello') }));
    await expect(check.check(req('hello there'))).resolves.toMatchObject({ verdict: 'reject', code: 'CONTENT_BLOCKED', rule: 'words' });
    expect(strikes.recorded).toEqual([]);
    // The room's word refuses first, but the server's filters alone refuse the link: that strikes.
    await expect(check.check(req('hello, see bad.example'))).resolves.toMatchObject({ code: 'CONTENT_BLOCKED', rule: 'words' });
    await expect(check.check(req('a forbidden word'))).resolves.toMatchObject({ code: 'CONTENT_BLOCKED', rule: 'words' });
    expect(strikes.recorded.map((s) => s.rule)).toEqual(['links', 'words']);
  });

  it('a held post files a held report with the body as it would be posted; a held edit is refused', async () => {
    const { check, set, reports, strikes } = setUp();
    set('general', filterConfig({ words: words('mask', 'darn'), links: { domains: [{ domain: 'review.example', action: 'hold' }] } }));
    const held = await check.check(req('darn, see review.example'));
    expect(held).toEqual({
      verdict: 'hold',
      rule: 'links',
      reason: 'a link to review.example waits for a moderator',
      reportId: reports.held[0].reportId,
    });
    expect(reports.held).toEqual([
      expect.objectContaining({
        roomId: 'general',
        senderId: ANN,
        senderName: 'ann',
        clientMsgId: 'c1',
        body: '***, see review.example',
        rule: 'links',
      }),
    ]);
    const edit = await check.check(req('see review.example', { kind: 'edit', clientMsgId: null }));
    expect(edit).toMatchObject({ verdict: 'reject', code: 'CONTENT_BLOCKED', rule: 'links' });
    expect(reports.held).toHaveLength(1);
    expect(strikes.recorded).toEqual([]);
    // The hold applies to this room only.
    await expect(check.check(req('see review.example', { roomId: 'other' }))).resolves.toMatchObject({ verdict: 'allow' });
  });

  it('an approved held message passes as it is; a wrong or unknown report id does not', async () => {
    const { check, set, reports } = setUp();
    set(null, filterConfig({ patterns: [{ name: 'crypto', pattern: 'crypto', action: 'hold' }] }));
    const held = await check.check(req('crypto news'));
    const reportId = held.verdict === 'hold' ? held.reportId : '';
    await expect(check.check(req('crypto news', { heldReportId: reportId }))).resolves.toEqual({ verdict: 'allow', body: 'crypto news' });
    await expect(check.check(req('crypto news!', { heldReportId: reportId }))).resolves.toMatchObject({ verdict: 'hold' });
    reports.held[0].open = false;
    await expect(check.check(req('crypto news', { heldReportId: reportId }))).resolves.toMatchObject({ verdict: 'hold' });
  });

  it('a server ban is SERVER_BANNED, before anything else', async () => {
    const { check, sanctions } = setUp();
    sanctions.banned.add(ANN);
    await expect(check.check(req('hello'))).resolves.toMatchObject({ verdict: 'reject', code: 'SERVER_BANNED', retryAfterMs: null });
  });

  it('an active mute is MUTED with the time left; a mute in another room does not apply', async () => {
    const { check, sanctions, clock } = setUp();
    const until = new Date(clock.now() + 90_000).toISOString();
    sanctions.mutes.push({
      muteId: 'm',
      userId: ANN,
      username: 'ann',
      roomId: 'general',
      until,
      reason: 'r',
      by: null,
      rule: null,
      time: until,
    });
    await expect(check.check(req('hello'))).resolves.toEqual({
      verdict: 'reject',
      code: 'MUTED',
      rule: 'mute',
      reason: `you are muted in this room until ${until}`,
      retryAfterMs: 90_000,
    });
    await expect(check.check(req('hello', { roomId: 'other' }))).resolves.toMatchObject({ verdict: 'allow' });
  });

  it('the token bucket refuses with the wait; room owners/admins and server staff are exempt', async () => {
    const { check, permissions, clock } = setUp({ rate: 1, burst: 2 });
    await check.check(req('one message'));
    await check.check(req('two messages'));
    await expect(check.check(req('three messages'))).resolves.toEqual({
      verdict: 'reject',
      code: 'RATE_LIMITED',
      rule: 'rate',
      reason: 'you are sending messages too fast',
      retryAfterMs: 1000,
    });
    await expect(check.check(req('three messages', { senderRole: 'admin' }))).resolves.toMatchObject({ verdict: 'allow' });
    await expect(check.check(req('three messages', { senderRole: 'owner' }))).resolves.toMatchObject({ verdict: 'allow' });
    permissions.roles.set(ANN, 'moderator');
    await expect(check.check(req('three messages'))).resolves.toMatchObject({ verdict: 'allow' });
    permissions.roles.delete(ANN);
    clock.now = () => 1_001_000;
    await expect(check.check(req('three messages'))).resolves.toMatchObject({ verdict: 'allow' });
  });

  it('a flood is RATE_LIMITED and a `flood` strike; edits and server staff are not flood-checked', async () => {
    const { check, strikes, permissions } = setUp();
    const text = 'join my server at once';
    await check.check(req(text, { roomId: 'a' }));
    await check.check(req(text, { roomId: 'b' }));
    await expect(check.check(req(text, { roomId: 'c' }))).resolves.toEqual({
      verdict: 'reject',
      code: 'RATE_LIMITED',
      rule: 'flood',
      reason: 'the same text was sent to too many rooms at once',
      retryAfterMs: 30_000,
    });
    expect(strikes.recorded).toEqual([
      expect.objectContaining({ kind: 'flood', roomId: 'c', rule: 'flood', detail: 'the same text in 3 rooms' }),
    ]);
    await expect(check.check(req(text, { roomId: 'd', kind: 'edit' }))).resolves.toMatchObject({ verdict: 'allow' });
    permissions.roles.set(ANN, 'admin');
    await expect(check.check(req(text, { roomId: 'e' }))).resolves.toMatchObject({ verdict: 'allow' });
  });

  it('a strike that cannot be recorded leaves the verdict as it is', async () => {
    const { check, strikes } = setUp();
    strikes.record = () => Promise.reject(new Error('stream down'));
    await expect(check.check(req('forbidden'))).resolves.toMatchObject({ verdict: 'reject', code: 'CONTENT_BLOCKED' });
  });

  it('a held report that cannot be filed is UNAVAILABLE', async () => {
    const { check, set, reports } = setUp();
    set(null, filterConfig({ patterns: [{ name: 'h', pattern: 'hold me', action: 'hold' }] }));
    reports.fileHeld = () => Promise.reject(new Error('stream down'));
    await expect(check.check(req('hold me'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
