import { WebSocket } from 'ws';
import { type Page } from 'playwright-core';
import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { BrowserUsers, PASSWORD, message, openRoomId, signIn, suffix, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// The room view of the web client (messages/): a draft stays in its room (the bug of issue 10:
// a half-typed message followed the user into another room and Enter posted it there),
// consecutive messages of one sender are one group with one avatar, a reaction is picked from
// the emoji picker by keyboard alone, a message link opens the room at the message, PageUp in
// the composer scrolls the list, a resized window stays at the newest message, messages that
// arrive while scrolled up are counted and announced one by one, and a message's HTML is
// sanitised even when the server's is not clean. A writes through the protocol client; B reads
// in Debian's Chromium (an English page).

jest.setTimeout(240_000);
// Under CI's load (two files with their stacks and browsers on two cores) one test of this file
// has missed a live update within its 30 s wait in fresh-clone runs while passing every run
// alone: retried once, with the first failure printed, so a race stays visible in the log.
jest.retryTimes(1, { logErrorsBeforeRetry: true });

const OLD_COUNT = 80;

/** How far the message scroller is from its bottom, and its scroll position. */
const scrollState = (page: Page) =>
  page.getByTestId('message-scroller').evaluate((n) => ({ top: n.scrollTop, fromBottom: n.scrollHeight - n.scrollTop - n.clientHeight }));

describe('web client: the room view (browser e2e)', () => {
  const nameA = `ann_${suffix()}`;
  const nameB = `bo_${suffix()}`;
  const roomX = `tlx-${suffix()}`;
  const roomY = `tly-${suffix()}`;
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let a: ChatClient | undefined;
  let b: Page;
  const oldOnes: { messageId: string; position: number; body: string }[] = [];

  const send = async (roomId: string, body: string) =>
    a!.request('message.send', { roomId, clientMsgId: `c-${suffix()}-${suffix()}`, body });

  const openRoom = async (page: Page, roomId: string) => {
    await page.getByTestId(`open-${roomId}`).click();
    await until(`${roomId} is open`, async () => (await openRoomId(page)) === roomId);
  };

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
      for (const roomId of [roomX, roomY]) {
        await a.request('room.create', { roomId, name: roomId, visibility: 'private' });
        await a.request('room.invite', { roomId, username: nameB });
        await bc.request('invitation.accept', { roomId });
      }
      for (let i = 1; i <= OLD_COUNT; i++) {
        const body = `old${String(i).padStart(3, '0')} 历史消息`;
        const ack = await send(roomY, body);
        oldOnes.push({ messageId: ack.messageId, position: ack.position, body });
      }
      await send(roomX, `hello from ${nameA}`);
      // B has read everything: rooms open at their newest message.
      for (const roomId of [roomX, roomY]) {
        const page = await bc.request('history.page', { roomId, limit: 1 });
        await bc.request('read.mark', { roomId, position: page.messages[0].position });
      }
    } finally {
      await bc.close();
    }
    await browser.launch();
    b = await browser.newPageIn('en-US');
    await b.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
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

  it('web timeline - a draft stays in its room: Enter in another room posts nothing there, and the draft is back on return (and after a reload)', () =>
    withLogs(stack, async () => {
      await openRoom(b, roomX);
      const input = b.getByTestId('message-input');
      const draft = `draft for X ${suffix()}`;
      await input.fill(draft);
      await openRoom(b, roomY);
      expect(await input.inputValue()).toBe('');
      await input.focus();
      await input.press('Enter');
      await b.waitForTimeout(1000);
      expect(await b.getByTestId('pending-message').count()).toBe(0);
      const newest = await a!.request('history.page', { roomId: roomY, limit: 5 });
      expect(newest.messages.some((m) => m.body.includes(draft))).toBe(false);
      expect(await message(b, draft).count()).toBe(0);

      await openRoom(b, roomX);
      expect(await input.inputValue()).toBe(draft);
      await b.reload();
      await b.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });
      await until('the room is open again', async () => (await openRoomId(b)) === roomX);
      await until('the draft survived the reload', async () => (await input.inputValue()) === draft);
      // Sent, it is no draft any more.
      await input.press('Enter');
      await message(b, draft).waitFor();
      await openRoom(b, roomY);
      await openRoom(b, roomX);
      expect(await input.inputValue()).toBe('');
    }));

  it('web timeline - two quick messages of one sender are one group: one avatar and one name', () =>
    withLogs(stack, async () => {
      const tag = suffix();
      await send(roomX, `first ${tag}`);
      await send(roomX, `second ${tag}`);
      const first = message(b, `first ${tag}`);
      const second = message(b, `second ${tag}`);
      await second.waitFor();
      expect(await first.getAttribute('class')).not.toContain('continued');
      expect(await second.getAttribute('class')).toContain('continued');
      expect(await first.locator('.avatar').isVisible()).toBe(true);
      expect(await second.locator('.avatar').isVisible()).toBe(false);
      expect(await second.getByTestId('message-sender').isVisible()).toBe(false);
      expect(await first.locator('.avatar').textContent()).toBe(nameA[0].toUpperCase());
    }));

  it('web timeline - a reaction picked with the keyboard from the emoji picker; Escape closes it and gives the focus back', () =>
    withLogs(stack, async () => {
      const tag = suffix();
      await send(roomX, `react to me ${tag}`);
      const target = message(b, `react to me ${tag}`);
      await target.waitFor();
      const react = target.getByTestId('react');
      await react.focus();
      await b.keyboard.press('Enter');
      const picker = b.getByTestId('emoji-picker');
      await picker.waitFor();
      expect(await picker.getAttribute('role')).toBe('dialog');
      expect(await picker.getAttribute('aria-label')).toBe('Pick a reaction');
      // The frequently-used row starts with 👍 ❤️ …: one step right is ❤️.
      await until('the first emoji has the focus', () =>
        picker
          .locator('.picker-emoji')
          .first()
          .evaluate((n) => n === document.activeElement),
      );
      await b.keyboard.press('ArrowRight');
      await b.keyboard.press('ArrowDown');
      await b.keyboard.press('ArrowUp');
      expect(await b.evaluate(() => document.activeElement?.getAttribute('data-emoji'))).toBe('❤️');
      await b.keyboard.press('Enter');
      const chip = target.locator('[data-testid="reaction"][data-emoji="❤️"]');
      await until('my ❤️ is shown', async () => (await chip.getAttribute('aria-pressed')) === 'true');
      expect(await picker.count()).toBe(0);
      const stored = await until('the server has it', async () => {
        const page = await a!.request('history.page', { roomId: roomX, limit: 5 });
        return page.messages.find((m) => m.body.includes(tag))?.reactions.find((r) => r.emoji === '❤️');
      });
      expect(stored.count).toBe(1);

      await react.focus();
      await b.keyboard.press('Enter');
      await picker.waitFor();
      await b.keyboard.press('Escape');
      await until('the picker is closed', async () => (await picker.count()) === 0);
      expect(await react.evaluate((n) => n === document.activeElement)).toBe(true);
      // Used once, ❤️ now leads the frequently-used row.
      await b.keyboard.press('Enter');
      expect(await picker.getByTestId('picker-frequent').first().getAttribute('data-emoji')).toBe('❤️');
      await b.keyboard.press('Escape');
    }));

  it('web timeline - "Copy link" gives a link that opens the room at the message, highlighted, in context', () =>
    withLogs(stack, async () => {
      await openRoom(b, roomY);
      const newest = message(b, oldOnes[OLD_COUNT - 1].body);
      await newest.waitFor();
      await newest.hover();
      await newest.getByTestId('copy-link').click();
      const copied = await b.evaluate(() => navigator.clipboard.readText());
      const last = oldOnes[OLD_COUNT - 1];
      expect(copied).toBe(`${base}/#/room/${roomY}/message/${last.messageId}?p=${last.position}`);

      // A link to an old message (not loaded: the room opened at its newest page).
      const old = oldOnes[4];
      expect(await message(b, old.body).count()).toBe(0);
      // The page opened anew with the link (another tab, a bookmark): same tab here, so its session is kept.
      await openRoom(b, roomX);
      await b.goto('about:blank');
      await b.goto(`${base}/#/room/${roomY}/message/${old.messageId}?p=${old.position}`);
      await b.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });
      await until('the room of the link is open', async () => (await openRoomId(b)) === roomY);
      const shown = b.locator(`[data-testid="message"][data-message-id="${old.messageId}"]`);
      await until('the message is highlighted', async () => (await shown.getAttribute('data-highlighted')) === 'true');
      const box = await shown.boundingBox();
      const view = await b.getByTestId('message-scroller').boundingBox();
      expect(box && view && box.y >= view.y && box.y + box.height <= view.y + view.height).toBe(true);
      // In context: the messages around it are there too, and the hash is used up.
      expect(await message(b, oldOnes[3].body).count()).toBe(1);
      expect(await message(b, oldOnes[5].body).count()).toBe(1);
      expect(await b.evaluate(() => location.hash)).toBe('');
      await b.getByTestId('jump-present').click();
      await message(b, last.body).waitFor();
    }));

  it('web timeline - PageUp/PageDown scroll the list from the composer and from the focused list; a resized window stays at the newest message', () =>
    withLogs(stack, async () => {
      await until('at the bottom', async () => (await scrollState(b)).fromBottom < 5);
      const list = b.getByTestId('message-list');
      expect(await list.getAttribute('aria-live')).toBeNull();
      expect(await list.getAttribute('tabindex')).toBe('0');
      expect(await list.getAttribute('aria-label')).toBe('Messages');

      await b.getByTestId('message-input').focus();
      const before = await scrollState(b);
      await b.keyboard.press('PageUp');
      await until('PageUp scrolled up', async () => (await scrollState(b)).top < before.top - 100);
      const up = await scrollState(b);
      await list.focus();
      await b.keyboard.press('PageDown');
      await until('PageDown scrolled down', async () => (await scrollState(b)).top > up.top + 100);
      await b.keyboard.press('End');
      await until('End is the bottom', async () => (await scrollState(b)).fromBottom < 5);

      await b.setViewportSize({ width: 900, height: 520 });
      await b.waitForTimeout(300);
      expect((await scrollState(b)).fromBottom).toBeLessThan(5);
      await b.setViewportSize({ width: 1280, height: 800 });
      await b.waitForTimeout(300);
      expect((await scrollState(b)).fromBottom).toBeLessThan(5);
    }));

  it('web timeline - messages arriving while scrolled up are counted on the jump button and announced one by one, never a loaded page', () =>
    withLogs(stack, async () => {
      const announcer = b.getByTestId('message-announcer');
      expect(await announcer.getAttribute('aria-live')).toBe('polite');
      await b.getByTestId('message-scroller').evaluate((n) => (n.scrollTop = n.scrollHeight - n.clientHeight - 1200));
      await b.waitForTimeout(300);
      const tag = suffix();
      await send(roomY, `while away one ${tag}`);
      await send(roomY, `while away two ${tag}`);
      const jump = b.getByTestId('jump-present');
      await until('the button counts two', async () => (await jump.getAttribute('data-unseen')) === '2');
      expect((await jump.textContent())?.trim()).toBe('2 new messages ↓');
      expect(await announcer.textContent()).toBe(`${nameA}: while away two ${tag}`);
      await jump.click();
      await until('back at the bottom', async () => (await scrollState(b)).fromBottom < 5);
      await until('the count is gone', async () => (await jump.isHidden()) || (await jump.getAttribute('data-unseen')) === '0');

      // Scrolling back loads older pages; the announcer still says only the last live message.
      await b.getByTestId('message-scroller').evaluate((n) => (n.scrollTop = 0));
      await until('an older page is loaded', async () => (await message(b, oldOnes[20].body).count()) === 1);
      expect(await announcer.textContent()).toBe(`${nameA}: while away two ${tag}`);
    }));

  it('web timeline - a room of 700 messages scrolled back to its beginning keeps at most 600 in the page, each page in place to the pixel, and reads the dropped ones again going down', () =>
    withLogs(stack, async () => {
      const roomZ = `tlz-${suffix()}`;
      const TOTAL = 700;
      await a!.request('room.create', { roomId: roomZ, name: roomZ, visibility: 'public' });
      for (let from = 1; from <= TOTAL; from += 100)
        await Promise.all(Array.from({ length: 100 }, (_, i) => send(roomZ, `long${String(from + i).padStart(4, '0')}`)));
      await until(
        'history has them all',
        async () => {
          const page = await a!.request('history.page', { roomId: roomZ, limit: 1 });
          return page.messages[0]?.body === `long${String(TOTAL).padStart(4, '0')}`;
        },
        150_000,
      );
      const bc = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
      try {
        await bc.auth((await login(base, nameB, PASSWORD)).accessToken);
        await bc.request('room.join', { roomId: roomZ });
      } finally {
        await bc.close();
      }
      await b.getByTestId(`open-${roomZ}`).waitFor();
      await openRoom(b, roomZ);
      await message(b, `long${String(TOTAL).padStart(4, '0')}`).waitFor();

      const count = () => b.getByTestId('message-list').getByTestId('message').count();
      let most = 0;
      for (let i = 0; i < 20 && (await b.getByTestId('history-start').isHidden()); i++) {
        // Scrolled to the top: the first message's place in the view, before the older page comes.
        const before = await b.getByTestId('message-scroller').evaluate((n) => {
          n.scrollTop = 0;
          const first = n.querySelector<HTMLElement>('[data-testid="message"]')!;
          // Its text (the message may lose its name line when it joins the group of an older one).
          return { id: first.dataset.messageId!, y: first.querySelector('[data-testid="message-body"]')!.getBoundingClientRect().top };
        });
        await until(
          'an older page',
          async () =>
            (await b.getByTestId('history-start').isVisible()) ||
            (await b.locator('[data-testid="message"]').first().getAttribute('data-message-id')) !== before.id,
        );
        await b.waitForTimeout(100);
        const y = await b
          .locator(`[data-message-id="${before.id}"] [data-testid="message-body"]`)
          .evaluate((n) => n.getBoundingClientRect().top);
        expect(Math.abs(y - before.y)).toBeLessThan(1);
        most = Math.max(most, await count());
      }
      await message(b, 'long0001').waitFor();
      expect(most).toBeLessThanOrEqual(600);
      expect(await count()).toBeLessThanOrEqual(600);
      expect(await message(b, `long${String(TOTAL).padStart(4, '0')}`).count()).toBe(0);
      expect(await b.getByTestId('load-newer').isVisible()).toBe(true);

      // Down again: the dropped newest ones are read again, the oldest dropped, up to the present.
      for (let i = 0; i < 30 && (await message(b, `long${String(TOTAL).padStart(4, '0')}`).count()) === 0; i++) {
        await b.getByTestId('message-scroller').evaluate((n) => (n.scrollTop = n.scrollHeight));
        await b.waitForTimeout(250);
      }
      await message(b, `long${String(TOTAL).padStart(4, '0')}`).waitFor();
      expect(await count()).toBeLessThanOrEqual(600);
      expect(await message(b, 'long0001').count()).toBe(0);
    }));

  it('web timeline - a message whose HTML is not clean is sanitised: no script, no image, no javascript: link, links opened apart', () =>
    withLogs(stack, async () => {
      const marker = `xss-${suffix()}`;
      const crafted =
        `<p>${marker} <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>` +
        `<a href="javascript:window.__xss=3">bad</a> <a href="https://example.com/" target="_self" onclick="window.__xss=4">ok</a> ` +
        `<span class="mention evil" style="color:red" data-user-id="u1" data-x="1">@x</span><iframe src="https://example.com/"></iframe></p><ol start="3"><li>three</li></ol>`;
      // A second device of B whose socket frames are rewritten: every copy of the marked message carries the crafted HTML.
      const c = await browser.newPageIn('en-US');
      await c.routeWebSocket('**', (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => server.send(m));
        server.onMessage((m) => {
          if (typeof m !== 'string' || !m.includes(marker)) return ws.send(m);
          const walk = (v: unknown): void => {
            if (!v || typeof v !== 'object') return;
            const o = v as Record<string, unknown>;
            if (typeof o.body === 'string' && o.body.includes(marker) && 'html' in o) o.html = crafted;
            for (const x of Object.values(o)) walk(x);
          };
          const frame = JSON.parse(m) as unknown;
          walk(frame);
          ws.send(JSON.stringify(frame));
        });
      });
      await signIn(c, base, nameB, 'login');
      await openRoom(c, roomY);
      await send(roomY, `${marker} says hi`);
      const body = message(c, marker).getByTestId('message-body');
      await body.waitFor();
      await until('the crafted html is drawn', async () => (await body.locator('a').count()) === 2);
      expect(await body.locator('img, script, iframe').count()).toBe(0);
      const links = await body.locator('a').evaluateAll((as) =>
        as.map((x) => ({
          href: x.getAttribute('href'),
          rel: x.getAttribute('rel'),
          target: x.getAttribute('target'),
          onclick: x.getAttribute('onclick'),
        })),
      );
      expect(links[0].href).toBeNull();
      expect(links[1]).toEqual({ href: 'https://example.com/', rel: 'noopener noreferrer nofollow', target: '_blank', onclick: null });
      const span = body.locator('span.mention');
      expect(await span.getAttribute('class')).toBe('mention');
      expect(await span.getAttribute('style')).toBeNull();
      expect(await span.getAttribute('data-x')).toBeNull();
      expect(await span.getAttribute('data-user-id')).toBe('u1');
      expect(await body.locator('ol').getAttribute('start')).toBe('3');
      await c.waitForTimeout(300);
      expect(await c.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      await c.close();
    }));
});
