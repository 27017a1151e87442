import { WebSocket } from 'ws';
import { type Locator, type Page } from 'playwright-core';
import { ChatClient, login, wsUrlOf } from '@chat/client';
import { BrowserUsers, PASSWORD, message, openRoomId, signIn, suffix, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// History people trust, in the web client: editing and deleting (seen live by another
// person), reactions, replies with their quote opened in context, mentions with their
// highlight and unread and mention badges kept on the server (the same after a reload and on a
// second device), and search of a two-character Chinese word opened in context. Two people in
// two browser contexts (Debian's Chromium driven by playwright-core) against the whole stack
// started from the built services; the tests run in order and share the room.

jest.setTimeout(240_000);

const byId = (page: Page, messageId: string): Locator => page.locator(`[data-testid="message"][data-message-id="${messageId}"]`);

describe('web client: message lifecycle, unread, search (browser e2e)', () => {
  const nameA = `阿明_${suffix()}`;
  const nameB = `bea_${suffix()}`;
  const roomId = `hist-${suffix()}`;
  const quietRoom = `quiet-${suffix()}`;
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let a: Page;
  let b: Page;

  async function createRoom(page: Page, id: string, name: string) {
    await page.getByTestId('open-create-room').click();
    const dialog = page.getByTestId('create-room-dialog');
    await dialog.getByTestId('new-room-name').fill(name);
    await dialog.getByTestId('new-room-advanced').click(); // the id waits under "Advanced"
    await dialog.getByTestId('new-room-id').fill(id);
    await dialog.getByTestId('new-room-visibility').selectOption('private');
    await dialog.getByTestId('create-room').click();
    await dialog.waitFor({ state: 'detached' });
    await until('the new room is open', async () => (await openRoomId(page)) === id);
  }

  /** A invites B, B accepts (live): both are members. */
  async function inviteB(id: string) {
    await until('A has the room open', async () => (await openRoomId(a)) === id);
    const button = a.getByTestId('show-members');
    if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
    await a.getByTestId('invite-username').fill(nameB);
    await a.getByTestId('invite-send').click();
    await b.getByTestId(`accept-${id}`).click();
    await b.locator(`[data-testid="room-${id}"][data-member="true"]`).waitFor();
  }

  async function openRoom(page: Page, id: string) {
    await page.getByTestId(`open-${id}`).click();
    await until(`${id} is open`, async () => (await openRoomId(page)) === id);
  }

  async function send(page: Page, text: string) {
    await page.getByTestId('message-input').fill(text);
    await page.getByTestId('message-input').press('Enter');
    await message(page, text).waitFor();
  }

  /** Hovers the message (its actions show on hover) and clicks one of them. */
  async function act(page: Page, text: string, action: 'edit' | 'delete' | 'reply' | 'react') {
    const m = message(page, text);
    await m.hover();
    await m.getByTestId(action).click();
  }

  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.urls.gateway;
    await browser.launch();
    [a, b] = await browser.registered(base, nameA, nameB);
    await createRoom(a, roomId, `历史 ${roomId}`);
    await inviteB(roomId);
    await createRoom(a, quietRoom, `安静 ${quietRoom}`);
    await inviteB(quietRoom);
    await openRoom(a, roomId);
    await openRoom(b, roomId);
  });

  afterAll(async () => {
    await browser.close();
    await stack?.teardown();
  });

  afterEach(() => {
    expect(browser.pageErrors).toEqual([]);
  });

  it('web history - an edit shows "(edited)" and the new text, a deletion a tombstone, live in the other browser', () =>
    withLogs(stack, async () => {
      const original = `明天开会吗 ${suffix()}`;
      await send(a, original);
      await message(b, original).waitFor();

      const edited = `明天下午开会 ${suffix()}`;
      await act(a, original, 'edit');
      const input = a.getByTestId('edit-input');
      expect(await input.inputValue()).toBe(original);
      await input.fill(edited);
      await input.press('Enter');
      const onB = message(b, edited);
      await onB.getByTestId('message-edited').waitFor();
      expect(await onB.getByTestId('message-edited').getAttribute('title')).toMatch(/^编辑于 /);
      expect(await message(b, original).count()).toBe(0);
      await message(a, edited).getByTestId('message-edited').waitFor();

      // Esc cancels an edit without a change; Up in the empty composer edits my last message.
      await a.getByTestId('message-input').focus();
      await a.getByTestId('message-input').press('ArrowUp');
      await a.getByTestId('edit-input').press('Escape');
      await a.getByTestId('edit-input').waitFor({ state: 'detached' });

      const messageId = (await onB.getAttribute('data-message-id'))!;
      await act(a, edited, 'delete');
      await a.getByTestId('delete-confirm').click();
      await byId(b, messageId).getByTestId('message-deleted').waitFor();
      expect(await byId(b, messageId).getAttribute('data-deleted')).toBe('true');
      expect(await message(b, edited).count()).toBe(0);
      await byId(a, messageId).getByTestId('message-deleted').waitFor();

      // B cannot delete A's message (not the author, not an admin): no such action is offered.
      const other = `别删我 ${suffix()}`;
      await send(a, other);
      await message(b, other).hover();
      expect(await message(b, other).getByTestId('delete').count()).toBe(0);
    }));

  it('web history - a reaction is added and taken back, live for the author', () =>
    withLogs(stack, async () => {
      const text = `发布成功 🎉 ${suffix()}`;
      await send(a, text);
      await act(b, text, 'react');
      await b.getByTestId('emoji-picker').getByTestId('picker-emoji').filter({ hasText: '👍' }).click();
      const onA = message(a, text).locator('[data-testid="reaction"][data-emoji="👍"]');
      await onA.waitFor();
      expect(await onA.getByTestId('reaction-count').textContent()).toBe('1');
      expect(await onA.getAttribute('aria-pressed')).toBe('false');

      // A adds the same emoji by clicking the chip: 2, and A's is pressed.
      await onA.click();
      await until('two 👍 on B', async () => (await message(b, text).locator('[data-emoji="👍"]').getAttribute('data-count')) === '2');
      // B toggles theirs off.
      await message(b, text).locator('[data-emoji="👍"]').click();
      await until('one 👍 on A', async () => (await onA.getAttribute('data-count')) === '1');
      expect(await onA.getAttribute('aria-pressed')).toBe('true');
      await onA.click();
      await message(b, text).locator('[data-emoji="👍"]').waitFor({ state: 'detached' });
    }));

  it('web history - a reply shows its quote; clicking the quote shows the original in context', () =>
    withLogs(stack, async () => {
      const original = `谁有会议室的钥匙？ ${suffix()}`;
      await send(a, original);
      await act(b, original, 'reply');
      await b.getByTestId('reply-bar').waitFor();
      const answer = `我有 ${suffix()}`;
      await send(b, answer);
      await b.getByTestId('reply-bar').waitFor({ state: 'hidden' });
      const onA = message(a, answer);
      await until('A sees the quote', async () => (await onA.getByTestId('reply-quote-text').textContent())?.includes(original));
      expect(await onA.getByTestId('reply-quote').textContent()).toContain(nameA);
      await onA.getByTestId('reply-quote').click();
      await until('the original is highlighted', async () => (await message(a, original).getAttribute('data-highlighted')) === 'true');
    }));

  it('web history - a mention is highlighted; unread and mention badges come from the server after a reload and on a second device', () =>
    withLogs(stack, async () => {
      // B looks at the quiet room: the history room's messages are unread for B.
      await openRoom(b, quietRoom);
      await openRoom(a, roomId);
      const plain = `大家好 ${suffix()}`;
      await send(a, plain);
      // @ suggests the room's members; Enter picks.
      await a.getByTestId('message-input').fill(`@${nameB.slice(0, 5)}`);
      await a.getByTestId('mention-option').filter({ hasText: nameB }).waitFor();
      await a.getByTestId('message-input').press('Enter');
      expect(await a.getByTestId('message-input').inputValue()).toBe(`@${nameB} `);
      const mention = `@${nameB} 请看一下 ${suffix()}`;
      await send(a, mention);

      const unread = (page: Page) => page.getByTestId(`unread-${roomId}`);
      const mentions = (page: Page) => page.getByTestId(`mentions-${roomId}`);
      await until('B counts two unread, one mention (live)', async () => (await unread(b).textContent()) === '2');
      await b
        .getByTestId('notice')
        .filter({ hasText: new RegExp(`${nameA}.*提到了你`) })
        .waitFor();
      expect(await mentions(b).textContent()).toBe('@1');

      await b.reload();
      await b.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });
      await until('B counts two unread after a reload', async () => (await unread(b).textContent()) === '2');
      expect(await mentions(b).textContent()).toBe('@1');

      const second = await browser.newPage();
      await signIn(second, base, nameB, 'login');
      await until('the second device shows the same counts', async () => (await unread(second).textContent()) === '2');
      expect(await mentions(second).textContent()).toBe('@1');

      // Opening the room reads it: the new-messages line is above the first unread, the mention
      // is highlighted, and both devices drop the badges (the marker is on the server).
      await openRoom(b, roomId);
      await b.getByTestId('new-messages').waitFor();
      const highlighted = message(b, mention);
      await until('the mention is highlighted', async () => (await highlighted.getAttribute('data-mentions-me')) === 'true');
      await highlighted
        .getByTestId('mention')
        .filter({ hasText: `@${nameB}` })
        .waitFor();
      await unread(b).waitFor({ state: 'detached' });
      await unread(second).waitFor({ state: 'detached' });
      await mentions(second).waitFor({ state: 'detached' });
      await second.context().close();
    }));

  it('web history - searching a two-character Chinese word finds it, marks it, and opens the hit in context', () =>
    withLogs(stack, async () => {
      // Enough messages after the hit that opening it in context is a page of its own.
      const { accessToken } = await login(base, nameA, PASSWORD);
      const conn = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
      try {
        await conn.auth(accessToken);
        const target = `下周三去北京出差 ${suffix()}`;
        const hit = await conn.request('message.send', { roomId, clientMsgId: `t${suffix()}`, body: target });
        for (let i = 0; i < 70; i++) await conn.request('message.send', { roomId, clientMsgId: `f${i}x${suffix()}`, body: `filler ${i}` });

        // B is elsewhere: the hit opens its room around it, not at the newest page.
        await openRoom(b, quietRoom);
        await b.getByTestId('open-search').click();
        const dialog = b.getByTestId('search-dialog');
        await dialog.getByTestId('search-query').fill('出差');
        await dialog.getByTestId('search-go').click();
        const found = dialog.locator(`[data-testid="search-hit"][data-message-id="${hit.messageId}"]`);
        await found.waitFor();
        expect(await found.getByTestId('search-mark').first().textContent()).toBe('出差');
        expect(await found.getByTestId('search-snippet').textContent()).toContain('北京出差');

        await found.getByTestId('search-open').click();
        await dialog.waitFor({ state: 'detached' });
        await until('the hit is shown highlighted', async () => (await byId(b, hit.messageId).getAttribute('data-highlighted')) === 'true');
        expect(await openRoomId(b)).toBe(roomId);
        // Opened around the hit: newer messages load on scrolling down, and the present is one click away.
        expect(await message(b, 'filler 69').count()).toBe(0);
        await b.getByTestId('load-newer').waitFor();
        await b.getByTestId('jump-present').click();
        await message(b, 'filler 69').waitFor();
        await b.getByTestId('load-newer').waitFor({ state: 'hidden' });

        // Search within one room, by relevance, finds the same message; a query of only punctuation is refused with its code.
        await b.getByTestId('open-search').click();
        const again = b.getByTestId('search-dialog');
        await again.getByTestId('search-room').selectOption(roomId);
        await again.getByTestId('search-order').selectOption('relevance');
        await again.getByTestId('search-query').fill('北京');
        await again.getByTestId('search-go').click();
        await again.locator(`[data-testid="search-hit"][data-message-id="${hit.messageId}"]`).waitFor();
        await again.getByTestId('search-query').fill('!!!');
        await again.getByTestId('search-go').click();
        await again.locator('[data-testid="search-error"][data-code="BAD_REQUEST"]').waitFor();
        await again.getByTestId('dialog-close').click();
      } finally {
        await conn.close();
      }
    }));

  it('web history - jump to a date opens the room at its first message of that day; scrolling down pages to the present', () =>
    withLogs(stack, async () => {
      await openRoom(a, roomId);
      const today = await a.evaluate(() => {
        const d = new Date();
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      });
      await a.getByTestId('jump-date').fill(today);
      await a.getByTestId('jump-date-go').click();
      // Every message of the room is from today: the first one is the anchor, the beginning is shown.
      await a.getByTestId('history-start').waitFor();
      await a.getByTestId('load-newer').waitFor();
      expect(await message(a, 'filler 69').count()).toBe(0);
      await until('scrolling down reaches the newest message', async () => {
        await a.getByTestId('message-scroller').evaluate((el) => (el.scrollTop = el.scrollHeight));
        return (await message(a, 'filler 69').count()) === 1 && (await a.getByTestId('load-newer').isHidden());
      });
      // Attached again: a new message arrives live.
      const live = `回到现在 ${suffix()}`;
      await send(b, live);
      await message(a, live).waitFor();
    }));

  it('web history - a room owner deletes a member’s message (a moderator tombstone), sets the retention period and reads the statistics', () =>
    withLogs(stack, async () => {
      await openRoom(b, roomId);
      const text = `不合适的内容 ${suffix()}`;
      await send(b, text);
      // Read before the deletion: once B's page shows the tombstone the text is gone.
      const messageId = await until(
        'B has the stored message',
        async () => (await message(b, text).getAttribute('data-message-id')) || null,
      );
      const onA = message(a, text);
      await onA.hover();
      await onA.getByTestId('delete').click();
      await a.getByTestId('delete-confirm-box').getByTestId('delete-confirm').click();
      await until('B sees a moderator tombstone', async () =>
        (await byId(b, messageId).getByTestId('message-deleted').textContent())?.includes(nameA),
      );

      await a.getByTestId('show-details').click();
      await a.getByTestId('retention-days').fill('30');
      await a.getByTestId('retention-save').click();
      await a.getByTestId('retention-saved').waitFor();
      await until('A sees 30 days', async () => (await a.getByTestId('details-messages-kept').textContent()) === '30 天');
      // A plain member sees the period, without the form.
      await b.getByTestId('show-details').click();
      await until('B sees 30 days', async () => (await b.getByTestId('details-messages-kept').textContent()) === '30 天');
      expect(await b.getByTestId('retention-form').count()).toBe(0);
      expect(await b.getByTestId('open-stats').count()).toBe(0);

      await a.getByTestId('open-stats').click();
      const stats = a.getByTestId('stats-dialog');
      await stats.getByTestId('stats').waitFor();
      expect(Number(await stats.getByTestId('stats-messages').textContent())).toBeGreaterThan(70);
      expect(await stats.getByTestId('stats-active').textContent()).toBe('2');
      expect(await stats.getByTestId('stats-poster').count()).toBe(2);
      expect(await stats.locator('.hour').count()).toBe(24);
      await stats.getByTestId('dialog-close').click();
    }));
});
