import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { launchChromium } from './browser';
import { PASSWORD, WAIT_MS, message, shot, suffix, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// Sessions in the web client, in Debian's Chromium: "remember me" keeps the session for a new
// tab and a restarted browser (a new context with the saved storage), a tab-only session does
// not outlive its tab; the access token (30 s here, the gateway's minimum) is renewed before it
// expires without the user noticing, in two tabs sharing one refresh token (a used refresh
// token presented again would revoke the session); log out everywhere signs out the other tabs
// and devices with a clear notice; a revoked device is signed out; deleting the account says
// what happens and the name can no longer log in.
// SHOTS_DIR=<dir> saves screenshots of the new UI there.

jest.setTimeout(300_000);

const ACCESS_TOKEN_TTL_S = 30;
interface StoredSession {
  accessToken: string;
  expiresAt: string;
  refreshToken: string;
  sessionId: string;
}
/** The session the page keeps (localStorage when remembered, else sessionStorage), or null. */
const stored = (page: Page, where: 'localStorage' | 'sessionStorage') =>
  page.evaluate((w) => {
    const raw = (globalThis as unknown as Record<string, { getItem(k: string): string | null }>)[w].getItem('chat.session');
    return raw ? (JSON.parse(raw) as StoredSession) : null;
  }, where);

const online = (page: Page) => page.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });

describe('web client: sessions (browser e2e)', () => {
  let stack: TestStack | undefined;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const roomId = `sess-${suffix()}`;
  const nameA = `remember_${suffix()}`;
  const nameB = `小红${suffix()}`;

  /** Runs `fn` on a fresh protocol connection of B (access tokens live only 30 s here). */
  async function asB<T>(fn: (c: ChatClient) => Promise<T>): Promise<T> {
    const c = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
    try {
      await c.auth((await login(base, nameB, PASSWORD)).accessToken);
      return await fn(c);
    } finally {
      await c.close();
    }
  }

  async function newContext(storageState?: Awaited<ReturnType<BrowserContext['storageState']>>) {
    // An English browser: the notices below are matched by their English words.
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', storageState });
    ctx.setDefaultTimeout(WAIT_MS);
    contexts.push(ctx);
    return ctx;
  }
  async function newTab(ctx: BrowserContext) {
    const page = await ctx.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    return page;
  }
  /** Logs in through the form, with "Remember me" ticked or not, until the chat is online. */
  async function logIn(page: Page, name: string, remember: boolean) {
    await page.goto(base);
    await page.getByTestId('username').fill(name);
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('remember-me').setChecked(remember);
    await page.getByTestId('login').click();
    await page.getByTestId('chat-view').waitFor({ state: 'visible' });
    await online(page);
  }
  /** The page shows the chat (online), never the login form. */
  async function expectChat(page: Page) {
    await page.getByTestId('chat-view').waitFor({ state: 'visible' });
    await online(page);
    expect(await page.getByTestId('auth-view').isHidden()).toBe(true);
  }
  async function expectSignedOut(page: Page, notice: RegExp) {
    await page.getByTestId('auth-view').waitFor({ state: 'visible' });
    await until('the login form says why', async () => notice.test((await page.getByTestId('auth-notice').textContent()) ?? ''));
  }

  beforeAll(async () => {
    // B is a server administrator (disables an account in a test below).
    stack = await startTestStack({ serviceEnv: { gateway: { ACCESS_TOKEN_TTL_S: String(ACCESS_TOKEN_TTL_S), SERVER_ADMINS: nameB } } });
    base = stack.urls.gateway;
    await register(base, nameA, PASSWORD);
    await register(base, nameB, PASSWORD);
    await asB(async (c) => {
      await c.request('room.create', { roomId, name: `会话 ${roomId}`, visibility: 'private' });
      await c.request('room.invite', { roomId, username: nameA });
    });
    const a = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
    try {
      await a.auth((await login(base, nameA, PASSWORD)).accessToken);
      await a.request('invitation.accept', { roomId });
    } finally {
      await a.close();
    }
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

  it('web sessions - remember me keeps the session for a reload, a new tab and a restarted browser; a tab-only session is gone with the browser', () =>
    withLogs(stack, async () => {
      const ctx = await newContext();
      const tab = await newTab(ctx);
      await tab.goto(base);
      await shot(tab, 'login-remember-me');
      await logIn(tab, nameA, true);
      expect(await stored(tab, 'localStorage')).toMatchObject({ refreshToken: expect.any(String), sessionId: expect.any(String) });
      expect(await stored(tab, 'sessionStorage')).toBeNull();

      await tab.reload();
      await expectChat(tab);
      const second = await newTab(ctx);
      await second.goto(base);
      await expectChat(second);
      expect(await second.getByTestId('me').textContent()).toBe(nameA);

      // A browser restart: the browser closes, and a new context starts with what it kept on disk
      // (cookies, localStorage). Only one "browser" holds the session at a time, as in life.
      const disk = await ctx.storageState();
      await ctx.close();
      const restarted = await newContext(disk);
      const again = await newTab(restarted);
      await again.goto(base);
      await expectChat(again);
      expect(await again.getByTestId('me').textContent()).toBe(nameA);

      // Not remembered: kept for this tab (a reload), gone with a restarted browser.
      const other = await newContext();
      const once = await newTab(other);
      await logIn(once, nameB, false);
      expect(await stored(once, 'localStorage')).toBeNull();
      expect(await stored(once, 'sessionStorage')).not.toBeNull();
      await once.reload();
      await expectChat(once);
      const gone = await newTab(await newContext(await other.storageState()));
      await gone.goto(base);
      await gone.getByTestId('auth-view').waitFor({ state: 'visible' });

      for (const page of [again, once, gone]) await page.close();
    }));

  it('web sessions - the access token is renewed before it expires in two tabs of one remembered session and in a duplicated tab-only session, and the pages keep working past the first expiry', () =>
    withLogs(stack, async () => {
      const ctx = await newContext();
      const one = await newTab(ctx);
      await logIn(one, nameA, true);
      const two = await newTab(ctx);
      await two.goto(base);
      await expectChat(two);
      // A tab-only session in another browser, with a duplicated tab (which copies sessionStorage,
      // so both hold the same refresh token without sharing storage).
      const other = await newContext();
      const solo = await newTab(other);
      await logIn(solo, nameA, false);
      const copied = (await solo.evaluate(() =>
        (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('chat.session'),
      ))!;
      const dup = await other.newPage();
      dup.on('pageerror', (err) => pageErrors.push(String(err)));
      await dup.addInitScript((value) => {
        const store = (
          globalThis as unknown as { sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } }
        ).sessionStorage;
        if (!store.getItem('chat.session')) store.setItem('chat.session', value);
      }, copied);
      await dup.goto(base);
      await expectChat(dup);
      const first = (await stored(one, 'localStorage'))!;
      const firstExpiry = Date.parse(first.expiresAt);
      const soloFirst = (await stored(solo, 'sessionStorage'))!;

      // Past the first token's expiry (and so past at least one renewal): still in, still online.
      await until(
        'the stored access token is renewed and the first one has expired',
        async () => Date.now() > firstExpiry + 3000 && (await stored(one, 'localStorage'))?.accessToken !== first.accessToken,
        ACCESS_TOKEN_TTL_S * 3 * 1000,
      );
      const renewed = (await stored(one, 'localStorage'))!;
      expect(renewed.sessionId).toBe(first.sessionId);
      expect(renewed.refreshToken).not.toBe(first.refreshToken);
      for (const page of [one, two]) await expectChat(page);
      // The duplicated tab-only session was renewed once for both tabs (a used refresh token
      // presented by the other would have revoked it): both are still in, and reload.
      await until(
        'both tabs of the tab-only session hold its renewed token',
        async () =>
          (await stored(solo, 'sessionStorage'))?.accessToken !== soloFirst.accessToken &&
          (await stored(solo, 'sessionStorage'))?.refreshToken === (await stored(dup, 'sessionStorage'))?.refreshToken,
      );
      for (const page of [solo, dup]) {
        await expectChat(page);
        await page.reload();
        await expectChat(page);
      }
      await other.close();

      // Both tabs still receive and send (their connections were re-authenticated in band).
      await one.getByTestId(`open-${roomId}`).click();
      await two.getByTestId(`open-${roomId}`).click();
      const text = `过期之后 ${suffix()}`;
      await asB((c) => c.request('message.send', { roomId, clientMsgId: `t-${suffix()}`, body: text }));
      for (const page of [one, two]) await message(page, text).waitFor();
      const reply = `我还在 ${suffix()}`;
      await two.getByTestId('message-input').fill(reply);
      await two.getByTestId('message-input').press('Enter');
      await message(one, reply).waitFor();
      expect(await two.locator('[data-testid="pending-message"][data-state="failed"]').count()).toBe(0);
      // A reload after the renewals uses the latest tokens (a used refresh token would end the session).
      await two.reload();
      await expectChat(two);
      await one.close();
      await two.close();
    }));

  it('web sessions - log out everywhere signs out the other tab and the other device, each with a notice', () =>
    withLogs(stack, async () => {
      const ctx = await newContext();
      const here = await newTab(ctx);
      await logIn(here, nameA, true);
      const otherTab = await newTab(ctx);
      await otherTab.goto(base);
      await expectChat(otherTab);
      const device = await newTab(await newContext());
      await logIn(device, nameA, false);

      await here.getByTestId('open-settings').click();
      await here.getByTestId('settings-dialog').waitFor();
      await until('both sessions are listed, this one marked', async () => (await here.getByTestId('session').count()) >= 2);
      expect(await here.locator('[data-testid="session"][data-current="true"]').count()).toBe(1);
      await shot(here, 'settings-dialog');
      await here.getByTestId('logout-all').click();

      await expectSignedOut(here, /logged out everywhere/);
      await expectSignedOut(otherTab, /logged out|signed out/i);
      await expectSignedOut(device, /signed out/i);
      await shot(device, 'signed-out-elsewhere');
      expect(await stored(here, 'localStorage')).toBeNull();
      // The ended session cannot come back with a reload.
      await otherTab.reload();
      await otherTab.getByTestId('auth-view').waitFor({ state: 'visible' });
      for (const page of [here, otherTab, device]) await page.close();
    }));

  it('web sessions - revoking a device in the session list signs that device out', () =>
    withLogs(stack, async () => {
      const mine = await newTab(await newContext());
      await logIn(mine, nameA, false);
      const other = await newTab(await newContext());
      await logIn(other, nameA, false);

      await mine.getByTestId('open-settings').click();
      const others = mine.locator('[data-testid="session"][data-current="false"]');
      await until('the other session is listed', async () => (await others.count()) >= 1);
      const otherId = (await stored(other, 'sessionStorage'))!.sessionId;
      await mine.locator(`[data-testid="session"][data-session-id="${otherId}"]`).getByTestId('session-revoke').click();
      await expectSignedOut(other, /signed out/i);
      await until('the list no longer has it', async () => (await mine.locator(`[data-session-id="${otherId}"]`).count()) === 0);
      await expectChat(mine);
      for (const page of [mine, other]) await page.close();
    }));

  it('web sessions - changing the password signs out the other devices, keeps this one, and the new password logs in', () =>
    withLogs(stack, async () => {
      const name = `pw_${suffix()}`;
      const next = `新的密码 ${suffix()}`;
      await register(base, name, PASSWORD);
      const here = await newTab(await newContext());
      await logIn(here, name, true);
      const other = await newTab(await newContext());
      await logIn(other, name, false);

      await here.getByTestId('open-settings').click();
      await here.getByTestId('current-password').fill(PASSWORD);
      await here.getByTestId('new-password').fill(next);
      await here.getByTestId('new-password-again').fill(`${next}!`);
      await here.getByTestId('change-password').click();
      await here.locator('[data-testid="password-error"][data-code="BAD_REQUEST"]').waitFor();
      await here.getByTestId('new-password-again').fill(next);
      await here.getByTestId('change-password').click();
      await here.locator('[data-testid="notice"]').filter({ hasText: 'Password changed' }).waitFor();

      await expectSignedOut(other, /signed out/i);
      await here.getByTestId('dialog-close').click();
      await expectChat(here);
      // The old password no longer logs in; the new one does.
      await other.getByTestId('password').fill(PASSWORD);
      await other.getByTestId('login').click();
      await other.locator('[data-testid="auth-error"][data-code="AUTH_FAILED"]').waitFor();
      await other.getByTestId('password').fill(next);
      await other.getByTestId('login').click();
      await expectChat(other);
      for (const page of [here, other]) await page.close();
    }));

  it('web sessions - an administrator disabling the account closes its pages at once with a notice (4411); login says so', () =>
    withLogs(stack, async () => {
      const name = `off_${suffix()}`;
      await register(base, name, PASSWORD);
      const page = await newTab(await newContext());
      await logIn(page, name, true);
      const adminToken = (await login(base, nameB, PASSWORD)).accessToken;
      const res = await fetch(new URL('/api/admin/users/disable', base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ username: name, reason: '测试' }),
      });
      expect(res.status).toBeLessThan(300);
      await expectSignedOut(page, /disabled by a server administrator/);
      expect(await page.getByTestId('auth-notice').getAttribute('data-code')).toBe('ACCOUNT_DISABLED');
      await shot(page, 'account-disabled');
      await page.getByTestId('password').fill(PASSWORD);
      await page.getByTestId('login').click();
      await page.locator('[data-testid="auth-error"][data-code="ACCOUNT_DISABLED"]').waitFor();
      await page.close();
    }));

  it('web sessions - deleting the account warns what happens, needs the password, and the name can no longer log in', () =>
    withLogs(stack, async () => {
      const name = `gone_${suffix()}`;
      await register(base, name, PASSWORD);
      const page = await newTab(await newContext());
      await logIn(page, name, true);
      await page.getByTestId('open-settings').click();
      const warning = await page.getByTestId('delete-warning').textContent();
      expect(warning).toContain('stay in the rooms, under your name');
      expect(warning).toContain('name stays taken');

      await page.getByTestId('delete-password').fill('not the password');
      await page.getByTestId('delete-account').click();
      await page.locator('[data-testid="delete-error"][data-code="AUTH_FAILED"]').waitFor();
      await shot(page, 'delete-account');
      await page.getByTestId('delete-password').fill(PASSWORD);
      await page.getByTestId('delete-account').click();
      await expectSignedOut(page, /deleted/);

      await page.getByTestId('username').fill(name);
      await page.getByTestId('password').fill(PASSWORD);
      await page.getByTestId('login').click();
      await page.locator('[data-testid="auth-error"][data-code="AUTH_FAILED"]').waitFor();
      // The refusal offers registration (as to a newcomer): the name is taken for good.
      await page.getByTestId('auth-error-register').click();
      await page.getByTestId('password').fill(PASSWORD);
      await page.getByTestId('password-again').fill(PASSWORD);
      await page.getByTestId('register').click();
      await page.locator('[data-testid="auth-error"][data-code="USERNAME_TAKEN"]').waitFor();
      await page.close();
    }));
});
