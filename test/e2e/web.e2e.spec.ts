import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { launchChromium } from './browser';
import { TEST_LIMITS_ENV } from './fixture';
import { PASSWORD, WAIT_MS, submitAuth, suffix, until } from './browser-users';
import { ChatClient, login, wsUrlOf } from '@chat/client';
import { deleteNamespace, randomName, testDatabaseUrl, testNatsUrl } from '@chat/testing';
import { WebSocket } from 'ws';

// The web client in a real browser (Debian's Chromium driven by playwright-core) against the
// whole stack started as separate processes from the built services.

jest.setTimeout(120_000);

interface Stack {
  urls: Record<string, string>;
  stop(name: string, signal?: string): Promise<void>;
  start(name: string): Promise<void>;
  stopAll(): Promise<void>;
}
const { startStack } = require('../../scripts/stack.cjs') as {
  startStack(o: {
    env: Record<string, string>;
    ports: Record<string, number>;
    serviceEnv?: Record<string, Record<string, string>>;
    output: string;
  }): Promise<Stack>;
};

const SERVICES = ['gateway', 'rooms', 'presence', 'history', 'moderation'];
const BLOCKED = '禁止词';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const bodies = (page: Page) => page.getByTestId('message-list').getByTestId('message-body').allTextContents();
const messageWith = (page: Page, text: string): Locator =>
  page.getByTestId('message-list').getByTestId('message-body').filter({ hasText: text });
const positions = (page: Page) =>
  page
    .getByTestId('message-list')
    .getByTestId('message')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-position'))));

describe('web client (browser e2e)', () => {
  const namespace = randomName('web');
  const schema = randomName('web_');
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-e2e-'));
  let stack: Stack | undefined;
  let base: string;
  let browser: Browser | undefined;
  let ctxA: BrowserContext;
  let ctxB: BrowserContext;
  let a: Page;
  let b: Page;
  const pageErrors: string[] = [];
  const nameA = `alice_${suffix()}`;
  const nameB = `测试用户${suffix()}`;

  beforeAll(async () => {
    const ports: Record<string, number> = {};
    while (new Set(Object.values(ports)).size < SERVICES.length) {
      for (const s of SERVICES) ports[s] = await freePort();
    }
    try {
      stack = await startStack({
        env: {
          NATS_URL: await testNatsUrl(),
          DATABASE_URL: await testDatabaseUrl(),
          NATS_NAMESPACE: namespace,
          DATABASE_SCHEMA: schema,
          JWT_SECRET: randomBytes(36).toString('base64'), // 48 characters
          LOG_LEVEL: 'warn',
          ...TEST_LIMITS_ENV,
        },
        ports,
        serviceEnv: {
          moderation: { BLOCKED_WORDS: `${BLOCKED},forbiddenword` },
          // A fresh presence service only publishes status rises during its start-up grace
          // (normally a gateway timeout); the test changes statuses right away.
          presence: { PRESENCE_STARTUP_GRACE_MS: '500' },
        },
        output: logDir,
      });
    } catch (err) {
      throw new Error(`the stack did not start (service logs in ${logDir}): ${(err as Error).message}`);
    }
    base = stack.urls.gateway;

    browser = await launchChromium();
    const open = async () => {
      const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
      ctx.setDefaultTimeout(WAIT_MS);
      const page = await ctx.newPage();
      page.on('pageerror', (err) => pageErrors.push(String(err)));
      return { ctx, page };
    };
    ({ ctx: ctxA, page: a } = await open());
    ({ ctx: ctxB, page: b } = await open());
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await stack?.stopAll();
    await deleteNamespace(namespace).catch(() => undefined);
    const pool = new Pool({ connectionString: await testDatabaseUrl() });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  });

  const authError = (page: Page, code: string) => page.locator(`[data-testid="auth-error"][data-code="${code}"]`);

  const submit = (page: Page, kind: 'login' | 'register', username: string, password: string) => submitAuth(page, kind, username, password);

  async function expectLoggedIn(page: Page, username: string) {
    await page.getByTestId('chat-view').waitFor({ state: 'visible' });
    await until('own name in the top bar', async () => (await page.getByTestId('me').textContent()) === username);
    await page.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });
  }

  it('web - registration and login show typed errors from the server and keep the session in the tab', async () => {
    await a.goto(base);
    await submit(a, 'register', nameA, PASSWORD);
    await expectLoggedIn(a, nameA);

    await b.goto(base);
    await submit(b, 'login', `nobody_${suffix()}`, PASSWORD);
    await authError(b, 'AUTH_FAILED').waitFor();
    await submit(b, 'register', nameA, PASSWORD);
    await authError(b, 'USERNAME_TAKEN').waitFor();
    await submit(b, 'register', nameB, 'short');
    await authError(b, 'BAD_REQUEST').waitFor();
    // Said in the page's language (a Chinese browser): what the password lacks.
    expect(await b.getByTestId('auth-error').textContent()).toContain('至少 8 个字符');
    await submit(b, 'register', nameB, PASSWORD);
    await expectLoggedIn(b, nameB);

    // Log out and back in with the login form; a reload keeps the session (sessionStorage).
    await a.getByTestId('logout').click();
    await a.getByTestId('auth-view').waitFor({ state: 'visible' });
    expect(
      await a.evaluate(() =>
        (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('chat.session'),
      ),
    ).toBeNull();
    await submit(a, 'login', nameA, PASSWORD);
    await expectLoggedIn(a, nameA);
    await a.reload();
    await expectLoggedIn(a, nameA);
  });

  it('web - both users join general; a Chinese message from A reaches B live, once', async () => {
    for (const page of [a, b]) {
      await page.getByTestId('room-general').waitFor();
      expect(await page.getByTestId('room-general').getAttribute('data-member')).toBe('false');
      await page.getByTestId('join-general').click();
      await page.locator('[data-testid="room-general"][data-member="true"]').waitFor();
      await until('composer enabled', () => page.getByTestId('message-input').isEnabled());
    }
    // B has general open before A writes, so B's copy can only come from the live event.
    await until('B has general open', async () => (await b.getByTestId('room-view').getAttribute('data-room-id')) === 'general');
    await b.locator('[data-testid="message-list"][data-state="ready"]').waitFor({ state: 'attached' });

    const text = `你好，世界！这是一条中文消息 🌏 ${suffix()}`;
    await a.getByTestId('message-input').fill(text);
    await a.getByTestId('message-input').press('Enter');

    await messageWith(b, text).waitFor();
    expect(await messageWith(b, text).textContent()).toBe(text);
    expect(await b.getByTestId('message-list').getByTestId('message-sender').last().textContent()).toBe(nameA);
    // The sender's name opens their profile card, with a way to write to them.
    await b.getByTestId('message-list').getByTestId('message-sender').last().click();
    expect(await b.getByTestId('user-card-name').textContent()).toBe(nameA);
    await b.getByTestId('user-card-message').waitFor({ state: 'visible' });
    await b.getByTestId('dialog-close').click();
    await until(
      'A shows its message once and nothing pending',
      async () => (await messageWith(a, text).count()) === 1 && (await a.getByTestId('pending-message').count()) === 0,
    );
    expect(await messageWith(b, text).count()).toBe(1);
  });

  it('web - presence lists the other user online and follows status changes', async () => {
    const entry = (page: Page, name: string) => page.getByTestId('online-list').getByTestId('online-user').filter({ hasText: name });
    await entry(a, nameB).waitFor();
    await entry(b, nameA).waitFor();

    await b.getByTestId('status-select').selectOption('away');
    await until('A sees B away', async () => (await entry(a, nameB).getAttribute('data-status')) === 'away');
    await b.getByTestId('status-select').selectOption('online');
    await until('A sees B online again', async () => (await entry(a, nameB).getAttribute('data-status')) === 'online');
  });

  it('web - scrolling back loads older pages in order until the beginning of the room', async () => {
    const session = await login(base, nameA, PASSWORD);
    const seeder = await ChatClient.connect(wsUrlOf(base), { WebSocket });
    try {
      await seeder.auth(session.accessToken);
      const seeds = Array.from({ length: 60 }, (_, i) => `seed ${String(i + 1).padStart(3, '0')}`);
      // The gateway handles one connection's sends in order, so they can be pipelined.
      await Promise.all(
        seeds.map((body, i) => seeder.request('message.send', { roomId: 'general', clientMsgId: `seed-${i}-${suffix()}`, body })),
      );
      await messageWith(b, 'seed 060').waitFor();
      // History is projected from the stream asynchronously: wait until it has caught up.
      await until(
        'history has the last seed',
        async () => (await seeder.request('history.page', { roomId: 'general', limit: 1 })).messages[0]?.body === 'seed 060',
      );
    } finally {
      await seeder.close();
    }

    await b.reload();
    await expectLoggedIn(b, nameB);
    await messageWith(b, 'seed 060').waitFor();
    await b.locator('[data-testid="message-list"][data-state="ready"]').waitFor({ state: 'attached' });
    expect((await bodies(b)).length).toBe(50);
    expect(await messageWith(b, 'seed 001').count()).toBe(0);
    await b.getByTestId('load-older').waitFor();

    // Scroll to the top (which loads the next older page) until the room's beginning is shown.
    for (let i = 0; i < 5 && (await b.getByTestId('history-start').isHidden()); i++) {
      const before = (await bodies(b)).length;
      await b.getByTestId('message-scroller').evaluate((el: { scrollTop: number }) => {
        el.scrollTop = 0;
      });
      await until(
        'an older page after scrolling to the top',
        async () => (await bodies(b)).length > before || (await b.getByTestId('history-start').isVisible()),
      );
    }
    await b.getByTestId('history-start').waitFor();
    expect(await b.getByTestId('load-older').isHidden()).toBe(true);

    const all = await bodies(b);
    const seedsShown = all.filter((t) => t.startsWith('seed '));
    expect(seedsShown).toEqual(Array.from({ length: 60 }, (_, i) => `seed ${String(i + 1).padStart(3, '0')}`));
    expect(all.some((t) => t.startsWith('你好，世界！'))).toBe(true);
    const pos = await positions(b);
    expect(pos).toEqual([...pos].sort((x, y) => x - y));
    expect(new Set(pos).size).toBe(pos.length);
  });

  it('web - a message with a blocked word shows CONTENT_BLOCKED inline and is not delivered', async () => {
    const blocked = `这句话有${BLOCKED}吗 ${suffix()}`;
    await b.getByTestId('message-input').fill(blocked);
    await b.getByTestId('send').click();
    const failed = b.locator('[data-testid="pending-message"][data-state="failed"]').filter({ hasText: blocked });
    await failed.waitFor();
    expect(await failed.locator('[data-testid="send-error"]').getAttribute('data-code')).toBe('CONTENT_BLOCKED');
    // The code is never shown: its sentence, in the page's language.
    expect(await failed.locator('[data-testid="send-error"]').textContent()).toContain('这条消息被内容审核拒绝');
    expect(await failed.locator('[data-testid="send-error"]').textContent()).not.toContain('CONTENT_BLOCKED');

    // Messages of one sender arrive in order: once A has the next one, the blocked one would be there.
    const clean = `没问题的消息 ${suffix()}`;
    await b.getByTestId('message-input').fill(clean);
    await b.getByTestId('send').click();
    await messageWith(a, clean).waitFor();
    expect(await messageWith(a, blocked).count()).toBe(0);
    await b.getByTestId('dismiss-failed').click();
    await until('failed message dismissed', async () => (await b.getByTestId('pending-message').count()) === 0);
  });

  it('web - creating a room opens it with membership; leaving it takes the membership away', async () => {
    const roomId = `proj-${suffix()}`;
    await a.getByTestId('open-create-room').click();
    await a.getByTestId('create-room-dialog').waitFor();
    await a.getByTestId('new-room-name').fill(`项目讨论 ${roomId}`);
    await a.getByTestId('new-room-advanced').click(); // the id waits under "Advanced"
    await a.getByTestId('new-room-id').fill(roomId);
    await a.getByTestId('create-room').click();
    await a.locator(`[data-testid="room-${roomId}"][data-member="true"]`).waitFor();
    await until('new room open', async () => (await a.getByTestId('room-view').getAttribute('data-room-id')) === roomId);
    expect(await a.getByTestId('room-name').textContent()).toContain('项目讨论');

    const text = `first in ${roomId}`;
    await a.getByTestId('message-input').fill(text);
    await a.getByTestId('send').click();
    await messageWith(a, text).waitFor();

    // B is not a member: the room is listed with a join button and cannot be posted to.
    await b.getByTestId('refresh-rooms').click();
    await b.locator(`[data-testid="room-${roomId}"][data-member="false"]`).waitFor();
    await b.getByTestId(`join-${roomId}`).waitFor();

    await a.getByTestId('leave-room').click();
    await a.locator(`[data-testid="room-${roomId}"][data-member="false"]`).waitFor();
    await until('composer disabled after leaving', async () => !(await a.getByTestId('message-input').isEnabled()));
    await a.getByTestId(`open-general`).click();
    await until('back in general', async () => (await a.getByTestId('room-view').getAttribute('data-room-id')) === 'general');
  });

  it('web - at a phone width the room list becomes a drawer and the room stays usable', async () => {
    await b.setViewportSize({ width: 380, height: 740 });
    try {
      // Fully on screen / fully off screen (the drawers slide in and out).
      const box = (l: Locator) =>
        l.evaluate((e) => {
          const r = e.getBoundingClientRect();
          return { left: r.left, right: r.right, width: r.width };
        });
      const inView = async (l: Locator) => {
        const r = await box(l);
        return r.width > 0 && r.left >= 0 && r.right <= 380;
      };
      const offScreen = async (l: Locator) => {
        const r = await box(l);
        return r.right <= 0 || r.left >= 380;
      };
      await until('room list moved off screen', () => offScreen(b.getByTestId('room-list')));
      expect(await b.getByTestId('message-input').isVisible()).toBe(true);
      expect(await inView(b.getByTestId('message-input'))).toBe(true);

      await b.getByTestId('toggle-rooms').click();
      await until('room drawer open', () => inView(b.getByTestId('room-general')));
      await b.getByTestId('open-general').click();
      await until('drawer closed after picking a room', () => offScreen(b.getByTestId('room-list')));

      const text = `窄屏消息 ${suffix()}`;
      await b.getByTestId('message-input').fill(text);
      await b.getByTestId('send').click();
      await messageWith(a, text).waitFor();
      await b.getByTestId('toggle-people').click();
      await until('people drawer open', () => inView(b.getByTestId('online-list')));
      await b.keyboard.press('Escape');
    } finally {
      await b.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('web - when the gateway dies without closing the sockets (1006), the pages reconnect by themselves', async () => {
    await stack!.stop('gateway', 'SIGKILL');
    for (const page of [a, b]) await page.locator('[data-testid="conn-status"][data-state="reconnecting"]').waitFor();
    await stack!.start('gateway');
    for (const page of [a, b])
      await page.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached', timeout: 60_000 });
    const text = `重连之后 ${suffix()}`;
    await b.getByTestId('message-input').fill(text);
    await b.getByTestId('send').click();
    await messageWith(a, text).waitFor();
  });

  it('web - after a gateway restart both pages reconnect, and a message written meanwhile arrives exactly once', async () => {
    await stack!.stop('gateway');
    for (const page of [a, b]) await page.locator('[data-testid="conn-status"][data-state="reconnecting"]').waitFor();

    const text = `写于断线期间 ${suffix()}`;
    await a.getByTestId('message-input').fill(text);
    await a.getByTestId('send').click();
    await a.locator('[data-testid="pending-message"][data-state="queued"]').filter({ hasText: text }).waitFor();

    await stack!.start('gateway');
    for (const page of [a, b])
      await page.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached', timeout: 60_000 });
    await messageWith(b, text).waitFor();
    await until(
      'A has the message once and nothing pending',
      async () => (await messageWith(a, text).count()) === 1 && (await a.getByTestId('pending-message').count()) === 0,
    );
    expect(await messageWith(b, text).count()).toBe(1);
    const pos = await positions(b);
    expect(pos).toEqual([...pos].sort((x, y) => x - y));
    expect(new Set(pos).size).toBe(pos.length);

    // Presence recovers with the new gateway.
    await b.getByTestId('online-list').getByTestId('online-user').filter({ hasText: nameA }).waitFor();

    await b.getByTestId('message-scroller').evaluate((el: { scrollTop: number; scrollHeight: number }) => {
      el.scrollTop = el.scrollHeight;
    });
    await b.screenshot({ path: '/tmp/web-e2e.png' });
    expect(pageErrors).toEqual([]);
  });
});
