import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { launchChromium } from './browser';
import { PASSWORD, WAIT_MS, shot, submitAuth, suffix, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// The web client's frame in Debian's Chromium: the page in the browser's language (Chinese) and
// switched by the person (kept over a reload), login and registration as separate paths (a
// newcomer pressing Enter on the login form is sent to registration), a tab-only session in a
// new tab, the drawers and the top bar on a 390-pixel phone (closed drawers out of the Tab
// order, focus moved in and back, nothing wider than the screen), and notifications: the tab
// title's count after a mention, a desktop notification, and a muted room that gives neither.

jest.setTimeout(240_000);

/** What the checks below read of the page's document (the spec has no DOM types). */
interface Doc {
  activeElement: { id: string; closest(selector: string): unknown } | null;
  documentElement: { scrollWidth: number };
  querySelector(selector: string): { scrollWidth: number; clientWidth: number } | null;
}

const online = (page: Page) => page.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });

/** The page's Notification replaced by one that records (headless Chromium shows none), permission granted. */
const FAKE_NOTIFICATIONS = () => {
  const g = globalThis as unknown as { Notification: unknown; __notes: Array<{ title: string; body?: string }> };
  g.__notes = [];
  class Recorded {
    static permission = 'granted';
    static requestPermission = () => Promise.resolve('granted');
    onclick: (() => void) | null = null;
    constructor(title: string, options?: { body?: string }) {
      g.__notes.push({ title, body: options?.body });
    }
    close() {}
  }
  g.Notification = Recorded;
};
const notes = (page: Page) => page.evaluate(() => (globalThis as unknown as { __notes: Array<{ title: string }> }).__notes);

describe('web client: frame, languages, notifications, phone (browser e2e)', () => {
  let stack: TestStack | undefined;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const nameA = `frame_${suffix()}`;
  const nameB = `小明${suffix()}`;
  const loud = `loud-${suffix()}`;
  const quiet = `quiet-${suffix()}`;
  const home = `home-${suffix()}`;

  async function page(locale: 'zh-CN' | 'en-US', viewport = { width: 1280, height: 800 }): Promise<Page> {
    const ctx = await browser.newContext({ viewport, locale });
    ctx.setDefaultTimeout(WAIT_MS);
    contexts.push(ctx);
    return tab(ctx);
  }
  async function tab(ctx: BrowserContext): Promise<Page> {
    const p = await ctx.newPage();
    p.on('pageerror', (err) => pageErrors.push(String(err)));
    return p;
  }
  async function logIn(p: Page, name: string, remember = false) {
    await p.goto(base);
    await p.getByTestId('username').fill(name);
    await p.getByTestId('password').fill(PASSWORD);
    await p.getByTestId('remember-me').setChecked(remember);
    await p.getByTestId('login').click();
    await p.getByTestId('chat-view').waitFor({ state: 'visible' });
    await online(p);
  }
  /** Runs `fn` on a protocol connection of `name`. */
  async function as<T>(name: string, fn: (c: ChatClient) => Promise<T>): Promise<T> {
    const c = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
    try {
      await c.auth((await login(base, name, PASSWORD)).accessToken);
      return await fn(c);
    } finally {
      await c.close();
    }
  }

  beforeAll(async () => {
    // A is a server administrator: the phone's top bar has to fit the moderation button too.
    stack = await startTestStack({ env: { SERVER_ADMINS: nameA } });
    base = stack.urls.gateway;
    await register(base, nameA, PASSWORD);
    await register(base, nameB, PASSWORD);
    await as(nameA, async (c) => {
      for (const roomId of [loud, quiet, home]) await c.request('room.create', { roomId, name: roomId, visibility: 'public' });
    });
    await as(nameB, async (c) => {
      for (const roomId of [loud, quiet, home]) await c.request('room.join', { roomId });
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.teardown();
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  it('web frame - a Chinese browser gets the Chinese login page and sentences; the language switch is kept over reloads', () =>
    withLogs(stack, async () => {
      const p = await page('zh-CN');
      await p.goto(base);
      expect(await p.locator('html').getAttribute('lang')).toBe('zh-CN');
      expect(await p.getByTestId('auth-heading').textContent()).toBe('登录');
      expect(await p.getByTestId('login').textContent()).toBe('登录');
      expect(await p.getByTestId('show-register').textContent()).toBe('新用户？注册账号');
      expect(await p.title()).toBe('聊天');
      await p.getByTestId('username').fill(nameA);
      await p.getByTestId('password').fill('not the password');
      await p.getByTestId('login').click();
      const error = p.locator('[data-testid="auth-error"][data-code="AUTH_FAILED"]');
      await error.waitFor();
      expect(await error.getByTestId('error-sentence').textContent()).toBe('用户名或密码错误。');
      expect(await error.getByTestId('auth-newcomer').textContent()).toContain('新用户？注册账号');
      // The link under the form is not there a second time.
      expect(await p.getByTestId('show-register').isVisible()).toBe(false);
      expect(await error.textContent()).not.toMatch(/[A-Za-z]{4,}/);
      await shot(p, 'login-zh');

      // To English on the login page: the page reloads in it, and stays so.
      await Promise.all([p.waitForEvent('load'), p.getByTestId('language-select').selectOption('en')]);
      await until('the page is English', async () => (await p.getByTestId('auth-heading').textContent()) === 'Log in');
      await p.reload();
      expect(await p.getByTestId('auth-heading').textContent()).toBe('Log in');
      expect(await p.locator('html').getAttribute('lang')).toBe('en');

      // Back to Chinese from Settings, once logged in.
      await logIn(p, nameA);
      expect(await p.getByTestId('logout').textContent()).toContain('Log out');
      await p.getByTestId('open-settings').click();
      await Promise.all([p.waitForEvent('load'), p.getByTestId('settings-language').selectOption('zh-CN')]);
      await online(p);
      expect(await p.getByTestId('logout').textContent()).toContain('退出登录');
      await p.reload();
      await online(p);
      expect(await p.getByTestId('conn-status').textContent()).toBe('已连接');
      expect(await p.getByTestId('jump-date').getAttribute('lang')).toBe('zh-CN');
      await p.close();
    }));

  it('web frame - Enter on the login form with an unknown name points to registration, which is its own form', () =>
    withLogs(stack, async () => {
      const p = await page('en-US');
      await p.goto(base);
      const newcomer = `new_${suffix()}`;
      await p.getByTestId('username').fill(newcomer);
      await p.getByTestId('password').fill(PASSWORD);
      await p.getByTestId('password').press('Enter');
      const hint = p.locator('[data-testid="auth-error"][data-code="AUTH_FAILED"]').getByTestId('auth-newcomer');
      await hint.waitFor();
      expect(await hint.textContent()).toBe('New here? Create an account');
      await hint.getByTestId('auth-error-register').click();
      expect(await p.getByTestId('auth-form').getAttribute('data-mode')).toBe('register');
      expect(await p.getByTestId('auth-heading').textContent()).toBe('Create an account');
      expect(await p.getByTestId('login').isHidden()).toBe(true);
      // The passwords must match; Enter registers.
      await p.getByTestId('password-again').fill(`${PASSWORD}!`);
      await p.getByTestId('password-again').press('Enter');
      expect(await p.locator('[data-testid="auth-error"][data-code="BAD_REQUEST"]').textContent()).toContain('The two passwords differ.');
      await p.getByTestId('password-again').fill(PASSWORD);
      await p.getByTestId('password-again').press('Enter');
      await p.getByTestId('chat-view').waitFor({ state: 'visible' });
      await online(p);
      expect(await p.getByTestId('me').textContent()).toBe(newcomer);
      // The one-time offer of desktop notifications: dismissed, it does not come back.
      await p.getByTestId('notify-hint').waitFor();
      await p.getByTestId('notify-hint-dismiss').click();
      await p.reload();
      await online(p);
      expect(await p.getByTestId('notify-hint').count()).toBe(0);
      // Logged out, the login form is back in its login mode, with the way back and forth.
      await p.getByTestId('logout').click();
      await p.getByTestId('auth-view').waitFor({ state: 'visible' });
      expect(await p.getByTestId('auth-form').getAttribute('data-mode')).toBe('login');
      await p.getByTestId('show-register').click();
      await p.getByTestId('show-login').click();
      await submitAuth(p, 'login', newcomer);
      await online(p);
      await p.close();
    }));

  it('web frame - a new tab of a tab-only session is logged in (asked from the open tab); without an open tab it is not', () =>
    withLogs(stack, async () => {
      const first = await page('en-US');
      await logIn(first, nameA, false);
      const ctx = first.context();
      const second = await tab(ctx);
      await second.goto(base);
      await second.getByTestId('chat-view').waitFor({ state: 'visible' });
      await online(second);
      expect(await second.getByTestId('me').textContent()).toBe(nameA);
      expect(
        await second.evaluate(() =>
          (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('chat.session'),
        ),
      ).toBeNull();
      await second.reload();
      await online(second);
      // Each tab with the session holds the shared Web Lock a new tab looks for before it asks.
      const holders = (p: typeof first) =>
        p.evaluate(async () => {
          const locks = (globalThis as unknown as { navigator: { locks: { query(): Promise<{ held?: { name: string }[] }> } } }).navigator
            .locks;
          return ((await locks.query()).held ?? []).filter((l) => l.name === 'chat-tab-session').length;
        });
      expect(await holders(second)).toBe(2);
      // Every tab closed: no lock is left, and a new one shows the login form.
      await first.close();
      await second.close();
      const third = await tab(ctx);
      await third.goto(base);
      await third.getByTestId('auth-view').waitFor({ state: 'visible' });
      expect(await holders(third)).toBe(0);
      // A tab-only session ended by logging out lets go of it too.
      await logIn(third, nameA, false);
      await until('the new session holds the lock', async () => (await holders(third)) === 1);
      await third.getByTestId('logout').click();
      await third.getByTestId('auth-view').waitFor({ state: 'visible' });
      await until('logging out lets go of the lock', async () => (await holders(third)) === 0);
      await third.close();
    }));

  it('web frame - on a 390-pixel phone the drawers are inert when closed, take the focus when opened, close with Escape; nothing overflows', () =>
    withLogs(stack, async () => {
      const p = await page('zh-CN', { width: 390, height: 844 });
      await logIn(p, nameA);
      await p.getByTestId('toggle-rooms').click();
      await p.getByTestId(`open-${home}`).click();
      await until('the room is open', async () => (await p.getByTestId('room-view').getAttribute('data-room-id')) === home);

      const inert = (id: string) =>
        p.locator(`#${id}`).evaluate((e) => (e as unknown as { inert: boolean }).inert && e.getAttribute('aria-hidden') === 'true');
      await until('the closed drawers are inert', async () => (await inert('rooms-panel')) && (await inert('people-panel')));
      const overflow = () =>
        p.evaluate(() => {
          const d = (globalThis as unknown as { document: Doc }).document;
          const wide = (sel: string) => {
            const e = d.querySelector(sel)!;
            return e.scrollWidth > e.clientWidth + 1;
          };
          return { page: d.documentElement.scrollWidth > 391, topbar: wide('.topbar'), head: wide('.room-head') };
        });
      await p.getByTestId('open-moderation').waitFor({ state: 'visible' });
      expect(await overflow()).toEqual({ page: false, topbar: false, head: false });
      for (const id of ['open-settings', 'logout', 'status-menu', 'toggle-people', 'room-more'])
        expect(await p.getByTestId(id).isVisible()).toBe(true);
      // One line: the header is as tall as one of its buttons, give or take its padding.
      const head = (await p.locator('.room-head').boundingBox())!;
      expect(head.height).toBeLessThan(64);
      await shot(p, 'phone-frame');

      // Tab never reaches a closed drawer's controls.
      for (let i = 0; i < 25; i++) {
        await p.keyboard.press('Tab');
        const inDrawer = await p.evaluate(() => {
          const a = (globalThis as unknown as { document: Doc }).document.activeElement;
          return !!a?.closest('#rooms-panel, #people-panel');
        });
        expect(inDrawer).toBe(false);
      }

      // Opened: the focus is inside; Escape closes and gives it back to the toggle.
      const focusIn = (id: string) =>
        p.evaluate((i) => !!(globalThis as unknown as { document: Doc }).document.activeElement?.closest(`#${i}`), id);
      for (const [toggle, panel] of [
        ['toggle-rooms', 'rooms-panel'],
        ['toggle-people', 'people-panel'],
      ]) {
        await p.getByTestId(toggle).click();
        expect(await inert(panel)).toBe(false);
        expect(await focusIn(panel)).toBe(true);
        expect(await p.getByTestId(toggle).getAttribute('aria-expanded')).toBe('true');
        await p.keyboard.press('Escape');
        expect(await inert(panel)).toBe(true);
        expect(await p.evaluate(() => (globalThis as unknown as { document: Doc }).document.activeElement?.id)).toBe(toggle);
      }

      // The room's secondary actions are behind "⋯"; my status is the dot's dialog.
      expect(await p.getByTestId('show-members').isVisible()).toBe(false);
      await p.getByTestId('room-more').click();
      await p.getByTestId('mute-room').waitFor({ state: 'visible' });
      expect(await p.getByTestId('show-details').isVisible()).toBe(true);
      await p.getByTestId('show-details').click();
      // The details open in the right-hand drawer, on screen.
      // (after the drawer's slide)
      await until('the details drawer is open and on screen', async () => {
        const box = await p.locator('#people-panel').boundingBox();
        return !(await inert('people-panel')) && !!box && box.x >= 0 && box.x + box.width <= 391;
      });
      await p.keyboard.press('Escape');
      await p.getByTestId('status-menu').click();
      await p.getByTestId('status-text-input').waitFor({ state: 'visible' });
      await p.keyboard.press('Escape');

      // Narrowed with the details shown on a wide screen: they stay on screen (as the drawer).
      await p.setViewportSize({ width: 1280, height: 800 });
      await until('the people column is no drawer', async () => !(await inert('people-panel')));
      if ((await p.getByTestId('side-panel').isHidden()) === true) await p.getByTestId('show-details').click();
      await p.getByTestId('side-panel').waitFor({ state: 'visible' });
      await p.setViewportSize({ width: 390, height: 844 });
      await until('the details are in the open drawer', async () => {
        const box = await p.getByTestId('side-panel').boundingBox();
        return !!box && box.x >= 0 && box.x + box.width <= 391 && !(await inert('people-panel'));
      });
      await p.close();
    }));

  it('web frame - a mention from another user counts in the tab title and notifies; a muted room does neither', () =>
    withLogs(stack, async () => {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
      ctx.setDefaultTimeout(WAIT_MS);
      contexts.push(ctx);
      await ctx.addInitScript(FAKE_NOTIFICATIONS);
      const p = await tab(ctx);
      await logIn(p, nameA);
      // Allowed from Settings (the button is a click: a user gesture).
      await p.getByTestId('open-settings').click();
      await p.getByTestId('notifications-state').waitFor();
      await p.getByTestId('dialog-close').click();
      await p.getByTestId(`open-${home}`).click();
      await until('home is open', async () => (await p.getByTestId('room-view').getAttribute('data-room-id')) === home);
      expect(await p.title()).toBe('Chat');

      const mention = (roomId: string, text: string) =>
        as(nameB, (c) => c.request('message.send', { roomId, clientMsgId: `m-${suffix()}`, body: `@${nameA} ${text}` }));
      await mention(loud, 'look here');
      await until('the title counts the mention', async () => (await p.title()) === '(1) Chat');
      await until('a desktop notification says who and where', async () =>
        (await notes(p)).some((n) => n.title === `${nameB} mentioned you in # ${loud}`),
      );
      // Read: the count goes.
      await p.getByTestId(`open-${loud}`).click();
      await until('the title has no count once read', async () => (await p.title()) === 'Chat');

      // Muted: a mention gives no notification and no count; its badge still shows.
      await p.getByTestId(`open-${quiet}`).click();
      await until('quiet is open', async () => (await p.getByTestId('room-view').getAttribute('data-room-id')) === quiet);
      await p.getByTestId('mute-room').click();
      expect(await p.getByTestId('mute-room').getAttribute('aria-pressed')).toBe('true');
      expect(
        await p.evaluate(() =>
          (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('chat.mutedRooms'),
        ),
      ).toContain(quiet);
      await p.getByTestId(`open-${home}`).click();
      const before = (await notes(p)).length;
      await mention(quiet, 'psst');
      await p.getByTestId(`mentions-${quiet}`).waitFor();
      expect(await p.locator(`#room-list li[data-room-id="${quiet}"]`).getAttribute('data-muted')).not.toBeNull();
      await new Promise((r) => setTimeout(r, 500));
      expect(await p.title()).toBe('Chat');
      expect((await notes(p)).length).toBe(before);
      // An unmuted room still counts meanwhile.
      await mention(loud, 'again');
      await until('the title counts the unmuted room only', async () => (await p.title()) === '(1) Chat');
      await shot(p, 'title-count');
      await p.close();
    }));
});
