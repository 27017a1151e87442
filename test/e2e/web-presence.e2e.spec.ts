import { type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { BrowserUsers, PASSWORD, message, openRoomId, shot, suffix, until, withLogs } from './browser-users';
import { freePort, startTestStack, type TestStack } from './fixture';

// Statuses, typing and reconnecting in the web client, in Debian's Chromium: a status with a
// Chinese custom text reaches a co-member (people column, member list) and the user's other
// tab (presence.mine); "appear offline" shows offline with last seen to others; typing shows
// "… is typing…" under the other's timeline and goes away; after the gateway drops the socket
// the page shows a reconnecting banner and, back, the messages missed meanwhile, once each.
// SHOTS_DIR=<dir> saves screenshots of the new UI there.

jest.setTimeout(300_000);

const online = (page: Page) => page.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });

/** The people column's row of `name` on `page` (online or offline list). */
const person = (page: Page, name: string) =>
  page.locator('[data-testid="online-user"], [data-testid="offline-user"]').filter({ has: page.getByText(name, { exact: true }) });

/** Logs in through the form (remembered, so that a second tab shares the session). */
async function logIn(page: Page, base: string, name: string) {
  await page.goto(base);
  await page.getByTestId('username').fill(name);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('remember-me').check();
  await page.getByTestId('login').click();
  await page.getByTestId('chat-view').waitFor({ state: 'visible' });
  await online(page);
}

/** Runs `fn` with a socket client at `base` for each of `names`, logged in (in that order); the clients are closed after. */
async function withClients(base: string, names: string[], fn: (clients: ChatClient[]) => Promise<void>) {
  const clients: ChatClient[] = [];
  for (let i = 0; i < names.length; i++) clients.push(await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false }));
  try {
    for (let i = 0; i < names.length; i++) await clients[i].auth((await login(base, names[i], PASSWORD)).accessToken);
    await fn(clients);
  } finally {
    for (const c of clients) await c.close();
  }
}

/** A private room `roomId` called `name`, created by `owner`, to which `guest` (`guestName`) is invited and which they join. */
async function privateRoom(owner: ChatClient, guest: ChatClient, guestName: string, roomId: string, name: string) {
  await owner.request('room.create', { roomId, name, visibility: 'private' });
  await owner.request('room.invite', { roomId, username: guestName });
  await guest.request('invitation.accept', { roomId });
}

describe('web client: presence, typing, reconnect (browser e2e)', () => {
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  const roomId = `pres-${suffix()}`;
  const nameA = `alice_${suffix()}`;
  const nameB = `小明${suffix()}`;
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.urls.gateway;
    await register(base, nameA, PASSWORD);
    await register(base, nameB, PASSWORD);
    await withClients(base, [nameA, nameB], async ([owner, guest]) => {
      await privateRoom(owner, guest, nameB, roomId, `状态 ${roomId}`);
      // A private conversation too: the conversation list shows the peer's status.
      await owner.request('dm.send', { username: nameB, clientMsgId: `dm-${suffix()}`, body: '你好' });
    });
    await browser.launch();
    a = await browser.newPage();
    b = await browser.newPage();
    await logIn(a, base, nameA);
    await logIn(b, base, nameB);
    for (const page of [a, b]) {
      await page.getByTestId(`open-${roomId}`).click();
      await until('the room is open', async () => (await openRoomId(page)) === roomId);
    }
  });

  afterAll(async () => {
    await browser.close();
    await stack?.teardown();
  });

  afterEach(() => {
    expect(browser.pageErrors).toEqual([]);
  });

  it('web presence - a status with Chinese custom text reaches a co-member and my other tab', () =>
    withLogs(stack, async () => {
      await until('A sees B online', async () => (await person(a, nameB).getAttribute('data-status')) === 'online');
      const text = `在开会 🍵 ${suffix()}`;
      await b.getByTestId('status-text-button').click();
      await b.getByTestId('status-dialog').waitFor();
      await b.getByTestId('status-dialog-select').selectOption('busy');
      await b.getByTestId('status-text-input').fill(text);
      await shot(b, 'status-dialog');
      await b.getByTestId('status-save').click();
      await b.getByTestId('status-dialog').waitFor({ state: 'detached' });

      await until('A sees B busy with the text', async () => (await person(a, nameB).getAttribute('data-status')) === 'busy');
      await until('with the text', async () => (await person(a, nameB).getByTestId('status-text').textContent()) === text);
      // So does the conversation list (the peer of A's conversation with B).
      const conversation = a.getByTestId(`conversation-${nameB}`);
      await until(
        'the conversation list shows the status',
        async () => (await conversation.getByTestId('status-text').textContent()) === text,
      );
      expect(await conversation.getByTestId('conversation-status').getAttribute('data-status')).toBe('busy');
      // The member list of the room shows it too.
      await a.getByTestId('show-members').click();
      const row = a.getByTestId(`member-${nameB}`);
      await until('the member list shows the status', async () => (await row.getByTestId('status-text').textContent()) === text);
      await shot(a, 'presence-people-and-members');

      // B's other tab (same remembered session) shows B's own choice, kept in step by presence.mine.
      const tab = await b.context().newPage();
      await tab.goto(base);
      await online(tab);
      await until('the other tab shows busy', async () => (await tab.getByTestId('status-select').inputValue()) === 'busy');
      expect(await tab.getByTestId('status-text-button').textContent()).toContain(text);
      await b.getByTestId('status-select').selectOption('away');
      await until('the other tab follows to away', async () => (await tab.getByTestId('status-select').inputValue()) === 'away');
      await until('A sees B away', async () => (await person(a, nameB).getAttribute('data-status')) === 'away');
      await tab.close();
    }));

  it('web presence - someone who leaves the only room we share leaves the people column (no stale status)', () =>
    withLogs(stack, async () => {
      const nameC = `离开${suffix()}`;
      const shared = `left-${suffix()}`;
      await register(base, nameC, PASSWORD);
      await withClients(base, [nameA, nameC], async ([owner, c]) => {
        await privateRoom(owner, c, nameC, shared, `离开 ${shared}`);
        await until('A sees C online', async () => (await person(a, nameC).getAttribute('data-status')) === 'online');
        // C stays connected (online) but shares no room with A any more.
        await c.request('room.leave', { roomId: shared });
        await until("C is no longer in A's people column", async () => (await person(a, nameC).count()) === 0);
        expect(await person(a, nameB).count()).toBe(1);
      });
    }));

  it('web presence - appear offline shows offline with last seen to others; back online shows online', () =>
    withLogs(stack, async () => {
      await b.getByTestId('status-select').selectOption('invisible');
      await until('A sees B offline', async () => (await person(a, nameB).getAttribute('data-status')) === 'offline');
      expect(await a.getByTestId('offline-list').getByText(nameB, { exact: true }).count()).toBe(1);
      expect(await person(a, nameB).getByTestId('last-seen').textContent()).toMatch(/在线/); // "last seen …" on a Chinese page: 刚刚在线, 5分钟前在线
      expect(await person(a, nameB).getByTestId('status-text').count()).toBe(0);
      // B itself is connected and sees everything.
      expect(await b.getByTestId('conn-status').getAttribute('data-state')).toBe('online');
      await shot(a, 'presence-appear-offline');
      await b.getByTestId('status-select').selectOption('online');
      await until('A sees B online again', async () => (await person(a, nameB).getAttribute('data-status')) === 'online');
    }));

  it('web typing - "… is typing…" appears under the other\'s timeline while composing and goes when cleared or sent', () =>
    withLogs(stack, async () => {
      const indicator = a.getByTestId('typing-indicator');
      await b.getByTestId('message-input').click();
      await b.getByTestId('message-input').pressSequentially('你好，我正在输入', { delay: 30 });
      await until('A sees B typing', async () => (await indicator.textContent()) === `${nameB} 正在输入…`);
      await shot(a, 'typing-indicator');
      await b.getByTestId('message-input').fill('');
      await b.getByTestId('message-input').press('Backspace');
      await until('the indicator goes when B clears the text', async () => (await indicator.textContent()) === '');

      const text = `打完了 ${suffix()}`;
      await b.getByTestId('message-input').pressSequentially(text, { delay: 20 });
      await until('A sees B typing again', async () => (await indicator.textContent()) === `${nameB} 正在输入…`);
      await b.getByTestId('message-input').press('Enter');
      await message(a, text).waitFor();
      await until('the indicator goes when B sends', async () => (await indicator.textContent()) === '');
      // B never sees itself typing.
      expect(await b.getByTestId('typing-indicator').textContent()).toBe('');
    }));

  it('web reconnect - after the gateway drops the socket the page shows a banner, then the messages missed meanwhile, once each', () =>
    withLogs(stack, async () => {
      // Another gateway stays up: A writes through it while B's gateway is down.
      const port = await freePort();
      await stack!.startExtra('gateway2', 'gateway', port);
      const writer = await ChatClient.connect(wsUrlOf(`http://127.0.0.1:${port}`), { WebSocket, reconnect: false });
      try {
        await writer.auth((await login(base, nameA, PASSWORD)).accessToken);
        const before = `断线之前 ${suffix()}`;
        await writer.request('message.send', { roomId, clientMsgId: `r-${suffix()}`, body: before });
        await message(b, before).waitFor();

        await stack!.stop('gateway', 'SIGKILL');
        await b.locator('[data-testid="conn-status"][data-state="reconnecting"]').waitFor();
        await b.getByTestId('conn-banner').waitFor({ state: 'visible' });
        await shot(b, 'reconnecting-banner');
        const missed = Array.from({ length: 5 }, (_, i) => `错过的第${i + 1}条 ${suffix()}`);
        for (const body of missed) await writer.request('message.send', { roomId, clientMsgId: `m-${suffix()}`, body });

        await stack!.start('gateway');
        await b.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached', timeout: 60_000 });
        // The client resumed from the last position it saw: the missed events came as events.
        expect(await b.getByTestId('conn-status').getAttribute('data-resume')).toBe('resumed');
        await b.getByTestId('conn-banner').waitFor({ state: 'hidden' });
        for (const body of missed) await message(b, body).waitFor();
        // Each once, in order, after the one before the drop.
        const shown = await b.getByTestId('message-list').getByTestId('message-body').allTextContents();
        const at = [before, ...missed].map((t) => shown.indexOf(t));
        expect(at.every((i) => i >= 0)).toBe(true);
        expect(at).toEqual([...at].sort((x, y) => x - y));
        for (const t of [before, ...missed]) expect(shown.filter((s) => s === t)).toHaveLength(1);
        const live = `重连之后 ${suffix()}`;
        await writer.request('message.send', { roomId, clientMsgId: `l-${suffix()}`, body: live });
        await message(b, live).waitFor();
        expect(await message(b, live).count()).toBe(1);
      } finally {
        await writer.close();
      }
    }));
});

describe("web client: automatic away, the administrators' online list, a gateway restart (browser e2e)", () => {
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  const roomId = `idle-${suffix()}`;
  const admin = `admin_${suffix()}`;
  const user = `用户${suffix()}`;
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    // The shortest idle time a gateway accepts, so that automatic away comes within the test.
    const admins = { SERVER_ADMINS: admin };
    stack = await startTestStack({ serviceEnv: { gateway: { PRESENCE_IDLE_MS: '10000', ...admins }, presence: admins } });
    base = stack.urls.gateway;
    await register(base, admin, PASSWORD);
    await register(base, user, PASSWORD);
    await withClients(base, [admin, user], ([owner, guest]) => privateRoom(owner, guest, user, roomId, `空闲 ${roomId}`));
    await browser.launch();
    a = await browser.newPage();
    b = await browser.newPage();
    await logIn(a, base, admin);
    await logIn(b, base, user);
  });

  afterAll(async () => {
    await browser.close();
    await stack?.teardown();
  });

  afterEach(() => {
    expect(browser.pageErrors).toEqual([]);
  });

  it('web presence - a page left alone turns away by itself, and input brings it back online', () =>
    withLogs(stack, async () => {
      await until('B sees A online', async () => (await person(b, admin).getAttribute('data-status')) === 'online');
      await until('B sees A away after A did nothing', async () => (await person(b, admin).getAttribute('data-status')) === 'away');
      // A's own choice is still online: only what others see changed.
      expect(await a.getByTestId('status-select').inputValue()).toBe('online');
      await a.mouse.move(200, 300);
      await a.mouse.move(240, 320);
      await until(
        'B sees A online again after A moved the mouse',
        async () => (await person(b, admin).getAttribute('data-status')) === 'online',
      );
    }));

  it('web presence - a server administrator sees everyone online; anyone else does not get the list', () =>
    withLogs(stack, async () => {
      await a.getByTestId('server-online-section').waitFor({ state: 'visible' });
      // Folded: it repeats the people who share a room.
      await a.getByTestId('server-online-summary').click();
      await a.getByTestId('server-online-list').getByText(user, { exact: true }).waitFor();
      await shot(a, 'admin-online-list');
      expect(await b.getByTestId('server-online-section').isHidden()).toBe(true);
    }));

  it('web reconnect - a gateway stopping gracefully (server.shutdown) shows a quiet restart notice, then the page is back', () =>
    withLogs(stack, async () => {
      const stopping = stack!.stop('gateway');
      await b.locator('[data-testid="conn-banner"][data-kind="restart"]').waitFor();
      expect(await b.getByTestId('conn-banner').textContent()).toContain('服务器正在重启');
      await shot(b, 'server-restarting');
      await stopping;
      await stack!.start('gateway');
      for (const page of [a, b]) await online(page);
      await b.getByTestId('conn-banner').waitFor({ state: 'hidden' });
      expect(await b.getByTestId('auth-view').isHidden()).toBe(true);
    }));
});
