import { WebSocket } from 'ws';
import { type Locator, type Page } from 'playwright-core';
import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { BrowserUsers, PASSWORD, message, openRoomId, signIn, suffix, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// Reading a long room in the web client: it opens at the first unread message (not the newest
// page) and marks read only what was on screen; days are named in the timeline and a jump to a
// day without messages says so; sending while reading the past goes back to the present and
// shows the message; a mention right against Chinese text is marked, and links are links.
// A writes through the protocol client, B reads in Debian's Chromium (playwright-core).

jest.setTimeout(240_000);
// Under CI's load (two files with their stacks and browsers on two cores) one test of this file
// has missed a UI update within its 30 s wait in a fresh-clone run while passing alone:
// retried once, with the first failure printed, so a race stays visible in the log.
jest.retryTimes(1, { logErrorsBeforeRetry: true });

const COUNT = 130;
const READ_UP_TO = 40;

const label = (i: number) => `m${String(i).padStart(3, '0')}`;

/** Whether the element shows in the message scroller now. */
const onScreen = (node: Locator) =>
  node.evaluate((n) => {
    const view = n.ownerDocument.querySelector('[data-testid="message-scroller"]')!.getBoundingClientRect();
    const r = n.getBoundingClientRect();
    return r.height > 0 && r.bottom > view.top && r.top < view.bottom;
  });

describe('web client: reading a long room (browser e2e)', () => {
  const nameA = `ann_${suffix()}`;
  const nameB = `小明${suffix()}`;
  const roomId = `read-${suffix()}`;
  const positions: number[] = [];
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let a: ChatClient | undefined;
  let b: Page;

  const unreadBadge = () => b.getByTestId(`unread-${roomId}`);

  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.urls.gateway;
    await register(base, nameA, PASSWORD);
    await register(base, nameB, PASSWORD);
    a = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
    await a.auth((await login(base, nameA, PASSWORD)).accessToken);
    const bc = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
    try {
      await bc.auth((await login(base, nameB, PASSWORD)).accessToken);
      await a.request('room.create', { roomId, name: `读 ${roomId}`, visibility: 'private' });
      await a.request('room.invite', { roomId, username: nameB });
      await bc.request('invitation.accept', { roomId });
      for (let i = 1; i <= COUNT; i++) {
        const ack = await a.request('message.send', { roomId, clientMsgId: `c${i}-${suffix()}`, body: `${label(i)} 第${i}条` });
        positions[i] = ack.position;
      }
      // B has read up to the 40th message: 90 are unread, more than one page.
      await until(
        'B marks the 40th read',
        async () => (await bc.request('read.mark', { roomId, position: positions[READ_UP_TO] })).lastRead,
      );
    } finally {
      await bc.close();
    }

    await browser.launch();
    b = await browser.newPage();
    await signIn(b, base, nameB, 'login');
  });

  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await browser.close();
    await stack?.teardown();
  });

  afterEach(() => {
    expect(browser.pageErrors).toEqual([]);
  });

  it('web reading - a room with more unread than a page opens at the first unread message and marks read only what was shown', () =>
    withLogs(stack, async () => {
      await until('B counts 90 unread', async () => (await unreadBadge().textContent()) === String(COUNT - READ_UP_TO));
      await b.getByTestId(`open-${roomId}`).click();
      await until('the room is open', async () => (await openRoomId(b)) === roomId);
      const first = b.locator('[data-testid="new-messages"] + [data-testid="message"]');
      await until('the new-messages line is above the first unread', async () =>
        (await first.getByTestId('message-body').textContent())?.startsWith(label(READ_UP_TO + 1)),
      );
      expect(await onScreen(first)).toBe(true);
      expect(await onScreen(message(b, label(READ_UP_TO)))).toBe(true);
      // A page holds messages older than the line too, and the newest are not on screen.
      expect(await message(b, label(COUNT)).count()).toBe(0);
      // Only what was on screen is read: most of the 90 stay unread, on the server too.
      await b.waitForTimeout(1500);
      const left = Number(await unreadBadge().textContent());
      expect(left).toBeGreaterThan(50);
      expect(left).toBeLessThan(COUNT - READ_UP_TO);
    }));

  it('web reading - day separators name the day; a jump to a day without messages says so', () =>
    withLogs(stack, async () => {
      const separator = b.getByTestId('day-separator').first();
      // The browser (and so the page) speaks Chinese: days are named with Intl.
      expect(await separator.textContent()).toBe('今天');
      const time = message(b, label(READ_UP_TO + 1)).locator('time');
      expect(await time.getAttribute('title')).toMatch(/20\d\d/);

      await b.getByTestId('jump-date').fill('2020-01-01');
      await b.getByTestId('jump-date-go').click();
      await until('the note says the day was empty', async () =>
        (await b.getByTestId('jump-note').textContent())?.includes('显示之后的消息'),
      );
      expect(await b.getByTestId('jump-note').textContent()).toMatch(/^2020.*没有消息/);
      await message(b, label(1)).waitFor();
      expect(await b.getByTestId('history-start').isVisible()).toBe(true);

      const tomorrow = await b.evaluate(() => {
        const d = new Date();
        d.setDate(d.getDate() + 1);
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      });
      await b.getByTestId('jump-date').fill(tomorrow);
      await b.getByTestId('jump-date-go').click();
      await until('the note says nothing is that late', async () =>
        /^.+及之后没有消息，显示最新的消息。$/.test((await b.getByTestId('jump-note').textContent()) ?? ''),
      );
      await message(b, label(COUNT)).waitFor();
    }));

  it('web reading - sending while reading the past goes back to the present and shows the message after the newest', () =>
    withLogs(stack, async () => {
      const today = await b.evaluate(() => {
        const d = new Date();
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      });
      await b.getByTestId('jump-date').fill(today);
      await b.getByTestId('jump-date-go').click();
      await b.getByTestId('history-start').waitFor();
      await b.getByTestId('load-newer').waitFor();
      expect(await message(b, label(COUNT)).count()).toBe(0);

      const text = `从过去发的 ${suffix()}`;
      await b.getByTestId('message-input').fill(text);
      await b.getByTestId('message-input').press('Enter');
      const sent = message(b, text);
      await sent.waitFor();
      await message(b, label(COUNT)).waitFor();
      await until('the sent message is on screen', () => onScreen(sent));
      await b.getByTestId('load-newer').waitFor({ state: 'hidden' });
      expect(await b.getByTestId('jump-note').isHidden()).toBe(true);
      // Right after the newest message, with nothing missing before it.
      const before = await sent.evaluate((n) => {
        const out: string[] = [];
        for (let p = n.previousElementSibling; p && out.length < 3; p = p.previousElementSibling)
          if (p.getAttribute('data-testid') === 'message')
            out.push(p.querySelector('[data-testid="message-body"]')!.textContent!.slice(0, 4));
        return out;
      });
      expect(before).toEqual([label(COUNT), label(COUNT - 1), label(COUNT - 2)]);
    }));

  it('web reading - a mention right against Chinese text is marked; links open in a new tab', () =>
    withLogs(stack, async () => {
      const tag = suffix();
      await a!.request('message.send', {
        roomId,
        clientMsgId: `m-${tag}`,
        body: `@${nameB}你好 see https://example.com/a?b=${tag}. ${tag}`,
      });
      const m = message(b, tag);
      const chip = m.getByTestId('mention');
      await chip.waitFor();
      expect(await chip.textContent()).toBe(`@${nameB}`);
      expect(await m.getAttribute('data-mentions-me')).toBe('true');
      const link = m.getByTestId('message-link');
      expect(await link.getAttribute('href')).toBe(`https://example.com/a?b=${tag}`);
      expect(await link.getAttribute('target')).toBe('_blank');
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      expect(await m.getByTestId('message-body').textContent()).toBe(`@${nameB}你好 see https://example.com/a?b=${tag}. ${tag}`);
    }));

  it('web reading - an emptied edit offers to delete; a refusal says a sentence first and focuses the field; reactions name who; a favicon', () =>
    withLogs(stack, async () => {
      // B's last message is the one sent from the past: Up edits it; emptied, Enter asks to delete it.
      await b.getByTestId('message-input').focus();
      await b.getByTestId('message-input').press('ArrowUp');
      const edit = b.getByTestId('edit-input');
      expect(Number(await edit.evaluate((n) => n.clientHeight))).toBeGreaterThan(0);
      await edit.fill('');
      await edit.press('Enter');
      await b.getByTestId('delete-confirm-box').waitFor();
      await b.getByTestId('delete-cancel').click();
      await b.getByTestId('delete-confirm-box').waitFor({ state: 'detached' });

      await b.getByTestId('open-create-room').click();
      const dialog = b.getByTestId('create-room-dialog');
      await dialog.getByTestId('new-room-name').fill('坏的 id');
      await dialog.getByTestId('new-room-advanced').click(); // the id waits under "Advanced"
      await dialog.getByTestId('new-room-id').fill('Bad Id!');
      await dialog.getByTestId('create-room').click();
      const error = dialog.locator('[data-testid="create-room-error"][data-code="BAD_REQUEST"]');
      await error.waitFor();
      // A sentence in the page's language (Chinese here); the code stays in data-code, never shown.
      expect(await error.getByTestId('error-sentence').textContent()).toBe('请检查输入的内容。');
      expect(await error.textContent()).not.toContain('BAD_REQUEST');
      await until('the id field has the focus', () =>
        dialog.getByTestId('new-room-id').evaluate((n) => n.ownerDocument.activeElement === n),
      );
      await dialog.getByTestId('dialog-close').click();

      const tag = suffix();
      const posted = await a!.request('message.send', { roomId, clientMsgId: `r-${tag}`, body: `反应 ${tag}` });
      await message(b, tag).waitFor();
      await a!.request('reaction.add', { roomId, messageId: posted.messageId, emoji: '🎉' });
      const chip = message(b, tag).locator('[data-testid="reaction"][data-emoji="🎉"]');
      await chip.waitFor();
      expect(await chip.getAttribute('title')).toMatch(new RegExp(`^${nameA}用 🎉 回应了`));

      const icon = await fetch(`${base}/favicon.ico`);
      expect(icon.status).toBe(200);
    }));
});
