import { type Locator, type Page } from 'playwright-core';
import { BrowserUsers, openRoomId, suffix, until, withLogs } from './browser-users';
import { startTestStack, type TestStack } from './fixture';

// Rooms, invitations, moderation and private conversations in the web client, as two people
// use them: two browser contexts (Debian's Chromium driven by playwright-core) against the
// whole stack started as separate processes from the built services. The tests run in order
// and share the two users. Both browsers are Chinese (zh-CN): the notices are checked in Chinese.

jest.setTimeout(180_000);
// Under CI's load (two files with their stacks and browsers on two cores) one test of this file
// has missed a live update within its 30 s wait in fresh-clone runs while passing every run
// alone: retried once, with the first failure printed, so a race stays visible in the log.
jest.retryTimes(1, { logErrorsBeforeRetry: true });

const messageWith = (page: Page, text: string): Locator =>
  page.getByTestId('message-list').getByTestId('message-body').filter({ hasText: text });
const notice = (page: Page, text: string) => page.getByTestId('notice').filter({ hasText: text });
/** The room header's meta says two members, in whichever words (the count is the one number in it). */
const twoMembers = (meta: string | null) => /(^|\D)2(\D|$)/.test(meta ?? '');

describe('web client: rooms, invitations, moderation and conversations (browser e2e)', () => {
  const nameA = `阿明_${suffix()}`;
  const nameB = `bea_${suffix()}`;
  let stack: TestStack | undefined;
  let base: string;
  const browser = new BrowserUsers();
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.urls.gateway;
    await browser.launch();
    [a, b] = await browser.registered(base, nameA, nameB);
  });

  afterAll(async () => {
    await browser.close();
    await stack?.teardown();
  });

  async function createRoom(
    page: Page,
    o: { roomId: string; name: string; visibility?: 'public' | 'private'; postPolicy?: 'members' | 'admins'; topic?: string },
  ) {
    await page.getByTestId('open-create-room').click();
    const dialog = page.getByTestId('create-room-dialog');
    await dialog.waitFor();
    expect(await dialog.getByTestId('new-room-limit').inputValue()).toBe('50');
    await dialog.getByTestId('new-room-name').fill(o.name);
    await dialog.getByTestId('new-room-advanced').click(); // the id waits under "Advanced"
    await dialog.getByTestId('new-room-id').fill(o.roomId);
    if (o.topic) await dialog.getByTestId('new-room-topic').fill(o.topic);
    await dialog.getByTestId('new-room-visibility').selectOption(o.visibility ?? 'public');
    await dialog.getByTestId('new-room-post-policy').selectOption(o.postPolicy ?? 'members');
    await dialog.getByTestId('create-room').click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator(`[data-testid="room-${o.roomId}"][data-role="owner"]`).waitFor();
    await until('the new room is open', async () => (await openRoomId(page)) === o.roomId);
  }

  async function send(page: Page, text: string) {
    await page.getByTestId('message-input').fill(text);
    await page.getByTestId('send').click();
  }

  async function openPanel(page: Page, panel: 'members' | 'details') {
    const button = page.getByTestId(panel === 'members' ? 'show-members' : 'show-details');
    if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
    await page.getByTestId('side-panel').waitFor();
  }

  const privateRoom = `secret-${suffix()}`;

  it('web rooms - a private room: the owner invites by username, the invitee accepts live, both see each other’s posts', () =>
    withLogs(stack, async () => {
      await createRoom(a, { roomId: privateRoom, name: `机密小组 ${privateRoom}`, visibility: 'private', topic: '只限受邀者' });
      expect(await a.getByTestId(`room-${privateRoom}`).getAttribute('data-role')).toBe('owner');
      expect(await a.getByTestId('room-meta').textContent()).toContain('只限受邀者');

      await openPanel(a, 'members');
      await a.getByTestId(`member-${nameA}`).waitFor();
      await a.getByTestId('invite-username').fill(nameB);
      await a.getByTestId('invite-send').click();
      await notice(a, `已邀请 ${nameB}`).waitFor();

      // B's page was open all along: the invitation arrives live.
      const invitation = b.getByTestId(`invitation-${privateRoom}`);
      await invitation.waitFor();
      expect(await invitation.textContent()).toContain('机密小组');
      expect(await invitation.textContent()).toContain(nameA);
      await b.getByTestId(`accept-${privateRoom}`).click();
      await b.locator(`[data-testid="room-${privateRoom}"][data-member="true"]`).waitFor();
      await until('B has the room open', async () => (await openRoomId(b)) === privateRoom);
      await invitation.waitFor({ state: 'detached' });

      // A sees the new member in the open members panel.
      await a.getByTestId(`member-${nameB}`).waitFor();
      const fromA = `欢迎加入！${suffix()}`;
      await send(a, fromA);
      await messageWith(b, fromA).waitFor();
      const fromB = `谢谢邀请 ${suffix()}`;
      await send(b, fromB);
      await messageWith(a, fromB).waitFor();
    }));

  it('web rooms - the owner kicks a member: the kicked user’s page drops the room with a notice', () =>
    withLogs(stack, async () => {
      await openPanel(a, 'members');
      const row = a.getByTestId(`member-${nameB}`);
      await row.getByTestId('member-menu').click();
      await row.getByTestId('member-kick').click();
      await row.getByTestId('sanction-reason').fill('测试踢出');
      await row.getByTestId('sanction-confirm').click();
      await row.waitFor({ state: 'detached' });

      await notice(b, '将你移出了').waitFor();
      await b.getByTestId(`room-${privateRoom}`).waitFor({ state: 'detached' });
      await until('B no longer has the room open', async () => (await openRoomId(b)) !== privateRoom);
      expect(await b.getByTestId('message-input').isEnabled()).toBe(false);
    }));

  let conversation = '';

  it('web rooms - a private message by username reaches the other user live and lists the conversation for both', () =>
    withLogs(stack, async () => {
      const text = `你好 ${nameB}，私聊一下 ${suffix()}`;
      await a.getByTestId('open-new-dm').click();
      const dialog = a.getByTestId('new-dm-dialog');
      await dialog.getByTestId('dm-username').fill(nameB);
      await dialog.getByTestId('dm-body').fill(text);
      await dialog.getByTestId('dm-send').click();
      await dialog.waitFor({ state: 'detached' });
      await until('A has the conversation open', async () => (await a.getByTestId('room-view').getAttribute('data-kind')) === 'direct');
      conversation = (await openRoomId(a)) ?? '';
      expect(conversation).toMatch(/^dm-[0-9a-f]{40}$/);
      expect(await a.getByTestId('room-name').textContent()).toContain(nameB);
      await messageWith(a, text).waitFor();
      await a.getByTestId(`conversation-${nameB}`).waitFor();

      // B never opened it: it appears in B's list with the message as preview, live.
      const entry = b.getByTestId(`conversation-${nameA}`);
      await entry.waitFor();
      await until('B’s preview shows the message', async () =>
        (await entry.getByTestId('conversation-preview').textContent())?.includes(text),
      );
      await entry.getByTestId('open-conversation').click();
      await until('B has the conversation open', async () => (await openRoomId(b)) === conversation);
      await messageWith(b, text).waitFor();

      const reply = `收到！${suffix()}`;
      await send(b, reply);
      await messageWith(a, reply).waitFor();
      await until('A’s preview shows the reply', async () =>
        (await a.getByTestId(`conversation-${nameB}`).getByTestId('conversation-preview').textContent())?.includes(reply),
      );
    }));

  it('web rooms - blocking refuses the next private message with a visible BLOCKED error; unblocking allows it again', () =>
    withLogs(stack, async () => {
      await until('B has the conversation open', async () => (await openRoomId(b)) === conversation);
      await b.getByTestId('block-peer').click();
      await b.locator('[data-testid="block-peer"][data-blocked="true"]').waitFor();
      await b.getByTestId(`conversation-${nameA}`).getByTestId('conversation-blocked').waitFor();

      const refused = `这条会被拒绝 ${suffix()}`;
      await until('A has the conversation open', async () => (await openRoomId(a)) === conversation);
      await send(a, refused);
      const failed = a.locator('[data-testid="pending-message"][data-state="failed"]').filter({ hasText: refused });
      await failed.waitFor();
      expect(await failed.getByTestId('send-error').getAttribute('data-code')).toBe('BLOCKED');
      // Said as a sentence in the page's language, never as the code.
      expect(await failed.getByTestId('send-error').textContent()).toContain('屏蔽');
      expect(await failed.getByTestId('send-error').textContent()).not.toContain('BLOCKED');
      await a.getByTestId('dismiss-failed').click();

      // The blocker cannot write either while the block stands.
      const alsoRefused = `我也发不出去 ${suffix()}`;
      await send(b, alsoRefused);
      await b.locator('[data-testid="pending-message"][data-state="failed"]').filter({ hasText: alsoRefused }).waitFor();
      await b.getByTestId('dismiss-failed').click();

      await b.getByTestId('block-peer').click();
      await b.locator('[data-testid="block-peer"][data-blocked="false"]').waitFor();
      await b.getByTestId(`conversation-${nameA}`).getByTestId('conversation-blocked').waitFor({ state: 'detached' });
      const allowed = `解除屏蔽后 ${suffix()}`;
      await send(a, allowed);
      await messageWith(b, allowed).waitFor();
      expect(await messageWith(b, refused).count()).toBe(0);
    }));

  const publicRoom = `duck-${suffix()}`;
  const publicName = `北京烤鸭爱好者 ${publicRoom}`;

  it('web rooms - the directory finds a public room by part of its Chinese name, with its member count, and joins it', () =>
    withLogs(stack, async () => {
      await createRoom(a, { roomId: publicRoom, name: publicName, visibility: 'public' });

      await b.getByTestId('open-directory').click();
      const dialog = b.getByTestId('directory-dialog');
      await dialog.getByTestId('directory-query').fill('烤鸭爱好');
      const item = dialog.getByTestId(`directory-room-${publicRoom}`);
      await item.waitFor();
      expect(await item.getByTestId('directory-room-name').textContent()).toContain(publicName);
      expect(await item.getByTestId('directory-member-count').textContent()).toContain('1 位成员');
      // A query that matches nothing lists nothing.
      await dialog.getByTestId('directory-query').fill(`没有这个房间 ${suffix()}`);
      await item.waitFor({ state: 'detached' });
      await dialog.getByTestId('directory-query').fill('烤鸭');
      await item.getByTestId(`directory-join-${publicRoom}`).click();
      await dialog.waitFor({ state: 'detached' });
      await b.locator(`[data-testid="room-${publicRoom}"][data-member="true"]`).waitFor();
      await until('B has the room open', async () => (await openRoomId(b)) === publicRoom);
      await until('A sees two members', async () => twoMembers(await a.getByTestId('room-meta').textContent()));
    }));

  it('web rooms - an announcement room: a plain member cannot write until the owner makes them an admin', () =>
    withLogs(stack, async () => {
      await until('A has the public room open', async () => (await openRoomId(a)) === publicRoom);
      await openPanel(a, 'details');
      await a.getByTestId('settings-post-policy').selectOption('admins');
      await a.getByTestId('settings-topic').fill('只发公告');
      await a.getByTestId('settings-save').click();
      await a.getByTestId('settings-saved').waitFor();

      // B sees the new settings live: the topic in the header and a disabled composer with a note.
      await until('B sees the topic', async () => (await b.getByTestId('room-meta').textContent())?.includes('只发公告'));
      await b.getByTestId('composer-note').waitFor();
      await until('B’s composer is disabled', async () => !(await b.getByTestId('message-input').isEnabled()));

      await openPanel(a, 'members');
      await a.getByTestId(`member-${nameB}`).getByTestId('member-menu').click();
      await a.getByTestId(`member-${nameB}`).getByTestId('member-make-admin').click();
      await a.locator(`[data-testid="member-${nameB}"][data-role="admin"]`).waitFor();
      await until('B’s composer is enabled', () => b.getByTestId('message-input').isEnabled());
      await b.locator(`[data-testid="room-${publicRoom}"][data-role="admin"]`).waitFor();
      const text = `公告：明天开会 ${suffix()}`;
      await send(b, text);
      await messageWith(a, text).waitFor();

      await a.getByTestId(`member-${nameB}`).getByTestId('member-menu').click();
      await a.getByTestId(`member-${nameB}`).getByTestId('member-make-member').click();
      await until('B’s composer is disabled again', async () => !(await b.getByTestId('message-input').isEnabled()));
    }));

  it('web rooms - a ban removes the member with a notice, refuses their join with BANNED, and unban lets them back', () =>
    withLogs(stack, async () => {
      await openPanel(a, 'members');
      const row = a.getByTestId(`member-${nameB}`);
      await row.getByTestId('member-menu').click();
      await row.getByTestId('member-ban').click();
      await row.getByTestId('sanction-reason').fill('刷屏');
      await row.getByTestId('sanction-confirm').click();
      await row.waitFor({ state: 'detached' });
      await a.getByTestId(`ban-${nameB}`).waitFor();

      await notice(b, '封禁了你').waitFor();
      await until('B no longer has the room open', async () => (await openRoomId(b)) !== publicRoom);

      // Joining from the directory is refused, visibly, with the typed error.
      await b.getByTestId('open-directory').click();
      const dialog = b.getByTestId('directory-dialog');
      await dialog.getByTestId('directory-query').fill('烤鸭');
      await dialog.getByTestId(`directory-join-${publicRoom}`).click();
      await dialog.locator('[data-testid="directory-join-error"][data-code="BANNED"]').waitFor();
      await dialog.getByTestId('dialog-close').click();

      await a.getByTestId(`ban-${nameB}`).getByTestId('unban').click();
      await a.getByTestId(`ban-${nameB}`).waitFor({ state: 'detached' });
      await b.getByTestId('open-directory').click();
      await b.getByTestId('directory-query').fill('烤鸭');
      await b.getByTestId(`directory-join-${publicRoom}`).click();
      await b.locator(`[data-testid="room-${publicRoom}"][data-member="true"]`).waitFor();
    }));

  it('web rooms - a refused request shows its code and message (plain member cannot kick; inviting a stranger)', () =>
    withLogs(stack, async () => {
      // A invites a user who does not exist: NOT_FOUND, shown next to the form.
      await openPanel(a, 'members');
      await a.getByTestId('invite-username').fill(`nobody_${suffix()}`);
      await a.getByTestId('invite-send').click();
      const error = a.locator('[data-testid="invite-error"][data-code="NOT_FOUND"]');
      await error.waitFor();
      expect(await error.textContent()).toContain('未找到');
      expect(await error.textContent()).not.toContain('NOT_FOUND');
      // B is a plain member: no actions on anyone, and the settings are read-only.
      await until('B has the public room open', async () => (await openRoomId(b)) === publicRoom);
      await openPanel(b, 'members');
      await b.getByTestId(`member-${nameA}`).waitFor();
      expect(await b.getByTestId(`member-${nameA}`).getByTestId('member-kick').count()).toBe(0);
      expect(await b.getByTestId('invite-form').count()).toBe(0);
    }));

  it('web rooms - ownership passes both ways: each side sees its new role live', () =>
    withLogs(stack, async () => {
      await openPanel(a, 'members');
      const row = a.getByTestId(`member-${nameB}`);
      await row.getByTestId('member-menu').click();
      await row.getByTestId('member-transfer').click();
      await row.getByTestId('transfer-confirm').click();
      await b.locator(`[data-testid="room-${publicRoom}"][data-role="owner"]`).waitFor();
      await a.locator(`[data-testid="room-${publicRoom}"][data-role="admin"]`).waitFor();
      await a.locator(`[data-testid="member-${nameB}"][data-role="owner"]`).waitFor();
      await notice(b, '你现在是').waitFor();

      // B, now the owner, gives it back (from B's members panel, which follows B's new role).
      await openPanel(b, 'members');
      const back = b.getByTestId(`member-${nameA}`);
      await back.getByTestId('member-menu').click();
      await back.getByTestId('member-transfer').click();
      await back.getByTestId('transfer-confirm').click();
      await a.locator(`[data-testid="room-${publicRoom}"][data-role="owner"]`).waitFor();
      await b.locator(`[data-testid="room-${publicRoom}"][data-role="admin"]`).waitFor();
    }));

  it('web rooms - a declined invitation disappears, and the private room stays out of the invitee’s directory', () =>
    withLogs(stack, async () => {
      const roomId = `quiet-${suffix()}`;
      const name = `悄悄话 ${roomId}`;
      await createRoom(a, { roomId, name, visibility: 'private' });
      await openPanel(a, 'members');
      await a.getByTestId('invite-username').fill(nameB);
      await a.getByTestId('invite-send').click();
      await b.getByTestId(`invitation-${roomId}`).waitFor();
      await b.getByTestId(`decline-${roomId}`).click();
      await b.getByTestId(`invitation-${roomId}`).waitFor({ state: 'detached' });

      await b.getByTestId('open-directory').click();
      const dialog = b.getByTestId('directory-dialog');
      await dialog.getByTestId('directory-query').fill(roomId);
      await until('the search answered', async () =>
        (await dialog.getByTestId('directory-total').textContent())?.includes('没有匹配的公开房间'),
      );
      expect(await dialog.getByTestId(`directory-room-${roomId}`).count()).toBe(0);
      await dialog.getByTestId('dialog-close').click();
      expect(await b.getByTestId(`room-${roomId}`).count()).toBe(0);

      // Inviting again renews it: B sees it live once more.
      await a.getByTestId('invite-username').fill(nameB);
      await a.getByTestId('invite-send').click();
      await b.getByTestId(`invitation-${roomId}`).waitFor();
      await a.getByTestId(`open-${publicRoom}`).click();
    }));

  it('web rooms - when the owner leaves, the remaining member becomes the owner and is told so', () =>
    withLogs(stack, async () => {
      const roomId = `relay-${suffix()}`;
      await createRoom(a, { roomId, name: `接力 ${roomId}` });
      await b.getByTestId('refresh-rooms').click();
      await b.getByTestId(`join-${roomId}`).click();
      await b.locator(`[data-testid="room-${roomId}"][data-member="true"]`).waitFor();
      await until('A sees two members', async () => twoMembers(await a.getByTestId('room-meta').textContent()));

      await openPanel(a, 'details');
      await a.getByTestId('details-leave').click();
      await a.locator(`[data-testid="room-${roomId}"][data-member="false"]`).waitFor();
      await notice(b, '你现在是它的所有者').waitFor();
      await b.locator(`[data-testid="room-${roomId}"][data-role="owner"]`).waitFor();
      await a.getByTestId(`open-${publicRoom}`).click();
      await b.getByTestId(`open-${publicRoom}`).click();
    }));

  it('web rooms - the owner deletes the room after confirming: it disappears for the member with a notice', () =>
    withLogs(stack, async () => {
      await openPanel(a, 'details');
      await a.getByTestId('delete-room').click();
      await a.getByTestId('delete-room-confirm').click();
      await a.getByTestId(`room-${publicRoom}`).waitFor({ state: 'detached' });
      await notice(b, '删除了').waitFor();
      await b.getByTestId(`room-${publicRoom}`).waitFor({ state: 'detached' });
      await until('B no longer has the room open', async () => (await openRoomId(b)) !== publicRoom);

      await b.screenshot({ path: '/tmp/web-rooms-e2e.png' });
      expect(browser.pageErrors).toEqual([]);
    }));
});
