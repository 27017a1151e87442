import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { eventually } from '@chat/testing';
import { launchChromium } from './browser';
import { logTail, type TestStack } from './fixture';

// What the browser tests of the web client share: people, each in a browser context of their
// own in Debian's Chromium, signed in through the page as a person would; waiting with a
// message that names what was awaited; and the services' logs on a failure.

export const PASSWORD = 'correct horse battery';
/** How long a page waits for anything (playwright's default timeout, and `until`'s). */
export const WAIT_MS = 30_000;

/** A short random tag that keeps names and texts apart between runs. */
export const suffix = () => randomBytes(3).toString('hex');

/** Waits until `fn` holds (checked by polling), with a message naming what was awaited. */
export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = WAIT_MS): Promise<NonNullable<T>> {
  try {
    return await eventually(fn, timeoutMs, 50);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
}

/** The message (its whole list item) whose text contains `text`. */
export const message = (page: Page, text: string): Locator =>
  page
    .getByTestId('message-list')
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-body').filter({ hasText: text }) });

/** The id of the room the page has open. */
export const openRoomId = (page: Page) => page.getByTestId('room-view').getAttribute('data-room-id');

/** SHOTS_DIR=<dir> saves screenshots there: `name`.png of the page as it is now. */
export async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.SHOTS_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/**
 * Debian's Chromium, with a browser context per page (one person, or one device: nothing is
 * shared between them) at 1280×800 in Chinese. Every page's uncaught errors are collected in
 * `pageErrors`.
 */
export class BrowserUsers {
  readonly pageErrors: string[] = [];
  private browser: Browser | undefined;
  private readonly contexts: BrowserContext[] = [];

  async launch(): Promise<void> {
    this.browser = await launchChromium();
  }

  async newPage(): Promise<Page> {
    if (!this.browser) throw new Error('BrowserUsers.newPage before launch');
    const ctx = await this.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    this.contexts.push(ctx);
    ctx.setDefaultTimeout(WAIT_MS);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => this.pageErrors.push(String(err)));
    return page;
  }

  /**
   * A page in a context of its own with the browser's language `locale` (e.g. 'en-US': the
   * page's language follows navigator.languages) and the given viewport (1280×800 unless told).
   */
  async newPageIn(locale: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
    if (!this.browser) throw new Error('BrowserUsers.newPageIn before launch');
    const ctx = await this.browser.newContext({ viewport, locale });
    this.contexts.push(ctx);
    ctx.setDefaultTimeout(WAIT_MS);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => this.pageErrors.push(String(err)));
    return page;
  }

  /** A page for each name, registered through the web client's form at `base` (in that order). */
  async registered(base: string, ...names: string[]): Promise<Page[]> {
    const pages: Page[] = [];
    for (let i = 0; i < names.length; i++) pages.push(await this.newPage());
    for (let i = 0; i < names.length; i++) await signIn(pages[i], base, names[i], 'register');
    return pages;
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => undefined);
    await this.browser?.close().catch(() => undefined);
  }
}

/**
 * Fills in the login form (`login`) or the registration form (`register`: reached from the login
 * form by its link, with the password repeated) and submits it.
 */
export async function submitAuth(page: Page, kind: 'register' | 'login', name: string, password = PASSWORD): Promise<void> {
  const mode = await page.getByTestId('auth-form').getAttribute('data-mode');
  // After a refused login the way to registration is the link in the error (the one under the
  // form is hidden meanwhile).
  const toRegister = (await page.getByTestId('auth-error-register').isVisible()) ? 'auth-error-register' : 'show-register';
  if (mode !== kind) await page.getByTestId(kind === 'register' ? toRegister : 'show-login').click();
  await page.getByTestId('username').fill(name);
  await page.getByTestId('password').fill(password);
  if (kind === 'register') await page.getByTestId('password-again').fill(password);
  await page.getByTestId(kind).click();
}

/** Registers or logs in `name` through the web client's form at `base`, until the chat is online. */
export async function signIn(page: Page, base: string, name: string, kind: 'register' | 'login'): Promise<void> {
  await page.goto(base);
  await submitAuth(page, kind, name);
  await page.getByTestId('chat-view').waitFor({ state: 'visible' });
  await page.locator('[data-testid="conn-status"][data-state="online"]').waitFor({ state: 'attached' });
}

/** Runs a test's steps; on a failure the end of the services' logs helps more than a timeout alone. */
export async function withLogs(stack: TestStack | undefined, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const logs = ['gateway', 'rooms', 'history'].map((s) => `--- ${s}\n${stack ? logTail(stack, s, 15) : ''}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
}
