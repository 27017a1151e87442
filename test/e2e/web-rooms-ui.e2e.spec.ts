import { type Page } from 'playwright-core';
import { BrowserUsers, message, openRoomId, shot, suffix, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// The rooms part of the web client as a Chinese reader meets it: both browser contexts are
// zh-CN (BrowserUsers), so every label, count and notice checked here is the Chinese one. Two
// people create and join a room, search with a person filter, read the statistics charts and
// start a private conversation from the member list. The tests run in order and share the users.

jest.setTimeout(180_000);

describe('web client: rooms, search, statistics and people in Chinese (browser e2e)', () => {
  const nameA = `周杰_${suffix()}`;
  const nameB = `lin_${suffix()}`;
  const roomId = `tea-${suffix()}`;
  const roomName = `喝茶聊天 ${roomId}`;
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.urls.gateway;
    await browser.launch();
    [a, b] = await browser.registered(base, nameA, nameB);
  });

  afterAll(async () => {
    await browser.close();
    await stack?.teardown();
  });

  async function send(page: Page, text: string) {
    await page.getByTestId('message-input').fill(text);
    await page.getByTestId('send').click();
    await message(page, text).waitFor();
  }

  it('web rooms ui - creating a room is all in Chinese: the dialog, the choices, the sidebar and the role', () =>
    withLogs(stack, async () => {
      expect(await a.getByTestId('open-create-room').textContent()).toContain('新建房间');
      await a.getByTestId('open-create-room').click();
      const dialog = a.getByTestId('create-room-dialog');
      await dialog.waitFor();
      expect(await dialog.locator('h2').textContent()).toBe('新建房间');
      const labels = await dialog.locator('.field-label').allTextContents();
      expect(labels).toEqual(['名称', '主题', '谁能找到它', '谁可以发言', '成员上限', 'ID']);
      expect(await dialog.getByTestId('new-room-advanced').textContent()).toBe('高级选项');
      expect(await dialog.getByTestId('new-room-visibility').locator('option').allTextContents()).toEqual(['公开', '私密']);
      expect(await dialog.getByTestId('create-room').textContent()).toBe('创建');
      await dialog.getByTestId('new-room-name').fill(roomName);
      await dialog.getByTestId('new-room-advanced').click(); // the id waits under "Advanced"
      await dialog.getByTestId('new-room-id').fill(roomId);
      await dialog.getByTestId('create-room').click();
      await dialog.waitFor({ state: 'detached' });
      await a.locator(`[data-testid="room-${roomId}"][data-role="owner"]`).waitFor();
      await until('the new room is open', async () => (await openRoomId(a)) === roomId);

      // The members panel names the role in Chinese, with the generated avatar.
      await a.getByTestId('show-members').click();
      const me = a.getByTestId(`member-${nameA}`);
      await me.waitFor();
      expect(await me.getByTestId('member-role').textContent()).toBe('所有者');
      expect(await me.locator('.avatar').textContent()).toBe('周');
      expect(await a.getByTestId('members-total').textContent()).toBe('1 位成员');
    }));

  it('web rooms ui - the directory finds the room with a Chinese count and joins it', () =>
    withLogs(stack, async () => {
      await b.getByTestId('open-directory').click();
      const dialog = b.getByTestId('directory-dialog');
      expect(await dialog.locator('h2').textContent()).toBe('房间目录');
      await dialog.getByTestId('directory-query').fill(roomId);
      const item = dialog.getByTestId(`directory-room-${roomId}`);
      await item.waitFor();
      await until('the total is said in Chinese', async () =>
        (await dialog.getByTestId('directory-total').textContent())?.includes(`1 个公开房间匹配“${roomId}”`),
      );
      expect(await item.getByTestId('directory-member-count').textContent()).toContain('1 位成员');
      const join = item.getByTestId(`directory-join-${roomId}`);
      expect(await join.textContent()).toBe('加入');
      await join.click();
      await dialog.waitFor({ state: 'detached' });
      await b.locator(`[data-testid="room-${roomId}"][data-member="true"]`).waitFor();
      await until('B has the room open', async () => (await openRoomId(b)) === roomId);
      await a.getByTestId(`member-${nameB}`).waitFor();
    }));

  it('web rooms ui - a search filtered by a person finds only their message and opens it in context', () =>
    withLogs(stack, async () => {
      const word = `龙井${suffix()}`;
      const fromA = `今天的${word}真香`;
      const fromB = `我也买了${word}`;
      await send(a, fromA);
      await send(b, fromB);
      const hitA = await until('A’s message is stored', async () => (await message(b, fromA).getAttribute('data-message-id')) || null);

      // A second room for B, so that opening the hit has to switch rooms.
      const other = `other-${suffix()}`;
      await b.getByTestId('open-create-room').click();
      const create = b.getByTestId('create-room-dialog');
      await create.getByTestId('new-room-name').fill(`别处 ${other}`);
      await create.getByTestId('new-room-advanced').click(); // the id waits under "Advanced"
      await create.getByTestId('new-room-id').fill(other);
      await create.getByTestId('create-room').click();
      await until('B is elsewhere', async () => (await openRoomId(b)) === other);

      await b.getByTestId('open-search').click();
      const dialog = b.getByTestId('search-dialog');
      expect(await dialog.locator('h2').textContent()).toBe('搜索消息');
      await dialog.getByTestId('search-query').fill(word);
      // Without the filter both messages are found.
      await dialog.getByTestId('search-go').click();
      await until('both are found', async () => (await dialog.getByTestId('search-hit').count()) === 2);
      expect(await dialog.getByTestId('search-summary').textContent()).toBe('2 条消息');

      // A name the page does not know is refused before asking, in Chinese.
      await dialog.getByTestId('search-from').fill(`nobody_${suffix()}`);
      await dialog.getByTestId('search-go').click();
      await until('the unknown name is refused', async () =>
        (await dialog.getByTestId('search-error').textContent())?.includes('本页面不认识'),
      );

      await dialog.getByTestId('search-from').fill(nameA);
      await dialog.getByTestId('search-go').click();
      await until('only A’s message is found', async () => {
        const senders = await dialog.getByTestId('search-sender').allTextContents();
        return senders.length === 1 && senders[0] === nameA;
      });
      const found = dialog.locator(`[data-testid="search-hit"][data-message-id="${hitA}"]`);
      expect(await found.getByTestId('search-mark').first().textContent()).toBe(word);
      await found.getByTestId('search-open').click();
      await dialog.waitFor({ state: 'detached' });
      await until(
        'the hit is shown highlighted in its room',
        async () => (await b.locator(`[data-message-id="${hitA}"]`).first().getAttribute('data-highlighted')) === 'true',
      );
      expect(await openRoomId(b)).toBe(roomId);
    }));

  it('web rooms ui - the statistics are SVG charts with spoken summaries, in Chinese, with the numbers as tables; Details leads to inviting', () =>
    withLogs(stack, async () => {
      await until('A has the room open', async () => (await openRoomId(a)) === roomId);
      await a.getByTestId('show-details').click();
      expect(await a.getByTestId('details-your-role').textContent()).toBe('所有者');
      await a.getByTestId('open-stats').click();
      const stats = a.getByTestId('stats-dialog');
      await stats.getByTestId('stats').waitFor();
      expect(await stats.getByTestId('stats-messages').textContent()).toBe('2');
      expect(await stats.getByTestId('stats-active').textContent()).toBe('2');

      const perDay = stats.locator('svg[data-testid="stats-days-chart"]');
      expect(await perDay.getAttribute('role')).toBe('img');
      expect(await perDay.getAttribute('aria-label')).toMatch(/每日消息数：共 2 条/);
      expect(await perDay.locator('g.day').count()).toBe(30);
      const hours = stats.locator('svg[data-testid="stats-hours"]');
      expect(await hours.getAttribute('aria-label')).toContain('最活跃的是');
      expect(await hours.locator('g.hour').count()).toBe(24);
      const top = stats.locator('svg[data-testid="stats-top-chart"]');
      expect(await top.getAttribute('aria-label')).toContain(nameA);
      expect(await top.locator('.chart-row').count()).toBe(2);

      // The tables are there for screen readers, not shown.
      const table = stats.getByTestId('stats-top');
      expect(await table.locator('tr[data-testid="stats-poster"]').count()).toBe(2);
      expect(await table.evaluate((t) => t.parentElement!.getBoundingClientRect().width)).toBeLessThanOrEqual(1);
      await shot(a, 'rooms-stats-zh');

      // Another range draws again.
      await stats.getByTestId('stats-range').selectOption('7');
      await until('seven days are drawn', async () => (await stats.locator('svg[data-testid="stats-days-chart"] g.day').count()) === 7);
      await stats.getByTestId('dialog-close').click();

      // Inviting is reached from the details too: it leads to the member list's field.
      expect(await a.getByTestId('details-invite').textContent()).toBe('邀请成员…');
      await a.getByTestId('details-invite').click();
      await until('the invitation field has the focus', () =>
        a.getByTestId('invite-username').evaluate((input) => input === document.activeElement),
      );
      expect(await a.getByTestId('show-members').getAttribute('aria-pressed')).toBe('true');
    }));

  it('web rooms ui - “发私信” on a member starts a private conversation, listed with an avatar', () =>
    withLogs(stack, async () => {
      const members = a.getByTestId('show-members');
      if ((await members.getAttribute('aria-pressed')) !== 'true') await members.click();
      const row = a.getByTestId(`member-${nameB}`);
      await row.waitFor();
      const button = row.getByTestId('member-message');
      expect(await button.textContent()).toBe('发私信');
      await button.click();
      const dialog = a.getByTestId('new-dm-dialog');
      await dialog.waitFor();
      expect(await dialog.locator('h2').textContent()).toBe('新私信');
      expect(await dialog.getByTestId('dm-username').inputValue()).toBe(nameB);
      const text = `有空一起喝茶吗？${suffix()}`;
      await dialog.getByTestId('dm-body').fill(text);
      await dialog.getByTestId('dm-send').click();
      await dialog.waitFor({ state: 'detached' });
      await until('A has the conversation open', async () => (await a.getByTestId('room-view').getAttribute('data-kind')) === 'direct');
      await message(a, text).waitFor();

      const entry = a.getByTestId(`conversation-${nameB}`);
      await entry.waitFor();
      expect(await entry.locator('.avatar').textContent()).toBe('L');
      expect(await entry.getByTestId('conversation-preview').textContent()).toBe(`我：${text}`);
      // B's list shows A with A's initial, and a presence dot on the avatar.
      const onB = b.getByTestId(`conversation-${nameA}`);
      await onB.waitFor();
      expect(await onB.locator('.avatar').textContent()).toBe('周');
      await onB.locator('.avatar-wrap .dot').waitFor();

      // Once a conversation exists, "发私信" opens it instead of a new dialog.
      const conversation = await openRoomId(a);
      await a.getByTestId(`open-${roomId}`).click();
      await until('A is back in the room', async () => (await openRoomId(a)) === roomId);
      if ((await a.getByTestId('show-members').getAttribute('aria-pressed')) !== 'true') await a.getByTestId('show-members').click();
      await a.getByTestId(`member-${nameB}`).getByTestId('member-message').click();
      await until('the conversation opens', async () => (await openRoomId(a)) === conversation);
      expect(await a.getByTestId('new-dm-dialog').count()).toBe(0);
      await shot(a, 'rooms-dm-zh');
      expect(browser.pageErrors).toEqual([]);
    }));
});
