import { WebSocket } from 'ws';
import type { Page } from 'playwright-core';
import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { BrowserUsers, PASSWORD, message, signIn, suffix, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// Formatted messages in the web client (docs/protocol.md, "Formatting"): what A writes through
// the protocol client shows in B's Chromium with its markup (bold, code, quote, list, link,
// mention, emoji), raw HTML stays text and runs nothing, an edit re-renders, and B's own
// message, first drawn plainly from the send's reply, is formatted once the stored copy arrives.

jest.setTimeout(240_000);

describe('web client: formatted messages (browser e2e)', () => {
  const nameA = `ann_${suffix()}`;
  const nameB = `小明${suffix()}`;
  const roomId = `fmt-${suffix()}`;
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let a: ChatClient | undefined;
  let b: Page;

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
      await a.request('room.create', { roomId, name: `格式 ${roomId}`, visibility: 'private' });
      await a.request('room.invite', { roomId, username: nameB });
      await bc.request('invitation.accept', { roomId });
    } finally {
      await bc.close();
    }
    await browser.launch();
    b = await browser.newPage();
    await signIn(b, base, nameB, 'login');
    await b.getByTestId(`open-${roomId}`).click();
  });

  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await browser.close();
    await stack?.teardown();
  });

  afterEach(() => {
    expect(browser.pageErrors).toEqual([]);
  });

  it('web formatting - markdown, a mention of the reader and emoji are drawn; HTML in the text stays text; an edit is drawn again', () =>
    withLogs(stack, async () => {
      const tag = suffix();
      const body = [
        `**粗体** _italic_ ~~gone~~ \`<code>\` @${nameB} :tada: ${tag}`,
        '> quoted',
        '',
        '- one',
        '- [two](https://example.com/two)',
        '',
        '<img src=x onerror="window.__xss=1"> [bad](javascript:window.__xss=2)',
      ].join('\n');
      const ack = await a!.request('message.send', { roomId, clientMsgId: `f-${tag}`, body });
      const m = message(b, tag);
      const text = m.getByTestId('message-body');
      await text.locator('strong').waitFor();
      expect(await text.locator('strong').textContent()).toBe('粗体');
      expect(await text.locator('em').textContent()).toBe('italic');
      expect(await text.locator('s').textContent()).toBe('gone');
      expect(await text.locator('code').textContent()).toBe('<code>');
      expect(await text.locator('blockquote').textContent()).toContain('quoted');
      expect(await text.locator('ul > li').allTextContents()).toEqual(['one', 'two']);
      const link = m.getByTestId('message-link');
      expect(await link.getAttribute('href')).toBe('https://example.com/two');
      expect(await link.getAttribute('target')).toBe('_blank');
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      const mention = m.getByTestId('mention');
      expect(await mention.textContent()).toBe(`@${nameB}`);
      expect(await mention.getAttribute('class')).toBe('mention me');
      expect(await text.textContent()).toContain('🎉');
      // Raw HTML and a javascript: link are shown as typed and never run.
      expect(await text.locator('img').count()).toBe(0);
      expect(await text.textContent()).toContain('<img src=x onerror="window.__xss=1"> [bad](javascript:window.__xss=2)');
      expect(await b.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();

      await a!.request('message.edit', { roomId, messageId: ack.messageId, body: `now \`code\` only ${tag}` });
      await text.locator('strong').waitFor({ state: 'detached' });
      expect(await text.locator('code').textContent()).toBe('code');
    }));

  it("web formatting - the reader's own message is formatted once the stored copy arrives", () =>
    withLogs(stack, async () => {
      const tag = suffix();
      await b.getByTestId('message-input').fill(`**mine** ${tag}`);
      await b.getByTestId('message-input').press('Enter');
      const text = message(b, tag).getByTestId('message-body');
      await until('the own message is formatted', async () => (await text.locator('strong').count()) === 1);
      expect(await text.textContent()).toBe(`mine ${tag}`);
    }));
});
