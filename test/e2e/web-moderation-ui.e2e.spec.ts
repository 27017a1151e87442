import { type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { BrowserUsers, PASSWORD, message, openRoomId, signIn, shot, suffix, until, withLogs } from './browser-users';
import { printLogsIfFailed, startTestStack, type TestStack } from './fixture';

// The moderation UI as a Chinese page shows it, in Debian's Chromium against the whole stack: a
// server moderator mutes a member from a report; the member reads a Chinese notice (folding, at
// most three kept) and a disabled composer that says why in Chinese; the audit log says Chinese
// sentences with names (no ids, no raw types); on a phone (390 px) the user card keeps its head
// while its body scrolls, and the panel keeps its size between tabs; "Go to message" from a
// report opens the room at the message, far back in its history.

jest.setTimeout(300_000);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('web client: the moderation UI in Chinese (browser e2e)', () => {
  const reporter = `举报人_${suffix()}`;
  const offender = `troll_${suffix()}`;
  const moderator = `mod_${suffix()}`;
  const roomId = `ui-${suffix()}`;
  const roomLabel = `# 闲聊 ${roomId}`;
  const badText = `加微信买粉丝 ${suffix()}`;
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let o: Page; // the offender
  let m: Page; // the moderator

  /** A client of `name` over the API (for what the test only needs to have happened). */
  async function api(name: string): Promise<ChatClient> {
    const c = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
    await c.auth((await login(base, name, PASSWORD)).accessToken);
    return c;
  }

  beforeAll(async () => {
    stack = await startTestStack({ env: { SERVER_ADMINS: moderator } });
    base = stack.urls.gateway;
    for (const name of [reporter, offender, moderator]) await register(base, name, PASSWORD);
    const [off, rep, mod] = [await api(offender), await api(reporter), await api(moderator)];
    try {
      await off.request('room.create', { roomId, name: `闲聊 ${roomId}`, visibility: 'public' });
      await rep.request('room.join', { roomId });
      await mod.request('room.join', { roomId });
      const bad = await off.request('message.send', { roomId, clientMsgId: `bad-${suffix()}`, body: badText });
      // More than a page after it: "Go to message" has to open the room back in its history.
      for (let i = 0; i < 60; i++) await rep.request('message.send', { roomId, clientMsgId: `fill-${i}-${suffix()}`, body: `聊天 ${i}` });
      await rep.request('report.create', { roomId, messageId: bad.messageId, reason: '垃圾信息或广告' });
    } finally {
      for (const c of [off, rep, mod]) await c.close();
    }
    await browser.launch();
    [o, m] = [await browser.newPage(), await browser.newPage()];
    await signIn(o, base, offender, 'login');
    await signIn(m, base, moderator, 'login');
    await o.getByTestId(`open-${roomId}`).click();
    await until(`${roomId} is open`, async () => (await openRoomId(o)) === roomId);
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

  /** The report about the bad message, in the panel's queue. */
  async function theReport() {
    const reports = await panel('reports');
    const report = reports.locator('[data-testid="report"][data-kind="message"]').filter({ hasText: badText });
    await report.waitFor();
    return report;
  }

  it('web moderation ui - a moderator mutes from a report: the member sees a Chinese notice and a disabled composer with a Chinese note', () =>
    withLogs(stack, async () => {
      const report = await theReport();
      expect(await report.getByTestId('report-kind').textContent()).toBe('举报');
      expect(await report.getByTestId('report-state').textContent()).toBe('待处理');
      await shot(m, 'moderation-ui-reports-1280');
      await report.getByTestId('report-user').click();
      const card = m.getByTestId('user-card');
      await card.getByTestId('user-not-muted').waitFor();
      expect(await card.locator('.dialog-head h2').textContent()).toBe('个人资料');
      expect(await card.getByTestId('user-card-name').textContent()).toBe(offender);
      expect(await card.locator('.user-card-head .avatar').textContent()).toBe('T');
      await card.getByTestId('mute-scope').selectOption(roomId);
      expect(await card.getByTestId('mute-duration').locator('option:checked').textContent()).toBe('1 小时');
      await card.getByTestId('mute-duration').selectOption('600');
      await card.getByTestId('mute-reason').fill('冷静一下');
      await card.getByTestId('mute-send').click();
      const row = card.getByTestId(`mute-${offender}`);
      await row.waitFor();
      expect(await row.textContent()).toMatch(new RegExp(`在 ${roomLabel} 中，直到 .*操作人：${moderator}.*冷静一下`));
      await shot(m, 'moderation-ui-card-1280');
      await card.getByTestId('dialog-close').click();

      // The member: a Chinese notice (who, where, until when, why), and the composer says it too.
      const notice = o.locator('[data-testid="notice"][data-kind="muted"]');
      await notice.waitFor();
      const said = (await notice.textContent()) ?? '';
      expect(said).toContain(`你在 ${roomLabel} 中被禁言，直到`);
      expect(said).toContain(`由 ${moderator} 禁言，原因：冷静一下`);
      expect(said).not.toMatch(/You are|muted|until/);
      const note = o.locator('[data-testid="composer-note"][data-kind="muted"]');
      await note.waitFor();
      expect(await note.textContent()).toMatch(new RegExp(`^你在 ${roomLabel} 中被禁言，直到 .+（还剩 10 分钟）：冷静一下$`));
      expect(await o.getByTestId('message-input').isDisabled()).toBe(true);

      // The notice folds to a line and opens again ("详情" / "收起").
      await notice.getByTestId('notice-details').click();
      expect(await notice.getAttribute('class')).toContain('folded');
      expect(await notice.getByTestId('notice-details').textContent()).toBe('详情');
      await notice.getByTestId('notice-details').click();
      expect(await notice.getAttribute('class')).not.toContain('folded');

      // Warnings pile up: three notices stay at most, the mute's and the newest warnings.
      const userId = await offenderId();
      const mod = await api(moderator);
      try {
        for (let i = 1; i <= 4; i++) await mod.request('mod.warn', { userId, reason: `第 ${i} 次警告` });
      } finally {
        await mod.close();
      }
      await o.locator('.mod-notice').filter({ hasText: '第 4 次警告' }).waitFor();
      await until('at most three moderation notices stay', async () => (await o.locator('.mod-notice').count()) === 3);
      expect(await o.locator('.mod-notice').filter({ hasText: '第 1 次警告' }).count()).toBe(0);
      expect(await o.locator('.mod-notice').filter({ hasText: '第 2 次警告' }).count()).toBe(0);
      expect(await notice.count()).toBe(1);
      expect(await o.locator('.mod-notice[data-kind="warned"]').first().textContent()).toContain(
        `来自管理员的警告（${moderator}）第 3 次警告`,
      );
      await shot(o, 'moderation-ui-notices-1280');
    }));

  /** The offender's user id, from the moderator's mute list. */
  async function offenderId(): Promise<string> {
    const mod = await api(moderator);
    try {
      const { mutes } = await mod.request('mod.mutes', { roomId });
      const found = mutes.find((x) => x.username === offender);
      if (!found) throw new Error('the offender is not muted');
      return found.userId;
    } finally {
      await mod.close();
    }
  }

  it('web moderation ui - the audit log says Chinese sentences with names: no ids, no raw types; SERVER_ADMINS is explained', () =>
    withLogs(stack, async () => {
      const audit = await panel('audit');
      const muted = audit.locator('[data-testid="audit-entry"][data-type="UserMuted"]').first();
      await muted.waitFor();
      expect(await muted.getByTestId('audit-summary').textContent()).toBe(
        `${moderator} 在 ${roomLabel} 将 ${offender} 禁言 10 分钟：冷静一下`,
      );
      expect(await muted.getByTestId('audit-type').textContent()).toBe('禁言');
      const filed = audit.locator('[data-testid="audit-entry"][data-type="ReportFiled"]').first();
      expect(await filed.getByTestId('audit-summary').textContent()).toBe(`${reporter} 举报了 ${offender} 的一条消息：垃圾信息或广告`);
      const warned = audit.locator('[data-testid="audit-entry"][data-type="UserWarned"]').first();
      expect(await warned.getByTestId('audit-summary').textContent()).toBe(`${moderator} 警告了 ${offender}：第 4 次警告`);
      const all = (await audit.getByTestId('audit-list').textContent()) ?? '';
      expect(all).not.toMatch(UUID);
      expect(all).not.toMatch(/UserMuted|ReportFiled|UserWarned|STRIKE|muted|reported|warned/i);
      expect(all.replaceAll(roomLabel, '')).not.toContain(roomId); // the room by its name, never by its id alone
      await shot(m, 'moderation-ui-audit-1280');

      const roles = await panel('roles');
      const admin = roles.getByTestId(`role-${moderator}`);
      expect(await admin.getByTestId('role-config').textContent()).toBe('由服务器配置指定');
      expect(await admin.getByTestId('role-config').getAttribute('title')).toContain('无法在这里更改');
      expect(await roles.textContent()).not.toContain('SERVER_ADMINS ');
      await m.getByTestId('moderation-panel').getByTestId('dialog-close').click();
    }));

  it('web moderation ui - on a phone (390 px) the user card keeps its head while its body scrolls; the panel keeps its size between tabs', () =>
    withLogs(stack, async () => {
      await m.setViewportSize({ width: 390, height: 844 });
      try {
        const panelDialog = await panel('reports');
        const sizeOf = async () => (await panelDialog.boundingBox())!;
        const first = await sizeOf();
        expect(first.width).toBeGreaterThanOrEqual(389);
        await panel('roles');
        expect((await sizeOf()).height).toBeCloseTo(first.height, 0);
        const tabs = panelDialog.locator('.mod-tabs');
        const tabsAt = (await tabs.boundingBox())!.y;
        await panel('audit');
        await panelDialog.getByTestId('mod-body').evaluate((el) => (el.scrollTop = el.scrollHeight));
        expect((await tabs.boundingBox())!.y).toBeCloseTo(tabsAt, 0);
        await shot(m, 'moderation-ui-audit-390');

        const report = await theReport();
        await report.getByTestId('report-user').click();
        const card = m.getByTestId('user-card');
        await card.getByTestId(`mute-${offender}`).waitFor();
        expect((await card.boundingBox())!.width).toBeGreaterThanOrEqual(389);
        const body = card.locator('.dialog-body');
        const scrolled = await body.evaluate((el) => {
          el.scrollTop = el.scrollHeight;
          return el.scrollTop;
        });
        expect(scrolled).toBeGreaterThan(0); // the card is longer than the phone
        const head = (await card.locator('.dialog-head').boundingBox())!;
        const cardBox = (await card.boundingBox())!;
        expect(head.y).toBeGreaterThanOrEqual(0);
        expect(head.y - cardBox.y).toBeLessThan(2); // still at the card's top
        expect(await card.locator('.dialog-head h2').isVisible()).toBe(true);
        await card.getByTestId('ban-send').scrollIntoViewIfNeeded();
        await shot(m, 'moderation-ui-card-390');
        await card.getByTestId('dialog-close').click(); // the × is reachable after scrolling
        await card.waitFor({ state: 'detached' });
        await m.getByTestId('moderation-panel').getByTestId('dialog-close').click();
      } finally {
        await m.setViewportSize({ width: 1280, height: 800 });
      }
    }));

  it('web moderation ui - "Go to message" from a report opens the room at the message, far back in its history', () =>
    withLogs(stack, async () => {
      expect(await openRoomId(m)).not.toBe(roomId);
      const report = await theReport();
      await report.getByTestId('report-goto').click();
      await m.getByTestId('moderation-panel').waitFor({ state: 'detached' });
      await until('the moderator has the room open', async () => (await openRoomId(m)) === roomId);
      const msg = message(m, badText);
      await msg.waitFor();
      await until('the message is in view', async () => {
        const list = (await m.getByTestId('message-list').boundingBox())!;
        const box = await msg.boundingBox();
        return !!box && box.y >= list.y && box.y + box.height <= list.y + list.height;
      });
      await shot(m, 'moderation-ui-goto-1280');
    }));
});
