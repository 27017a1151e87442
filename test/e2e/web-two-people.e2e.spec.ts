import fs from 'node:fs';
import path from 'node:path';
import { type Locator, type Page } from 'playwright-core';
import { BrowserUsers, message, openRoomId, signIn, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// Issue 10's scenario, end to end: two people, each in a browser of their own (Debian's
// Chromium driven by playwright-core) against the whole stack started from the built services.
// Alice's browser speaks English (en-US), 李雷's Chinese (zh-CN): each page follows its
// browser's language. They register, Alice creates a public room, 李雷 finds it in the
// directory and joins, they chat in Chinese and emoji, 李雷 writes Alice privately, Alice edits,
// 李雷 reacts, Alice replies with a quote, 李雷 mentions @alice by completion, Alice finds a
// Chinese word by search and opens it in context, each sees the other's presence and typing,
// Alice reloads and stays logged in, and the gateway restarts under them: afterwards both lists
// hold every message once; 李雷 then goes on from a 390×844 phone view. The steps run in order
// and share the two pages; each page's own words are checked in its language.
// The test saves a desktop (Alice) and a phone (李雷) screenshot under test/e2e/screenshots/.

jest.setTimeout(300_000);

const SHOTS = path.join(__dirname, 'screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const ALICE = 'alice';
const LILEI = '李雷';
const ROOM = 'weekend-hike';
const ROOM_NAME = '周末爬山 Weekend hike';

const online = (page: Page) =>
  page.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached', timeout: 60_000 });

/** The people column's row of `name` on `page` (online or offline list). */
const person = (page: Page, name: string): Locator =>
  page.locator('[data-testid="online-user"], [data-testid="offline-user"]').filter({ has: page.getByText(name, { exact: true }) });

/**
 * The texts of the messages in the open room's list, in order, without the "(edited)" mark that
 * sits in an edited message's body (pending messages are in a list of their own).
 */
const bodies = (page: Page) =>
  page
    .getByTestId('message-list')
    .getByTestId('message-body')
    .evaluateAll((els) =>
      els.map((e) => {
        const copy = e.cloneNode(true) as typeof e;
        for (const mark of copy.querySelectorAll('[data-testid="message-edited"]')) mark.remove();
        return (copy.textContent ?? '').trim();
      }),
    );

async function openRoom(page: Page, id: string) {
  await page.getByTestId(`open-${id}`).click();
  await until(`${id} is open`, async () => (await openRoomId(page)) === id);
}

/** Sends `text` from the composer and waits for the server's copy (it has an id) in the sender's list. */
async function send(page: Page, text: string) {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('message-input').press('Enter');
  await until(
    `"${text}" is stored`,
    async () =>
      (await message(page, text)
        .getAttribute('data-message-id', { timeout: 1000 })
        .catch(() => null)) ?? null,
  );
}

/** Hovers the message (its actions show on hover) and clicks one of them. */
async function act(page: Page, text: string, action: 'edit' | 'reply' | 'react') {
  const m = message(page, text);
  await m.hover();
  await m.getByTestId(action).click();
}

/** The offer of desktop notifications covers the timeline's top: declined, as a person would. */
async function dismissNotifyHint(page: Page) {
  const hint = page.getByTestId('notify-hint');
  if (await hint.isVisible()) {
    await hint.getByTestId('notify-hint-dismiss').click();
    await hint.waitFor({ state: 'detached' });
  }
}

async function screenshot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

describe('web client: two people, English and Chinese, the whole of issue 10 (browser e2e)', () => {
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let a: Page; // Alice, English
  let b: Page; // 李雷, Chinese
  /** Every message of the public room, as it should read now, in order. */
  const room: string[] = [];

  async function say(page: Page, text: string) {
    await send(page, text);
    room.push(text);
  }

  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.urls.gateway;
    await browser.launch();
    a = await browser.newPageIn('en-US', DESKTOP);
    b = await browser.newPageIn('zh-CN', DESKTOP);
  });

  afterAll(async () => {
    await browser.close();
    await stack?.teardown();
  });

  afterEach(() => {
    expect(browser.pageErrors).toEqual([]);
  });

  it('both register; each page speaks its browser language', () =>
    withLogs(stack, async () => {
      await signIn(a, base, ALICE, 'register');
      await signIn(b, base, LILEI, 'register');
      expect(await a.locator('html').getAttribute('lang')).toBe('en');
      expect(await b.locator('html').getAttribute('lang')).toBe('zh-CN');
      expect(await a.getByTestId('me').textContent()).toBe(ALICE);
      expect(await b.getByTestId('me').textContent()).toBe(LILEI);
      expect((await a.getByTestId('logout').textContent())?.trim()).toBe('Log out');
      expect((await b.getByTestId('logout').textContent())?.trim()).toBe('退出登录');
      for (const page of [a, b]) await dismissNotifyHint(page);
    }));

  it('Alice creates a public room; 李雷 finds it in the directory by a Chinese word and joins', () =>
    withLogs(stack, async () => {
      await a.getByTestId('open-create-room').click();
      const create = a.getByTestId('create-room-dialog');
      await create.getByTestId('new-room-name').fill(ROOM_NAME);
      await create.getByTestId('new-room-advanced').click(); // the id waits under "Advanced"
      await create.getByTestId('new-room-id').fill(ROOM);
      await create.getByTestId('new-room-visibility').selectOption('public');
      await create.getByTestId('create-room').click();
      await create.waitFor({ state: 'detached' });
      await until('Alice has the new room open', async () => (await openRoomId(a)) === ROOM);

      await b.getByTestId('open-directory').click();
      const directory = b.getByTestId('directory-dialog');
      // A dialog's close button is labelled in the page's language.
      expect(await directory.getByTestId('dialog-close').getAttribute('aria-label')).toBe('关闭');
      await directory.getByTestId('directory-query').fill('爬山');
      const item = directory.getByTestId(`directory-room-${ROOM}`);
      await item.waitFor();
      expect(await item.getByTestId('directory-room-name').textContent()).toContain(ROOM_NAME);
      await item.getByTestId(`directory-join-${ROOM}`).click();
      // The dialog closes once joined; a refusal stays in it (said, so that a failure names it).
      await until('the join is done', async () => {
        const refused = directory.getByTestId('directory-join-error');
        if (await refused.isVisible()) throw new Error(`join refused: ${await refused.textContent()}`);
        return (await directory.count()) === 0 || !(await directory.isVisible());
      });
      await b.locator(`[data-testid="room-${ROOM}"][data-member="true"]`).waitFor();
      await until('李雷 has the room open', async () => (await openRoomId(b)) === ROOM);
      await until('the composer is enabled', () => b.getByTestId('message-input').isEnabled());
      expect(await a.getByTestId('message-input').getAttribute('placeholder')).toBe('Write a message…');
      expect(await b.getByTestId('message-input').getAttribute('placeholder')).toBe('输入消息…');
      expect(await a.getByTestId('send').textContent()).toBe('Send');
      expect(await b.getByTestId('send').textContent()).toBe('发送');
      await until('Alice reads "2 members"', async () => (await a.getByTestId('room-meta').textContent())?.includes('2 members'));
      await until('李雷 reads "2 位成员"', async () => (await b.getByTestId('room-meta').textContent())?.includes('2 位成员'));
    }));

  it('they chat in Chinese and emoji, live both ways', () =>
    withLogs(stack, async () => {
      await b.locator('[data-testid="message-list"][data-state="ready"]').waitFor({ state: 'attached' });
      const lines: [Page, string][] = [
        [a, 'Hi 李雷! Hiking on Saturday? 🥾⛰️'],
        [b, '你好，世界！周六天气很好 ☀️'],
        [a, 'Great, let’s meet at 8 🙂'],
        [b, '好的，八点在山脚下见 👍'],
      ];
      for (const [page, text] of lines) {
        await say(page, text);
        await message(page === a ? b : a, text).waitFor();
      }
      expect(await message(a, '你好，世界').getByTestId('message-body').textContent()).toBe('你好，世界！周六天气很好 ☀️');
    }));

  it('李雷 writes Alice privately; Alice gets the conversation live', () =>
    withLogs(stack, async () => {
      const text = '私信：别忘了带水 💧';
      await b.getByTestId('open-new-dm').click();
      const dialog = b.getByTestId('new-dm-dialog');
      await dialog.getByTestId('dm-username').fill(ALICE);
      await dialog.getByTestId('dm-body').fill(text);
      await dialog.getByTestId('dm-send').click();
      await dialog.waitFor({ state: 'detached' });
      await until('李雷 has the conversation open', async () => (await b.getByTestId('room-view').getAttribute('data-kind')) === 'direct');
      await message(b, text).waitFor();

      const entry = a.getByTestId(`conversation-${LILEI}`);
      await until('Alice’s conversation list previews it', async () =>
        (await entry.getByTestId('conversation-preview').textContent())?.includes(text),
      );
      await entry.getByTestId('open-conversation').click();
      await message(a, text).waitFor();
      expect(await openRoomId(a)).toBe(await openRoomId(b));
      await openRoom(a, ROOM);
      await openRoom(b, ROOM);
    }));

  it('Alice edits a message; 李雷 reacts to it; Alice replies to 李雷 with a quote', () =>
    withLogs(stack, async () => {
      const before = 'Great, let’s meet at 8 🙂';
      const after = 'Great, let’s meet at 8:30 at the gate 🙂';
      await act(a, before, 'edit');
      await a.getByTestId('edit-input').fill(after);
      await a.getByTestId('edit-input').press('Enter');
      room[room.indexOf(before)] = after;
      await message(b, after).getByTestId('message-edited').waitFor();
      expect(await message(b, after).getByTestId('message-edited').getAttribute('title')).toMatch(/^编辑于 /);
      expect(await message(a, after).getByTestId('message-edited').getAttribute('title')).toMatch(/^edited /);
      expect(await message(b, before).count()).toBe(0);

      await act(b, after, 'react');
      await b.getByTestId('emoji-picker').getByTestId('picker-emoji').filter({ hasText: '👍' }).click();
      const chip = message(a, after).locator('[data-testid="reaction"][data-emoji="👍"]');
      await chip.waitFor();
      expect(await chip.getByTestId('reaction-count').textContent()).toBe('1');

      const original = '好的，八点在山脚下见 👍';
      await act(a, original, 'reply');
      await a.getByTestId('reply-bar').waitFor();
      const answer = 'See you there!';
      await say(a, answer);
      await a.getByTestId('reply-bar').waitFor({ state: 'hidden' });
      const onB = message(b, answer);
      await until('李雷 sees the quote', async () => (await onB.getByTestId('reply-quote-text').textContent())?.includes(original));
      expect(await onB.getByTestId('reply-quote').textContent()).toContain(LILEI);
    }));

  it('李雷 mentions @alice by completion; Alice sees the mention', () =>
    withLogs(stack, async () => {
      await b.getByTestId('message-input').fill('@ali');
      await b.getByTestId('mention-option').filter({ hasText: ALICE }).waitFor();
      await b.getByTestId('message-input').press('Enter');
      expect(await b.getByTestId('message-input').inputValue()).toBe(`@${ALICE} `);
      const text = `@${ALICE} 记得带相机 📷`;
      await b.getByTestId('message-input').pressSequentially('记得带相机 📷');
      await b.getByTestId('message-input').press('Enter');
      await until(
        'stored',
        async () =>
          (await message(b, text)
            .getAttribute('data-message-id', { timeout: 1000 })
            .catch(() => null)) ?? null,
      );
      room.push(text);

      const onA = message(a, text);
      await until('the mention is Alice’s', async () => (await onA.getAttribute('data-mentions-me')) === 'true');
      expect(await onA.getByTestId('mention').textContent()).toBe(`@${ALICE}`);
    }));

  it('Alice searches a Chinese word and opens the hit in context', () =>
    withLogs(stack, async () => {
      const target = message(a, '你好，世界');
      const messageId = (await target.getAttribute('data-message-id'))!;
      // From the private conversation: opening the hit switches to the room.
      await a.getByTestId(`conversation-${LILEI}`).getByTestId('open-conversation').click();
      await until('Alice is in the conversation', async () => (await openRoomId(a)) !== ROOM);

      await a.getByTestId('open-search').click();
      const dialog = a.getByTestId('search-dialog');
      await dialog.getByTestId('search-query').fill('天气');
      await dialog.getByTestId('search-go').click();
      const hit = dialog.locator(`[data-testid="search-hit"][data-message-id="${messageId}"]`);
      await hit.waitFor();
      expect(await hit.getByTestId('search-mark').first().textContent()).toBe('天气');
      await hit.getByTestId('search-open').click();
      await dialog.waitFor({ state: 'detached' });
      await until('Alice has the room open', async () => (await openRoomId(a)) === ROOM);
      await until('the hit is highlighted', async () => (await message(a, '你好，世界').getAttribute('data-highlighted')) === 'true');
    }));

  it('each sees the other online, then away when they set it, and typing', () =>
    withLogs(stack, async () => {
      await until('Alice sees 李雷 online', async () => (await person(a, LILEI).getAttribute('data-status')) === 'online');
      await until('李雷 sees Alice online', async () => (await person(b, ALICE).getAttribute('data-status')) === 'online');
      await b.getByTestId('status-select').selectOption('away');
      await until('Alice sees 李雷 away', async () => (await person(a, LILEI).getAttribute('data-status')) === 'away');
      await a.getByTestId('status-select').selectOption('away');
      await until('李雷 sees Alice away', async () => (await person(b, ALICE).getAttribute('data-status')) === 'away');
      await a.getByTestId('status-select').selectOption('online');
      await b.getByTestId('status-select').selectOption('online');
      await until('Alice sees 李雷 online again', async () => (await person(a, LILEI).getAttribute('data-status')) === 'online');
      await until('李雷 sees Alice online again', async () => (await person(b, ALICE).getAttribute('data-status')) === 'online');

      // Typing shows under the other's timeline and goes when the text is sent.
      // Each in the reader's language.
      for (const [typist, reader, typing, text] of [
        [b, a, `${LILEI} is typing…`, '我正在输入一条消息'],
        [a, b, `${ALICE} 正在输入…`, 'typing something'],
      ] as const) {
        const indicator = reader.getByTestId('typing-indicator');
        await typist.getByTestId('message-input').click();
        await typist.getByTestId('message-input').pressSequentially(text, { delay: 30 });
        await until(`"${typing}" is shown`, async () => (await indicator.textContent()) === typing);
        expect(await typist.getByTestId('typing-indicator').textContent()).toBe('');
        await typist.getByTestId('message-input').press('Enter');
        room.push(text);
        await message(reader, text).waitFor();
        await until('the indicator goes', async () => (await indicator.textContent()) === '');
      }
    }));

  it('Alice reloads and stays logged in, in the room', () =>
    withLogs(stack, async () => {
      await a.reload();
      await a.getByTestId('chat-view').waitFor({ state: 'visible' });
      await online(a);
      expect(await a.getByTestId('auth-view').isHidden()).toBe(true);
      expect(await a.getByTestId('me').textContent()).toBe(ALICE);
      await until('the room is open again', async () => (await openRoomId(a)) === ROOM);
      await message(a, '你好，世界').waitFor();
    }));

  it('the gateway restarts: both keep chatting, no message lost or doubled', () =>
    withLogs(stack, async () => {
      await stack!.stop('gateway');
      await b.getByTestId('conn-banner').waitFor({ state: 'visible' });
      // Written while the gateway is down: kept in the outbox and sent once it is back.
      const queued = '断线时写的：我们走哪条路？';
      await b.getByTestId('message-input').fill(queued);
      await b.getByTestId('message-input').press('Enter');
      room.push(queued);
      await stack!.start('gateway');
      for (const page of [a, b]) await online(page);
      await message(a, queued).waitFor();
      await say(a, 'Back online 🎉 the north trail');
      await say(b, '好的，北边那条 🌲');
      await message(b, 'Back online 🎉').waitFor();
      await message(a, '北边那条').waitFor();

      for (const [who, page] of [
        ['Alice', a],
        ['李雷', b],
      ] as const) {
        await until(`${who} has nothing pending`, async () => (await page.getByTestId('pending-message').count()) === 0);
        await until(`${who}'s list holds every message once, in order`, async () => {
          const shown = await bodies(page);
          return shown.length === room.length && shown.every((s, i) => s === room[i]);
        }).catch(async (err: Error) => {
          throw new Error(`${err.message}\nshown: ${JSON.stringify(await bodies(page))}\nexpected: ${JSON.stringify(room)}`);
        });
      }
    }));

  it('李雷 goes on with a phone: the same tab at 390×844, reloaded, still writes to Alice', () =>
    withLogs(stack, async () => {
      await b.setViewportSize(PHONE);
      await b.reload();
      await online(b);
      await until('李雷 still has the room open', async () => (await openRoomId(b)) === ROOM);
      await message(b, '北边那条').waitFor();
      const text = '我在手机上 📱 山顶见！';
      await say(b, text);
      await message(a, text).waitFor();
    }));

  it('screenshots: Alice on a desktop (English), 李雷 on a phone (Chinese)', () =>
    withLogs(stack, async () => {
      for (const page of [a, b]) {
        await dismissNotifyHint(page);
        await page.mouse.move(0, 0);
        // Drawers slide and highlights fade (CSS transitions): the pictures wait for them to rest.
        await until(
          'nothing moves',
          async () => (await page.locator('body').evaluate((n) => n.ownerDocument.getAnimations().length)) === 0,
        );
      }
      await screenshot(a, 'desktop');
      await screenshot(b, 'phone');
      expect(fs.statSync(path.join(SHOTS, 'desktop.png')).size).toBeGreaterThan(10_000);
      expect(fs.statSync(path.join(SHOTS, 'phone.png')).size).toBeGreaterThan(10_000);
    }));
});
