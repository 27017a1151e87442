import { type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { BrowserUsers, PASSWORD, message, openRoomId, signIn, shot, suffix, until, withLogs } from './browser-users';
import { printLogsIfFailed, startTestStack, type TestStack } from './fixture';

// Moderation in the web client, in Debian's Chromium against the whole stack (built services):
// a member reports a message from its actions; a server moderator (SERVER_ADMINS) sees it in the
// moderation panel's queue (counted on the button), claims and resolves it, and finds both in
// the audit log; the moderator warns and mutes the sender from their card (the sender sees the
// notices and a composer that says until when), lifts the mute from the room's list; a kick
// says why and offers to connect again; and a server ban shows the banned screen at once, with
// no reconnecting, until an unban. The pages are Chinese (the browser's language): the texts
// awaited are the Chinese ones.

jest.setTimeout(300_000);

const notice = (page: Page, text: string) => page.getByTestId('notice').filter({ hasText: text });

describe('web client: moderation (browser e2e)', () => {
  const reporter = `举报人_${suffix()}`;
  const offender = `troll_${suffix()}`;
  const moderator = `mod_${suffix()}`;
  const roomId = `mod-${suffix()}`;
  const badText = `buy cheap followers now ${suffix()}`;
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let r: Page; // the reporter
  let o: Page; // the offender
  let m: Page; // the moderator

  beforeAll(async () => {
    // Moderation's per-user send rate as a person meets it (the fixture lifts it): bursts of 3, then 1 a second.
    const rate = { MOD_SEND_RATE_PER_S: '1', MOD_SEND_BURST: '3' };
    stack = await startTestStack({ env: { SERVER_ADMINS: moderator }, serviceEnv: { moderation: rate } });
    base = stack.urls.gateway;
    for (const name of [reporter, offender, moderator]) await register(base, name, PASSWORD);
    // A public room of the offender's, which the reporter joins; the offending message in it.
    const clients: ChatClient[] = [];
    try {
      for (const name of [offender, reporter]) {
        const c = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
        await c.auth((await login(base, name, PASSWORD)).accessToken);
        clients.push(c);
      }
      await clients[0].request('room.create', { roomId, name: `闲聊 ${roomId}`, visibility: 'public' });
      await clients[1].request('room.join', { roomId });
      await clients[0].request('message.send', { roomId, clientMsgId: `bad-${suffix()}`, body: badText });
    } finally {
      for (const c of clients) await c.close();
    }
    await browser.launch();
    [r, o, m] = [await browser.newPage(), await browser.newPage(), await browser.newPage()];
    await signIn(r, base, reporter, 'login');
    await signIn(o, base, offender, 'login');
    await signIn(m, base, moderator, 'login');
    for (const page of [r, o]) {
      await page.getByTestId(`open-${roomId}`).click();
      await until(`${roomId} is open`, async () => (await openRoomId(page)) === roomId);
    }
  });

  afterAll(async () => {
    await browser.close();
    await stack?.teardown();
  });

  afterEach(() => {
    printLogsIfFailed(stack, ['moderation', 'gateway', 'rooms']);
    expect(browser.pageErrors).toEqual([]);
  });

  /** The moderation panel on the moderator's page, at `tab`. */
  async function panel(tab: 'reports' | 'audit' | 'mutes' | 'bans' | 'filters' | 'roles') {
    const dialog = m.getByTestId('moderation-panel');
    if (!(await dialog.isVisible())) await m.getByTestId('open-moderation').click();
    await dialog.getByTestId(`mod-tab-${tab}`).click();
    await dialog.getByTestId(`${tab}-view`).waitFor();
    return dialog;
  }

  it('web moderation - a member reports a message; a server moderator claims and resolves it from the queue, and the audit log has both', () =>
    withLogs(stack, async () => {
      // Only staff see the panel's button.
      await m.getByTestId('open-moderation').waitFor();
      expect(await r.getByTestId('open-moderation').isVisible()).toBe(false);

      // The reporter: the message's actions → Report → reason → sent.
      const msg = message(r, badText);
      await msg.hover();
      expect(await msg.getByTestId('moderate').count()).toBe(0); // not staff, not a room admin
      await msg.getByTestId('report').click();
      const dialog = r.getByTestId('report-dialog');
      expect(await dialog.getByTestId('report-excerpt').textContent()).toContain(badText);
      await dialog.getByTestId('report-kind').selectOption('spam');
      await dialog.getByTestId('report-reason').fill('卖粉丝的广告');
      await shot(r, 'moderation-report-dialog');
      await dialog.getByTestId('report-send').click();
      await dialog.waitFor({ state: 'detached' });
      await notice(r, '感谢举报').waitFor();

      // The moderator: a notice and the button's count (live), the queue shows it.
      await notice(m, `收到关于 ${offender} 的新举报`).waitFor();
      await m.locator('[data-testid="mod-badge"]:not([hidden])').filter({ hasText: '1' }).waitFor();
      const reports = await panel('reports');
      const report = reports.locator('[data-testid="report"][data-kind="message"]').filter({ hasText: badText });
      await report.waitFor();
      expect(await report.getByTestId('report-reason').textContent()).toBe('垃圾信息或广告：卖粉丝的广告');
      expect(await report.getByTestId('report-target').textContent()).toBe(offender);
      expect(await report.getAttribute('data-state')).toBe('open');
      await shot(m, 'moderation-reports');

      await report.getByTestId('report-claim').click();
      await reports.locator('[data-testid="report"][data-state="claimed"]').filter({ hasText: badText }).waitFor();
      const claimed = reports.locator('[data-testid="report"]').filter({ hasText: badText });
      expect(await claimed.getByTestId('report-claimed').textContent()).toContain(moderator);
      await claimed.getByTestId('report-action').fill('warned');
      await claimed.getByTestId('report-note').fill('first time');
      await claimed.getByTestId('report-resolve').click();
      await notice(m, '举报已处理').waitFor();
      // Gone from the open queue (and the count); listed with the resolved ones.
      await until(
        'the resolved report leaves the open queue',
        async () => (await reports.getByTestId('report').filter({ hasText: badText }).count()) === 0,
      );
      await m.locator('[data-testid="mod-badge"][hidden]').waitFor({ state: 'attached' });
      await reports.getByTestId('reports-state').selectOption('resolved');
      const resolved = reports.locator('[data-testid="report"][data-state="resolved"]').filter({ hasText: badText });
      expect(await resolved.getByTestId('report-closed').textContent()).toMatch(
        new RegExp(`已处理，操作人：${moderator}.*warned.*first time`),
      );

      // The audit log: newest first, the resolution and the report, about the offender.
      const audit = await panel('audit');
      await audit.locator('[data-testid="audit-entry"][data-type="ReportResolved"]').first().waitFor();
      const types = await audit.getByTestId('audit-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
      expect(types.indexOf('ReportResolved')).toBeLessThan(types.indexOf('ReportFiled'));
      await audit.locator('[data-testid="audit-entry"][data-type="ReportFiled"]').getByTestId('audit-target').first().click();
      await until('the audit log is filtered by the offender', async () =>
        ((await audit.getByTestId('audit-filter').textContent()) ?? '').includes(offender),
      );
      expect(await audit.getByTestId('audit-user').inputValue()).toBe(offender);
      await shot(m, 'moderation-audit');
      await m.getByTestId('moderation-panel').getByTestId('dialog-close').click();
    }));

  it('web moderation - the moderator warns and mutes the sender from their card: notices, a composer that says until when; unmuted from the room’s list', () =>
    withLogs(stack, async () => {
      // The moderator joins the public room to read it.
      await m.getByTestId(`open-${roomId}`).click();
      await until('the moderator has the room open', async () => (await openRoomId(m)) === roomId);
      await m.getByTestId('join-room').click();
      const msg = message(m, badText);
      await msg.hover();
      await msg.getByTestId('moderate').click();
      const card = m.getByTestId('user-card');
      await card.getByTestId('user-not-muted').waitFor();

      await card.getByTestId('warn-reason').fill('不要发广告');
      await card.getByTestId('warn-send').click();
      await notice(m, `已警告 ${offender}`).waitFor();
      await notice(o, '不要发广告').waitFor();

      await card.getByTestId('mute-scope').selectOption(roomId);
      await card.getByTestId('mute-duration').selectOption('600');
      await card.getByTestId('mute-reason').fill('cool down');
      await card.getByTestId('mute-send').click();
      await card.getByTestId(`mute-${offender}`).waitFor();
      await notice(o, '被禁言，直到').waitFor();
      await o.locator('[data-testid="composer-note"][data-kind="muted"]').filter({ hasText: 'cool down' }).waitFor();
      expect(await o.getByTestId('message-input').isDisabled()).toBe(true);
      await shot(m, 'moderation-user-card');
      await card.getByTestId('dialog-close').click();

      // The room's own list (Details → Filters and mutes…): unmute.
      await m.getByTestId('show-details').click();
      await m.getByTestId('open-room-moderation').click();
      const roomMod = m.getByTestId('room-moderation');
      await roomMod.getByTestId(`mute-${offender}`).getByTestId('unmute').click();
      await roomMod.getByTestId('room-mutes-empty').waitFor();
      await until('the offender may write again', async () => !(await o.getByTestId('message-input').isDisabled()));
      await notice(o, '解除了你').waitFor();
      await notice(o, '被禁言，直到').waitFor({ state: 'detached' }); // the mute's notice goes with it
      await roomMod.getByTestId('dialog-close').click();
    }));

  it('web moderation - a room owner mutes a member in the room from the member list, lifts it from the room’s list, and blocks a word in the room’s own filters', () =>
    withLogs(stack, async () => {
      // The offender owns the room (no server role): the member list offers a room mute only.
      await o.getByTestId('show-members').click();
      await o.getByTestId(`member-${reporter}`).getByTestId('member-menu').click();
      await o.getByTestId(`member-${reporter}`).getByTestId('member-moderate').click();
      const card = o.getByTestId('user-card');
      await card.getByTestId('user-not-muted').waitFor();
      expect(await card.getByTestId('user-warn').count()).toBe(0);
      expect(await card.getByTestId('mute-scope').locator('option').count()).toBe(1);
      await card.getByTestId('mute-duration').selectOption('3600');
      await card.getByTestId('mute-send').click();
      await card.getByTestId(`mute-${reporter}`).waitFor();
      await card.getByTestId('dialog-close').click();
      await r.locator('[data-testid="composer-note"][data-kind="muted"]').waitFor();
      expect(await r.getByTestId('message-input').isDisabled()).toBe(true);
      await shot(r, 'moderation-muted-composer');

      await o.getByTestId('show-details').click();
      await o.getByTestId('open-room-moderation').click();
      const roomMod = o.getByTestId('room-moderation');
      await roomMod.getByTestId(`mute-${reporter}`).getByTestId('unmute').click();
      await roomMod.getByTestId('room-mutes-empty').waitFor();
      await until('the reporter may write again', async () => !(await r.getByTestId('message-input').isDisabled()));

      // The room's own filters add to the server's.
      const editor = roomMod.locator('[data-testid="filter-editor"][data-scope="room"]');
      await editor.getByTestId('filter-block').fill('xyzzy');
      await editor.getByTestId('filter-save').click();
      await editor.getByTestId('filter-saved').waitFor();
      await shot(o, 'moderation-room');
      await roomMod.getByTestId('dialog-close').click();
      await r.getByTestId('message-input').fill('say xyzzy please');
      await r.getByTestId('message-input').press('Enter');
      const refused = r.locator('[data-testid="pending-message"][data-state="failed"]').filter({ hasText: 'say xyzzy please' });
      expect(await refused.getByTestId('send-error').getAttribute('data-code')).toBe('CONTENT_BLOCKED');
      await refused.getByTestId('dismiss-failed').click();
    }));

  it('web moderation - a member sending too fast: the outbox says when it sends again, and every message arrives in order', () =>
    withLogs(stack, async () => {
      const texts = [1, 2, 3, 4, 5].map((i) => `快 ${i} ${suffix()}`);
      for (const t of texts) {
        await r.getByTestId('message-input').fill(t);
        await r.getByTestId('message-input').press('Enter');
      }
      await r.getByTestId('pending-status').filter({ hasText: '发送太快' }).first().waitFor();
      for (const t of texts) await message(o, t).waitFor();
      const shown = await o
        .getByTestId('message-list')
        .getByTestId('message-body')
        .evaluateAll((els, wanted) => els.map((e) => e.textContent ?? '').filter((x) => wanted.some((w) => x.includes(w))), texts);
      expect(shown.map((x) => texts.find((t) => x.includes(t)))).toEqual(texts);
      await r.getByTestId('pending-message').first().waitFor({ state: 'detached' });
    }));

  it('web moderation - the server filter editor holds a domain (tried in the test box); the held message waits in the sender’s outbox until a moderator approves it', () =>
    withLogs(stack, async () => {
      const filters = await panel('filters');
      const form = filters.getByTestId('filter-form');
      await form.getByTestId('filter-domains').fill('spam-shop.example hold');
      await form.getByTestId('filter-block').fill('傻逼');
      await form.getByTestId('filter-save').click();
      await filters.getByTestId('filter-saved').waitFor();
      expect(await filters.getByTestId('filter-updated').textContent()).toContain(moderator);
      await filters.getByTestId('filter-test-input').fill('你这个傻逼');
      await filters.getByTestId('filter-test').click();
      await filters.locator('[data-testid="filter-test-result"][data-verdict="reject"]').waitFor();
      await filters.getByTestId('filter-test-input').fill('deals at https://shop.spam-shop.example/x');
      await filters.getByTestId('filter-test').click();
      await filters.locator('[data-testid="filter-test-result"][data-verdict="hold"]').waitFor();
      await shot(m, 'moderation-filters');

      // The sender's message is held: it waits in the outbox, saying so.
      const held = `deals at https://shop.spam-shop.example/${suffix()}`;
      await o.getByTestId('message-input').fill(held);
      await o.getByTestId('message-input').press('Enter');
      const pending = o.locator('[data-testid="pending-message"][data-state="held"]').filter({ hasText: held });
      await pending.getByTestId('held-notice').waitFor();
      await shot(o, 'moderation-held');

      // The moderator approves it from the queue: it is posted, and the outbox entry settles.
      const reports = await panel('reports');
      const report = reports.locator('[data-testid="report"][data-kind="held"]').filter({ hasText: held });
      await report.getByTestId('report-resolve').click();
      await notice(m, '已通过').waitFor();
      await message(o, held).waitFor();
      await message(r, held).waitFor();
      await pending.waitFor({ state: 'detached' });

      // The filters are cleared again for the next tests.
      const again = await panel('filters');
      await again.getByTestId('filter-domains').fill('');
      await again.getByTestId('filter-block').fill('');
      await again.getByTestId('filter-save').click();
      await again.getByTestId('filter-saved').waitFor();
      await m.getByTestId('moderation-panel').getByTestId('dialog-close').click();
    }));

  it('web moderation - a 10,000-word block list (larger than a WebSocket frame) is saved over HTTP and applies', () =>
    withLogs(stack, async () => {
      const words = Array.from({ length: 10_000 }, (_, i) => `spamword${String(i).padStart(5, '0')}`);
      const filters = await panel('filters');
      // Pasted at once (typing 130 KB through fill is slow).
      await filters.getByTestId('filter-block').evaluate((el, text) => {
        (el as unknown as { value: string }).value = text;
      }, words.join('\n'));
      const put = m.waitForRequest((req) => req.method() === 'PUT' && req.url().endsWith('/api/moderation/filters'));
      await filters.getByTestId('filter-save').click();
      await put;
      await filters.getByTestId('filter-saved').waitFor();
      // Read back: the whole list is there.
      expect((await filters.getByTestId('filter-block').inputValue()).split('\n')).toHaveLength(10_000);
      await filters.getByTestId('filter-test-input').fill('this has spamword09999 in it');
      await filters.getByTestId('filter-test').click();
      await filters.locator('[data-testid="filter-test-result"][data-verdict="reject"]').waitFor();

      await filters.getByTestId('filter-block').fill('');
      await filters.getByTestId('filter-save').click();
      await filters.getByTestId('filter-saved').waitFor();
      await m.getByTestId('moderation-panel').getByTestId('dialog-close').click();
    }));

  it('web moderation - an administrator makes a member a server moderator from the roles list (their page shows the panel) and takes it back', () =>
    withLogs(stack, async () => {
      const roles = await panel('roles');
      await roles.getByTestId(`role-${moderator}`).waitFor();
      expect(await roles.getByTestId(`role-${moderator}`).getByTestId('role-remove').count()).toBe(0); // SERVER_ADMINS
      await roles.getByTestId('role-username').fill(reporter);
      await roles.getByTestId('role-new').selectOption('moderator');
      await roles.getByTestId('role-grant').click();
      await roles.locator(`[data-testid="role-${reporter}"][data-role="moderator"]`).waitFor();
      await notice(r, '将你设为服务器版主').waitFor();
      await r.getByTestId('open-moderation').waitFor();

      await roles.getByTestId(`role-${reporter}`).getByTestId('role-remove').click();
      await roles.getByTestId(`role-${reporter}`).waitFor({ state: 'detached' });
      await notice(r, '取消了你的服务器角色').waitFor();
      await r.getByTestId('open-moderation').waitFor({ state: 'hidden' });
      await m.getByTestId('moderation-panel').getByTestId('dialog-close').click();
    }));

  it('web moderation - the audit log pages back with "Older entries" and filters by a user typed by name', () =>
    withLogs(stack, async () => {
      // 55 warnings to a quiet user (no page), by the moderator's own socket: more than a page.
      const quiet = `安静_${suffix()}`;
      const { user } = await register(base, quiet, PASSWORD);
      const c = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
      try {
        await c.auth((await login(base, moderator, PASSWORD)).accessToken);
        await Promise.all(Array.from({ length: 55 }, (_, i) => c.request('mod.warn', { userId: user.userId, reason: `warning ${i + 1}` })));
      } finally {
        await c.close();
      }
      const audit = await panel('audit');
      await audit.getByTestId('audit-clear').click();
      const entries = audit.getByTestId('audit-entry');
      await until('a first page of 50', async () => (await entries.count()) === 50);
      await audit.getByTestId('audit-more').click();
      await until('older entries added below', async () => (await entries.count()) > 55);
      const positions = await entries.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-position'))));
      expect([...positions].sort((x, y) => y - x)).toEqual(positions); // newest first, no repeats
      expect(new Set(positions).size).toBe(positions.length);

      // By name: the entries about the quiet user (the page learnt the name from the entries).
      await audit.getByTestId('audit-user').fill(quiet);
      await audit.getByTestId('audit-apply').click();
      await until('only the quiet user’s 50 newest', async () =>
        ((await audit.getByTestId('audit-filter').textContent()) ?? '').includes(quiet),
      );
      await until('a page about them', async () => (await entries.count()) === 50);
      expect(await audit.locator('[data-testid="audit-entry"][data-type="UserWarned"]').count()).toBe(50);
      await audit.getByTestId('audit-more').click();
      await until('the last 5', async () => (await entries.count()) === 55);
      await audit.getByTestId('audit-more').waitFor({ state: 'hidden' });
      await m.getByTestId('moderation-panel').getByTestId('dialog-close').click();
    }));

  it('web moderation - a kick disconnects the sender with the reason and a button to connect again', () =>
    withLogs(stack, async () => {
      const msg = message(m, badText);
      await msg.hover();
      await msg.getByTestId('moderate').click();
      const card = m.getByTestId('user-card');
      await card.getByTestId('kick-reason').fill('休息一下');
      await card.getByTestId('kick-send').click();
      await notice(m, `已断开 ${offender} 的连接`).waitFor();

      const banner = o.locator('[data-testid="conn-banner"][data-kind="kicked"]');
      await banner.waitFor();
      expect(await banner.textContent()).toContain('休息一下');
      await shot(o, 'moderation-kicked');
      await o.locator('[data-testid="conn-status"][data-state="offline"]').waitFor();
      await banner.getByTestId('reconnect-kicked').click();
      await o.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });
      await o.getByTestId('conn-banner').waitFor({ state: 'hidden' });
    }));

  it('web moderation - a server ban shows the banned screen at once, with no reconnecting; login is refused until the unban', () =>
    withLogs(stack, async () => {
      const msg = message(m, badText);
      await msg.hover();
      await msg.getByTestId('moderate').click();
      const card = m.getByTestId('user-card');
      await card.getByTestId('ban-reason').fill('spam account');
      await card.getByTestId('ban-send').click(); // asks once more
      await card.getByTestId('ban-send').click();
      await notice(m, `已封禁 ${offender}`).waitFor();

      await o.getByTestId('banned-view').waitFor();
      expect(await o.getByTestId('banned-reason').textContent()).toContain('spam account');
      expect(await o.getByTestId('chat-view').isVisible()).toBe(false);
      await shot(o, 'moderation-banned');

      // Logging in again: the same screen.
      await o.getByTestId('banned-back').click();
      await o.getByTestId('username').fill(offender);
      await o.getByTestId('password').fill(PASSWORD);
      await o.getByTestId('login').click();
      await o.getByTestId('banned-view').waitFor();

      // Unbanned from the panel's list: the login works.
      const bans = await panel('bans');
      await bans.getByTestId(`server-ban-${offender}`).getByTestId('server-unban').click();
      await notice(m, `已解封 ${offender}`).waitFor();
      await o.getByTestId('banned-back').click();
      await signIn(o, base, offender, 'login');
    }));
});
