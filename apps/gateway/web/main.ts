import { ChatClient, ChatClientError, login, register, wsUrlOf, type AuthLost, type StateChange } from '@chat/client';
import type { ErrorBody, HistoryPage, MessageView, SettableStatus, PresenceView, RoomSummary, WsEvents, WsOps } from '@chat/contracts';
import { clearSession, loadSession, newClientMsgId, prefs, saveSession, type Session } from './session';
import { Timeline } from './timeline';

// The web client, bundled with libs/client by scripts/build-web.mjs into public/bundle/app.js.
// The protocol (frames, request ids, auth, reconnecting with back-off) is the client's; this is
// the page. All user-provided text reaches the DOM through textContent or attributes, never as HTML.

const PAGE_SIZE = 50;
/** After a reconnect, older pages fetched at most to close the gap to what we had; beyond it the view restarts at the newest page. */
const MAX_CATCH_UP_PAGES = 10;
/** Send errors worth retrying with the same clientMsgId (the server de-duplicates the resend). */
const RETRYABLE = new Set(['UNAVAILABLE', 'RATE_LIMITED', 'CONFLICT']);
const DEFAULT_ROOM = 'general';
/**
 * History is projected from the stream asynchronously and can lag it by a moment, so a message
 * posted just before this connection's live subscription started may be missing from the
 * newest page read right after (re)connecting. The newest page is read again after these delays.
 */
const SETTLE_DELAYS_MS = [1000, 4000];

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

type Props = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;
type Child = Node | string | null | undefined | false;

/** Creates an element; `text` is set with textContent. */
function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'testid') el.dataset.testid = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** An error as the page shows it: a code, a message, and field details for BAD_REQUEST. */
type ShownError = Pick<ErrorBody, 'code' | 'message' | 'details'>;

/** The page's view of any failure (ChatClientError's message without its `CODE: ` prefix). */
function asShown(err: unknown): ShownError {
  if (err instanceof ChatClientError) return { code: err.code, message: err.reason, details: err.details };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** Fills `el` with a typed error: code, message, and the field details of BAD_REQUEST. */
function showError(el: HTMLElement, e: unknown) {
  if (!e) {
    el.hidden = true;
    el.replaceChildren();
    delete el.dataset.code;
    return;
  }
  const err = asShown(e);
  const code = err.code;
  el.dataset.code = code;
  el.replaceChildren(h('strong', { class: 'code', text: code }), ' ', h('span', { text: err.message }));
  // Field details, unless the message already says exactly that.
  const details = (Array.isArray(err.details) ? err.details : []).filter((d) => (d.problems ?? []).join('; ') !== err.message);
  if (details.length) {
    el.append(h('ul', { class: 'details' }, ...details.map((d) => h('li', { text: `${d.field}: ${(d.problems ?? []).join('; ')}` }))));
  }
  el.hidden = false;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const fmt = (f: Intl.DateTimeFormat, iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : f.format(d);
};

// ---------------------------------------------------------------- state

interface OutboxItem {
  clientMsgId: string;
  roomId: string;
  body: string;
  state: 'queued' | 'sending' | 'failed';
  error: unknown;
  attempts: number;
}

const state = {
  session: null as Session | null,
  client: null as ChatClient | null,
  rooms: new Map<string, RoomSummary>(),
  currentRoomId: null as string | null,
  /** Timelines of the rooms opened in this tab. */
  timelines: new Map<string, Timeline>(),
  /** roomId -> count of messages that arrived while another room was open */
  unread: new Map<string, number>(),
  presence: new Map<string, { view: PresenceView; position: number }>(),
  /** presence events that arrived while presence.list was in flight (applied after it) */
  presenceBuffer: null as Array<[PresenceView, number]> | null,
  status: 'online' as SettableStatus,
  /** Messages not yet acknowledged, in the order they were written. */
  outbox: [] as OutboxItem[],
  /** messageId -> element, for the open room */
  messageEls: new Map<string, HTMLElement>(),
};

const el = {
  authView: $('auth-view'),
  authForm: $('auth-form'),
  username: $<HTMLInputElement>('auth-username'),
  password: $<HTMLInputElement>('auth-password'),
  authError: $('auth-error'),
  registerButton: $<HTMLButtonElement>('register-button'),
  loginButton: $<HTMLButtonElement>('login-button'),
  chatView: $('chat-view'),
  roomView: $('room-view'),
  connStatus: $('conn-status'),
  reconnectNow: $('reconnect-now'),
  meName: $('me-name'),
  meDot: $('me-dot'),
  statusSelect: $<HTMLSelectElement>('status-select'),
  logout: $('logout'),
  roomList: $('room-list'),
  refreshRooms: $('refresh-rooms'),
  createForm: $<HTMLFormElement>('create-room-form'),
  newRoomName: $<HTMLInputElement>('new-room-name'),
  newRoomId: $<HTMLInputElement>('new-room-id'),
  newRoomPrivate: $<HTMLInputElement>('new-room-private'),
  createError: $('create-room-error'),
  roomName: $('room-name'),
  roomMeta: $('room-meta'),
  joinRoom: $('join-room'),
  leaveRoom: $('leave-room'),
  roomError: $('room-error'),
  scroller: $('scroller'),
  loadOlder: $<HTMLButtonElement>('load-older'),
  historyStart: $('history-start'),
  placeholder: $('room-placeholder'),
  messageList: $('message-list'),
  pendingList: $('pending-list'),
  composer: $('composer'),
  input: $<HTMLTextAreaElement>('message-input'),
  send: $<HTMLButtonElement>('send'),
  onlineList: $('online-list'),
  onlineCount: $('online-count'),
  roomsPanel: $('rooms-panel'),
  peoplePanel: $('people-panel'),
  toggleRooms: $('toggle-rooms'),
  togglePeople: $('toggle-people'),
  togglePeopleCount: $('toggle-people-count'),
  scrim: $('scrim'),
};

const me = () => state.session?.user;
/** The client of the logged-in session. */
function client(): ChatClient {
  if (!state.client) throw new ChatClientError('UNAVAILABLE', 'not logged in');
  return state.client;
}
/** The error code of a failure (INTERNAL for anything that is not a ChatClientError). */
const codeOf = (err: unknown) => (err instanceof ChatClientError ? err.code : 'INTERNAL');
const isMember = (roomId: string | null) => !!roomId && !!state.rooms.get(roomId)?.myRole;

// ---------------------------------------------------------------- auth

function showAuth(err?: unknown) {
  el.chatView.hidden = true;
  el.authView.hidden = false;
  showError(el.authError, err ?? null);
  (el.username.value ? el.password : el.username).focus();
}

async function onAuthSubmit(kind: 'login' | 'register') {
  const username = el.username.value;
  const password = el.password.value;
  showError(el.authError, null);
  el.authForm.setAttribute('aria-busy', 'true');
  el.loginButton.disabled = el.registerButton.disabled = true;
  try {
    if (kind === 'register') await register(location.origin, username, password);
    const session = await login(location.origin, username, password);
    saveSession(session);
    el.password.value = '';
    startChat(session);
  } catch (err) {
    showError(el.authError, err);
  } finally {
    el.authForm.removeAttribute('aria-busy');
    el.loginButton.disabled = el.registerButton.disabled = false;
  }
}

function logout(reason?: unknown) {
  void state.client?.close();
  state.client = null;
  clearSession();
  prefs.set('room', null);
  prefs.set('status', null);
  resetChatState();
  showAuth(reason);
}

function resetChatState() {
  state.session = null;
  state.rooms.clear();
  state.timelines.clear();
  state.unread.clear();
  state.presence.clear();
  state.outbox = [];
  state.currentRoomId = null;
  state.status = 'online';
  state.messageEls.clear();
  el.messageList.replaceChildren();
  el.pendingList.replaceChildren();
  el.roomList.replaceChildren();
  el.onlineList.replaceChildren();
}

// ---------------------------------------------------------------- connection

function startChat(session: Session) {
  state.session = session;
  state.status = (prefs.get('status') as SettableStatus | null) ?? 'online';
  el.statusSelect.value = state.status;
  el.meName.textContent = session.user.username;
  el.meDot.dataset.status = state.status;
  el.authView.hidden = true;
  el.chatView.hidden = false;
  renderRoomHeader();
  // The client authenticates every connection it opens with the session's token, reconnects
  // with back-off after a drop, and pings a connection that went silent.
  const client = new ChatClient({
    url: wsUrlOf(location.href),
    token: () => state.session?.accessToken,
    keepAliveMs: 25_000,
    eventHistory: 0,
  });
  state.client = client;
  client.on('state', renderConnState);
  client.on('ready', () => void onReady());
  client.on('authLost', ({ error }: AuthLost) =>
    logout(
      error.code === 'TOKEN_EXPIRED'
        ? new ChatClientError('TOKEN_EXPIRED', 'your session has expired; please log in again')
        : new ChatClientError(error.code, `the server refused the session (${error.reason}); please log in again`),
    ),
  );
  client.on('message.posted', (m) => onMessage(m));
  client.on('member.joined', (d) => onMembership('member.joined', d));
  client.on('member.left', (d) => onMembership('member.left', d));
  client.on('presence.changed', (v, position) => onPresence(v, position));
  client.open();
}

/** The browser is back online or the tab is visible again: skip the rest of the back-off wait. */
function wake() {
  if (document.visibilityState !== 'hidden') state.client?.reconnectNow();
}

/** The client's states, as the page names them (data-state of #conn-status). */
const STATE_NAMES = { connecting: 'connecting', open: 'online', reconnecting: 'reconnecting', closed: 'offline' } as const;

let retryCountdown: ReturnType<typeof setInterval> | undefined;
function renderConnState(change: StateChange) {
  const s = STATE_NAMES[change.state];
  clearInterval(retryCountdown);
  el.connStatus.dataset.state = s;
  // Presence cannot be trusted while we do not receive its events.
  el.peoplePanel.classList.toggle('stale', s !== 'online');
  const retryAt = change.retryAt;
  el.reconnectNow.hidden = s !== 'reconnecting' || !retryAt;
  const label = { connecting: 'connecting…', online: 'connected', offline: 'offline', reconnecting: null }[s];
  if (label) el.connStatus.textContent = label;
  else if (retryAt) {
    const tick = () => {
      const left = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      el.connStatus.textContent = left > 0 ? `connection lost — retrying in ${left}s` : 'reconnecting…';
    };
    tick();
    retryCountdown = setInterval(tick, 1000);
  } else el.connStatus.textContent = 'reconnecting…';
  updateComposer();
  renderPending();
}

/** After every (re)authentication: resynchronise everything the socket may have missed. */
async function onReady() {
  const client = state.client;
  if (!client) return;
  // Live events may have been missed while disconnected: every timeline must catch up when shown.
  for (const tl of state.timelines.values()) tl.fresh = false;
  if (state.status !== 'online') client.request('presence.set', { status: state.status }).catch(() => undefined);
  void loadPresence();
  await loadRooms();
  if (state.client !== client || !client.ready) return;
  const wanted = state.currentRoomId ?? prefs.get('room') ?? (isMember(DEFAULT_ROOM) ? DEFAULT_ROOM : null);
  if (wanted && state.rooms.has(wanted)) await openRoom(wanted);
  else if (!state.currentRoomId) renderRoomHeader();
  flushOutbox();
}

// ---------------------------------------------------------------- rooms

async function loadRooms() {
  try {
    const { rooms } = await client().request('rooms.list', {});
    state.rooms = new Map(rooms.map((r) => [r.roomId, r]));
    renderRooms();
    renderRoomHeader();
  } catch (err) {
    if (codeOf(err) !== 'UNAVAILABLE' || state.client?.ready) showError(el.roomError, err);
  }
}

function renderRooms() {
  const rooms = [...state.rooms.values()].sort(
    (a, b) => Number(!!b.myRole) - Number(!!a.myRole) || a.name.localeCompare(b.name) || a.roomId.localeCompare(b.roomId),
  );
  el.roomList.replaceChildren(
    ...rooms.map((r) => {
      const member = !!r.myRole;
      const unread = state.unread.get(r.roomId) ?? 0;
      const current = r.roomId === state.currentRoomId;
      return h(
        'li',
        {
          class: `room${current ? ' current' : ''}${member ? ' member' : ''}`,
          testid: `room-${r.roomId}`,
          'data-member': String(member),
          'data-room-id': r.roomId,
        },
        h(
          'button',
          {
            type: 'button',
            class: 'room-open',
            testid: `open-${r.roomId}`,
            'aria-current': current ? 'true' : null,
            onclick: () => openRoom(r.roomId, { fromList: true }),
          },
          h('span', { class: 'room-name', text: `${r.visibility === 'private' ? '🔒 ' : '# '}${r.name}` }),
          h('span', {
            class: 'room-sub muted',
            text: `${r.memberCount} member${r.memberCount === 1 ? '' : 's'} · ${member ? `joined${r.myRole !== 'member' ? ` (${r.myRole})` : ''}` : 'not joined'}`,
          }),
        ),
        unread ? h('span', { class: 'badge', testid: `unread-${r.roomId}`, text: unread > 99 ? '99+' : String(unread) }) : null,
        member
          ? null
          : h('button', { type: 'button', class: 'small', testid: `join-${r.roomId}`, onclick: () => joinRoom(r.roomId) }, 'Join'),
      );
    }),
  );
}

async function joinRoom(roomId: string) {
  showError(el.roomError, null);
  try {
    const ack = await client().request('room.join', { roomId });
    state.rooms.set(ack.room.roomId, ack.room);
  } catch (err) {
    if (codeOf(err) !== 'ALREADY_MEMBER') {
      showError(el.roomError, err);
      return;
    }
    await loadRooms();
  }
  renderRooms();
  await openRoom(roomId, { fromList: true });
}

async function leaveRoom(roomId: string) {
  showError(el.roomError, null);
  try {
    await client().request('room.leave', { roomId });
  } catch (err) {
    if (codeOf(err) !== 'NOT_MEMBER') return showError(el.roomError, err);
  }
  state.timelines.delete(roomId);
  state.unread.delete(roomId);
  await loadRooms();
  if (state.currentRoomId === roomId) {
    if (state.rooms.has(roomId)) await openRoom(roomId);
    else {
      state.currentRoomId = null;
      prefs.set('room', null);
      renderRoomHeader();
      renderMessages();
    }
  }
}

async function createRoom(e: Event) {
  e.preventDefault();
  showError(el.createError, null);
  const req: WsOps['room.create']['req'] = { name: el.newRoomName.value.trim() };
  const id = el.newRoomId.value.trim();
  if (id) req.roomId = id;
  if (el.newRoomPrivate.checked) req.visibility = 'private';
  try {
    const ack = await client().request('room.create', req);
    state.rooms.set(ack.room.roomId, ack.room);
    el.createForm.reset();
    renderRooms();
    await openRoom(ack.room.roomId, { fromList: true });
  } catch (err) {
    showError(el.createError, err);
  }
}

function onMembership<E extends 'member.joined' | 'member.left'>(event: E, data: WsEvents[E]) {
  const room = state.rooms.get(data.roomId);
  if (data.userId === me()?.userId) {
    // Already known when the change was made in this tab.
    if (!!room?.myRole === (event === 'member.joined')) return;
    // Our own membership changed in another tab: the server's view is the truth.
    if (event === 'member.left') state.timelines.delete(data.roomId);
    loadRooms().then(() => {
      if (data.roomId === state.currentRoomId) openRoom(data.roomId);
    });
    return;
  }
  if (room) {
    room.memberCount = Math.max(0, room.memberCount + (event === 'member.joined' ? 1 : -1));
    renderRooms();
    if (data.roomId === state.currentRoomId) renderRoomHeader();
  }
}

// ---------------------------------------------------------------- the open room

function renderRoomHeader() {
  const room = state.rooms.get(state.currentRoomId ?? '');
  const connected = !!state.client?.ready;
  if (!room) {
    el.roomName.textContent = state.currentRoomId ? `# ${state.currentRoomId}` : 'Pick a room';
    el.roomMeta.textContent = '';
    el.joinRoom.hidden = el.leaveRoom.hidden = true;
    el.placeholder.textContent = state.rooms.size ? 'Pick or join a room on the left.' : connected ? 'No rooms yet.' : '';
    el.placeholder.hidden = false;
  } else {
    el.roomName.textContent = `${room.visibility === 'private' ? '🔒 ' : '# '}${room.name}`;
    el.roomMeta.textContent = [room.topic, `${room.memberCount} member${room.memberCount === 1 ? '' : 's'}`].filter(Boolean).join(' · ');
    el.joinRoom.hidden = !!room.myRole;
    el.leaveRoom.hidden = !room.myRole;
    el.placeholder.textContent = room.myRole ? '' : 'Join this room to read and post messages.';
    el.placeholder.hidden = !!room.myRole;
  }
  el.roomView.dataset.roomId = state.currentRoomId ?? '';
  updateComposer();
}

function updateComposer() {
  const can = !!state.currentRoomId && isMember(state.currentRoomId);
  // Writing stays possible while reconnecting: the message waits in the outbox.
  el.input.disabled = !can;
  el.send.disabled = !can;
  el.input.placeholder = can
    ? state.client?.ready
      ? 'Write a message…'
      : 'Write a message… (sent when reconnected)'
    : state.currentRoomId
      ? 'Join the room to post'
      : 'Pick a room';
}

async function openRoom(roomId: string, { fromList = false } = {}) {
  const switching = roomId !== state.currentRoomId;
  state.currentRoomId = roomId;
  prefs.set('room', roomId);
  state.unread.delete(roomId);
  if (fromList) closeDrawers();
  showError(el.roomError, null);
  renderRooms();
  renderRoomHeader();
  if (!isMember(roomId)) {
    state.messageEls.clear();
    el.messageList.replaceChildren();
    el.messageList.dataset.roomId = '';
    renderPending();
    renderHistoryEdge();
    return;
  }
  let tl = state.timelines.get(roomId);
  if (!tl) state.timelines.set(roomId, (tl = new Timeline(roomId)));
  if (switching || el.messageList.dataset.roomId !== roomId) {
    renderMessages();
    scrollToBottom();
  }
  // One catch-up at a time per room (a join and its own member.joined event both open the room).
  if (!tl.fresh) await (tl.catchingUp ??= catchUp(tl).finally(() => (tl.catchingUp = null)));
  if (switching) el.input.focus({ preventScroll: true });
}

/**
 * Loads the newest page and, when messages were missed while away (the newest page does not
 * reach what we already had), older pages back to it. A gap too large to close restarts the
 * room at its newest page.
 */
async function catchUp(tl: Timeline) {
  const conn = client();
  el.messageList.dataset.state = 'loading';
  const hadNewest = tl.newestPosition;
  try {
    let page = await conn.request('history.page', { roomId: tl.roomId, limit: PAGE_SIZE });
    const firstLoad = tl.nextBefore === undefined;
    const pages = [page];
    let pagesLeft = MAX_CATCH_UP_PAGES;
    const reaches = (p: HistoryPage) =>
      !p.messages.length || p.nextBefore === null || p.messages[p.messages.length - 1].position <= hadNewest;
    while (!firstLoad && hadNewest && !reaches(page) && pagesLeft-- > 0) {
      page = await conn.request('history.page', { roomId: tl.roomId, before: page.nextBefore ?? undefined, limit: PAGE_SIZE });
      pages.push(page);
    }
    if (!firstLoad && hadNewest && !reaches(page)) {
      // Too much was missed to stitch together: start over from the newest page.
      tl.clear();
      pages.length = 1;
      page = pages[0];
      if (tl.roomId === state.currentRoomId) renderMessages();
    }
    if (tl.nextBefore === undefined) tl.nextBefore = pages[pages.length - 1].nextBefore;
    tl.fresh = true;
    settle(tl, conn);
    if (tl.roomId === state.currentRoomId) {
      const stick = firstLoad || nearBottom();
      for (const p of pages) addMessages(tl, p.messages);
      renderHistoryEdge();
      if (stick) scrollToBottom();
    } else for (const p of pages) for (const m of p.messages) tl.insert(m);
  } catch (err) {
    if (tl.roomId === state.currentRoomId && codeOf(err) !== 'UNAVAILABLE') showError(el.roomError, err);
  } finally {
    if (tl.roomId === state.currentRoomId) el.messageList.dataset.state = 'ready';
  }
}

function settle(tl: Timeline, conn: ChatClient) {
  for (const delay of SETTLE_DELAYS_MS) {
    setTimeout(async () => {
      if (state.client !== conn || !conn.ready || state.timelines.get(tl.roomId) !== tl) return;
      try {
        const page = await conn.request('history.page', { roomId: tl.roomId, limit: PAGE_SIZE });
        if (state.timelines.get(tl.roomId) !== tl) return;
        const stick = tl.roomId === state.currentRoomId && nearBottom();
        addMessages(tl, page.messages);
        if (stick) scrollToBottom();
      } catch {
        // The next reconnect catches up anyway.
      }
    }, delay);
  }
}

async function loadOlder() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  if (!tl || tl.loadingOlder || tl.nextBefore === null || tl.nextBefore === undefined || !state.client?.ready) return;
  tl.loadingOlder = true;
  el.loadOlder.disabled = true;
  el.loadOlder.textContent = 'Loading…';
  try {
    const page = await client().request('history.page', { roomId: tl.roomId, before: tl.nextBefore, limit: PAGE_SIZE });
    tl.nextBefore = page.nextBefore;
    if (tl.roomId === state.currentRoomId) {
      // Keep what the reader is looking at in place while content is added above it.
      const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
      addMessages(tl, page.messages);
      renderHistoryEdge();
      el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom;
    } else for (const m of page.messages) tl.insert(m);
  } catch (err) {
    showError(el.roomError, err);
  } finally {
    tl.loadingOlder = false;
    el.loadOlder.disabled = false;
    el.loadOlder.textContent = 'Load older messages';
  }
}

function renderHistoryEdge() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  const member = isMember(state.currentRoomId);
  const more = member && !!tl && tl.nextBefore !== null && tl.nextBefore !== undefined;
  el.loadOlder.hidden = !more;
  el.historyStart.hidden = !(member && tl && tl.nextBefore === null);
  el.scroller.dataset.hasOlder = String(more);
}

function nearBottom() {
  return el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight < 80;
}

function scrollToBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
}

function messageEl(m: MessageView) {
  const mine = m.senderId === me()?.userId;
  return h(
    'li',
    {
      class: `message${mine ? ' mine' : ''}`,
      testid: 'message',
      'data-message-id': m.messageId,
      'data-position': m.position,
      'data-sender-id': m.senderId,
    },
    h(
      'div',
      { class: 'message-head' },
      h('span', { class: 'sender', testid: 'message-sender', text: m.senderName }),
      h('time', { class: 'time muted', datetime: m.time, title: fmt(fullFmt, m.time), text: fmt(timeFmt, m.time) }),
    ),
    h('div', { class: 'body', testid: 'message-body', text: m.body }),
  );
}

/** Inserts messages into the timeline and, for the open room, into the list at their position. */
function addMessages(tl: Timeline, messages: MessageView[]) {
  const onScreen = tl.roomId === state.currentRoomId && el.messageList.dataset.roomId === tl.roomId;
  for (const m of messages) {
    const i = tl.insert(m);
    settleOutbox(m);
    if (i < 0 || !onScreen) continue;
    const node = messageEl(m);
    state.messageEls.set(m.messageId, node);
    const next = tl.messages[i + 1];
    el.messageList.insertBefore(node, next ? (state.messageEls.get(next.messageId) ?? null) : null);
  }
}

function renderMessages() {
  const tl = state.timelines.get(state.currentRoomId ?? '');
  state.messageEls.clear();
  el.messageList.dataset.roomId = state.currentRoomId ?? '';
  const nodes = (tl?.messages ?? []).map((m) => {
    const node = messageEl(m);
    state.messageEls.set(m.messageId, node);
    return node;
  });
  el.messageList.replaceChildren(...nodes);
  renderPending();
  renderHistoryEdge();
}

function onMessage(m: MessageView) {
  if (!m || typeof m.messageId !== 'string') return;
  const tl = state.timelines.get(m.roomId);
  if (!tl) {
    settleOutbox(m);
    if (m.roomId !== state.currentRoomId && m.senderId !== me()?.userId) bumpUnread(m.roomId);
    return;
  }
  const current = m.roomId === state.currentRoomId;
  const stick = current && (nearBottom() || m.senderId === me()?.userId);
  const known = tl.ids.has(m.messageId);
  addMessages(tl, [m]);
  if (!current && !known && m.senderId !== me()?.userId) bumpUnread(m.roomId);
  if (stick) scrollToBottom();
}

function bumpUnread(roomId: string) {
  state.unread.set(roomId, (state.unread.get(roomId) ?? 0) + 1);
  renderRooms();
}

// ---------------------------------------------------------------- sending

function submitMessage(e?: Event) {
  e?.preventDefault();
  const roomId = state.currentRoomId;
  const body = el.input.value;
  if (!roomId || !body.trim()) return;
  state.outbox.push({ clientMsgId: newClientMsgId(), roomId, body, state: 'queued', error: null, attempts: 0 });
  el.input.value = '';
  autoGrow();
  renderPending();
  scrollToBottom();
  flushOutbox();
}

/** Sends every queued message in order; the gateway processes one connection's sends in order. */
function flushOutbox() {
  if (!state.client?.ready) return;
  for (const item of state.outbox) if (item.state === 'queued') sendItem(item);
}

async function sendItem(item: OutboxItem) {
  const conn = client();
  item.state = 'sending';
  item.attempts++;
  renderPending();
  try {
    const ack = await conn.request('message.send', { roomId: item.roomId, clientMsgId: item.clientMsgId, body: item.body });
    const view = {
      messageId: ack.messageId,
      roomId: ack.roomId,
      senderId: me()!.userId,
      senderName: me()!.username,
      clientMsgId: ack.clientMsgId,
      body: item.body,
      time: ack.time,
      position: ack.position,
    };
    removeFromOutbox(item);
    const tl = state.timelines.get(item.roomId);
    if (tl) {
      const stick = item.roomId === state.currentRoomId && nearBottom();
      addMessages(tl, [view]);
      if (stick) scrollToBottom();
    }
  } catch (err) {
    if (!state.outbox.includes(item)) return;
    if (RETRYABLE.has(codeOf(err))) {
      item.state = 'queued';
      item.error = null;
      // Still connected (a backend was slow or we were rate limited): retry after a pause.
      if (state.client === conn && conn.ready)
        setTimeout(() => item.state === 'queued' && state.client?.ready && sendItem(item), Math.min(10_000, 500 * 2 ** item.attempts));
    } else {
      item.state = 'failed';
      item.error = err;
    }
    renderPending();
  }
}

function removeFromOutbox(item: OutboxItem) {
  const i = state.outbox.indexOf(item);
  if (i >= 0) state.outbox.splice(i, 1);
  renderPending();
}

/** A message of ours arrived (live or in history): its outbox entry is done. */
function settleOutbox(m: Pick<MessageView, 'senderId' | 'clientMsgId' | 'roomId'>) {
  if (m.senderId !== me()?.userId) return;
  const item = state.outbox.find((o) => o.clientMsgId === m.clientMsgId && o.roomId === m.roomId);
  if (item) removeFromOutbox(item);
}

function renderPending() {
  const items = state.outbox.filter((o) => o.roomId === state.currentRoomId);
  const stick = nearBottom();
  el.pendingList.replaceChildren(
    ...items.map((item) =>
      h(
        'li',
        {
          class: `message mine pending ${item.state}`,
          testid: 'pending-message',
          'data-state': item.state,
          'data-client-msg-id': item.clientMsgId,
        },
        h(
          'div',
          { class: 'message-head' },
          h('span', { class: 'sender', text: me()?.username ?? '' }),
          h('span', {
            class: 'time muted',
            text: item.state === 'failed' ? 'not sent' : state.client?.ready ? 'sending…' : 'waiting for connection…',
          }),
        ),
        h('div', { class: 'body', testid: 'message-body', text: item.body }),
        item.state === 'failed'
          ? h(
              'div',
              { class: 'send-error' },
              (() => {
                const box = h('div', { class: 'error inline', testid: 'send-error', role: 'alert' });
                showError(box, item.error);
                return box;
              })(),
              codeOf(item.error) === 'CONTENT_BLOCKED' || codeOf(item.error) === 'BAD_REQUEST'
                ? h('button', { type: 'button', class: 'link-button', testid: 'edit-failed', onclick: () => editFailed(item) }, 'edit')
                : h('button', { type: 'button', class: 'link-button', testid: 'retry-failed', onclick: () => retryFailed(item) }, 'retry'),
              h(
                'button',
                { type: 'button', class: 'link-button', testid: 'dismiss-failed', onclick: () => removeFromOutbox(item) },
                'dismiss',
              ),
            )
          : null,
      ),
    ),
  );
  // An error line makes the entry taller: keep the reader at the bottom to see it.
  if (stick) scrollToBottom();
}

function retryFailed(item: OutboxItem) {
  item.state = 'queued';
  item.error = null;
  renderPending();
  flushOutbox();
}

function editFailed(item: OutboxItem) {
  removeFromOutbox(item);
  el.input.value = item.body;
  autoGrow();
  el.input.focus();
}

function autoGrow() {
  el.input.style.height = 'auto';
  el.input.style.height = `${Math.min(el.input.scrollHeight, 160)}px`;
}

// ---------------------------------------------------------------- presence

async function loadPresence() {
  const conn = client();
  state.presenceBuffer = [];
  try {
    const { users } = await conn.request('presence.list', {});
    const buffered = state.presenceBuffer ?? [];
    state.presence = new Map(users.map((u) => [u.userId, { view: u, position: 0 }]));
    // Events newer than the list may have arrived while it was on its way.
    for (const [view, position] of buffered) applyPresence(view, position);
  } catch {
    // Retried on the next reconnect; live events still update the list.
  } finally {
    state.presenceBuffer = null;
    renderPresence();
  }
}

function applyPresence(view: PresenceView, position: number) {
  const known = state.presence.get(view.userId);
  if (known && known.position > position) return;
  state.presence.set(view.userId, { view, position });
}

function onPresence(view: PresenceView, position: number) {
  if (!view?.userId) return;
  state.presenceBuffer?.push([view, position]);
  applyPresence(view, position);
  if (view.userId === me()?.userId && view.status !== 'offline') el.meDot.dataset.status = view.status;
  renderPresence();
}

function renderPresence() {
  const users = [...state.presence.values()].map((p) => p.view).filter((u) => u.status !== 'offline');
  users.sort((a, b) => a.username.localeCompare(b.username));
  el.onlineCount.textContent = String(users.length);
  el.togglePeopleCount.textContent = String(users.length);
  el.onlineList.replaceChildren(
    ...users.map((u) =>
      h(
        'li',
        { class: 'person', testid: 'online-user', 'data-user-id': u.userId, 'data-status': u.status, title: `${u.username} — ${u.status}` },
        h('span', { class: 'dot', 'data-status': u.status }),
        h('span', { class: 'person-name', text: u.username }),
        u.userId === me()?.userId ? h('span', { class: 'muted you', text: '(you)' }) : null,
        u.status !== 'online' ? h('span', { class: 'muted status-label', text: u.status }) : null,
      ),
    ),
  );
}

async function setStatus(status: SettableStatus) {
  const previous = state.status;
  state.status = status;
  prefs.set('status', status);
  el.meDot.dataset.status = status;
  if (!state.client?.ready) return; // applied on reconnect
  try {
    await client().request('presence.set', { status });
  } catch (err) {
    if (codeOf(err) === 'UNAVAILABLE') return;
    state.status = previous;
    el.statusSelect.value = previous;
    el.meDot.dataset.status = previous;
    showError(el.roomError, err);
  }
}

// ---------------------------------------------------------------- narrow screens

function toggleDrawer(panel: HTMLElement, button: HTMLElement) {
  const open = !panel.classList.contains('open');
  closeDrawers();
  if (open) {
    panel.classList.add('open');
    button.setAttribute('aria-expanded', 'true');
    el.scrim.hidden = false;
  }
}

function closeDrawers() {
  for (const [p, b] of [
    [el.roomsPanel, el.toggleRooms],
    [el.peoplePanel, el.togglePeople],
  ]) {
    p.classList.remove('open');
    b.setAttribute('aria-expanded', 'false');
  }
  el.scrim.hidden = true;
}

// ---------------------------------------------------------------- wiring

el.authForm.addEventListener('submit', (e) => {
  e.preventDefault();
  onAuthSubmit('login');
});
el.registerButton.addEventListener('click', () => onAuthSubmit('register'));
el.logout.addEventListener('click', () => logout());
el.reconnectNow.addEventListener('click', () => state.client?.reconnectNow());
window.addEventListener('online', wake);
document.addEventListener('visibilitychange', wake);
el.statusSelect.addEventListener('change', () => setStatus(el.statusSelect.value as SettableStatus));
el.refreshRooms.addEventListener('click', () => loadRooms());
el.createForm.addEventListener('submit', createRoom);
el.joinRoom.addEventListener('click', () => state.currentRoomId && joinRoom(state.currentRoomId));
el.leaveRoom.addEventListener('click', () => state.currentRoomId && leaveRoom(state.currentRoomId));
el.loadOlder.addEventListener('click', loadOlder);
el.scroller.addEventListener('scroll', () => {
  if (el.scroller.scrollTop < 40) loadOlder();
});
el.composer.addEventListener('submit', submitMessage);
el.input.addEventListener('input', autoGrow);
el.input.addEventListener('keydown', (e) => {
  // Not while an input method is composing (Chinese, Japanese, …): Enter then picks a candidate.
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) submitMessage(e);
});
el.toggleRooms.addEventListener('click', () => toggleDrawer(el.roomsPanel, el.toggleRooms));
el.togglePeople.addEventListener('click', () => toggleDrawer(el.peoplePanel, el.togglePeople));
el.scrim.addEventListener('click', closeDrawers);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') closeDrawers();
});

const saved = loadSession();
if (saved) startChat(saved);
else showAuth();
