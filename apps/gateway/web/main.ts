import { ChatClient, ChatClientError, login, register, wsUrlOf, type AuthLost, type StateChange } from '@chat/client';
import type { SettableStatus } from '@chat/contracts';
import { showError } from './dom';
import { closeDrawers, toggleDrawer } from './layout';
import {
  ensureConversation,
  loadBlocks,
  loadConversations,
  onBlockEvent,
  onConversationOpened,
  openNewDmDialog,
  toggleBlock,
} from './conversations/list';
import { autoGrow, flushOutbox, renderPending, submitMessage } from './messages/outbox';
import {
  jumpToDate,
  jumpToPresent,
  loadNewer,
  loadOlder,
  onMessage,
  onScroll,
  openRoom,
  renderRoomHeader,
  updateComposer,
} from './messages/view';
import { editLastOwn, onDeleted, onEdited, onReaction, setReplyTo } from './messages/actions';
import { closeMentions, onComposerInput, onMentionKey } from './messages/mentions';
import { loadReadState, maybeMarkRead, onReadMarker } from './reads/unread';
import { openSearchDialog } from './search/panel';
import { loadPresence, onPresence, setStatus } from './presence';
import { openCreateRoomDialog } from './rooms/create';
import { openDirectoryDialog } from './rooms/directory';
import * as roomEvents from './rooms/events';
import { loadInvitations, onInvitation } from './rooms/invitations';
import { joinRoom, leaveRoom, loadRooms, renderSidebar } from './rooms/sidebar';
import { clearSession, loadSession, prefs, saveSession, type Session } from './session';
import { renderSide, showSide } from './side';
import { el, isMember, resetState, state } from './state';

// The web client, bundled with libs/client by scripts/build-web.mjs into public/bundle/app.js.
// The protocol (frames, request ids, auth, reconnecting with back-off) is the client's; this
// module logs in, connects, routes live events to the parts of the page, and wires the page's
// fixed controls. The parts: rooms/ (list, directory, create, details with retention,
// statistics, invitations, live events), members/ (the members panel), conversations/
// (private messages and blocks), messages/ (the open room's timeline, each message and what
// can be done to it, mentions, the outbox), reads/ (unread counts and the read marker),
// search/, presence.

const DEFAULT_ROOM = 'general';
/** Below this width the right-hand column is a drawer. */
const NARROW_PX = 1000;

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
  resetState();
  setReplyTo(null);
  for (const list of [el.messageList, el.pendingList, el.roomList, el.publicList, el.invitationList, el.conversationList, el.onlineList])
    list.replaceChildren();
  for (const d of document.querySelectorAll('dialog')) d.close();
  renderSide();
  showAuth(reason);
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
  client.on('message.posted', (m) => {
    if (m?.roomId?.startsWith('dm-')) ensureConversation(m);
    onMessage(m);
  });
  // A conversation's preview in the list is its last message.
  client.on('message.edited', (d) => {
    onEdited(d);
    if (state.conversations.has(d.roomId)) renderSidebar();
  });
  client.on('message.deleted', (d) => {
    onDeleted(d);
    if (state.conversations.has(d.roomId)) renderSidebar();
  });
  client.on('reaction.added', (d) => onReaction(d, true));
  client.on('reaction.removed', (d) => onReaction(d, false));
  client.on('read.marker', onReadMarker);
  client.on('room.retention', roomEvents.onRoomRetention);
  client.on('member.joined', roomEvents.onMemberJoined);
  client.on('member.left', roomEvents.onMemberLeft);
  client.on('member.kicked', roomEvents.onMemberKicked);
  client.on('member.banned', roomEvents.onMemberBanned);
  client.on('member.unbanned', roomEvents.onMemberUnbanned);
  client.on('member.role', roomEvents.onMemberRole);
  client.on('room.owner', roomEvents.onRoomOwner);
  client.on('room.updated', roomEvents.onRoomUpdated);
  client.on('room.deleted', roomEvents.onRoomDeleted);
  client.on('invitation.received', onInvitation);
  client.on('invitation.declined', roomEvents.onInvitationDeclined);
  client.on('conversation.opened', onConversationOpened);
  client.on('user.blocked', (d) => onBlockEvent(true, d));
  client.on('user.unblocked', (d) => onBlockEvent(false, d));
  client.on('presence.changed', (v, position) => onPresence(v, position));
  client.open();
}

/** The browser is back online or the tab is visible again: skip the rest of the back-off wait. */
function wake() {
  if (document.visibilityState !== 'hidden') {
    state.client?.reconnectNow();
    maybeMarkRead();
  }
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
  void loadInvitations();
  void loadBlocks();
  await Promise.all([loadRooms(), loadConversations()]);
  if (state.client !== client || !client.ready) return;
  // Counts from the server: the same on every device, including what came while offline.
  void loadReadState();
  const wanted = state.currentRoomId ?? prefs.get('room') ?? (isMember(DEFAULT_ROOM) ? DEFAULT_ROOM : null);
  if (wanted && (state.rooms.has(wanted) || state.conversations.has(wanted))) await openRoom(wanted);
  else if (!state.currentRoomId) renderRoomHeader();
  renderSide();
  flushOutbox();
}

function openSide(panel: 'members' | 'details') {
  showSide(panel);
  if (state.side !== 'people' && window.innerWidth <= NARROW_PX && !el.peoplePanel.classList.contains('open'))
    toggleDrawer(el.peoplePanel, el.togglePeople);
}

// ---------------------------------------------------------------- wiring

el.authForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void onAuthSubmit('login');
});
el.registerButton.addEventListener('click', () => onAuthSubmit('register'));
el.logout.addEventListener('click', () => logout());
el.reconnectNow.addEventListener('click', () => state.client?.reconnectNow());
window.addEventListener('online', wake);
document.addEventListener('visibilitychange', wake);
el.statusSelect.addEventListener('change', () => setStatus(el.statusSelect.value as SettableStatus));
el.refreshRooms.addEventListener('click', () => {
  void loadRooms();
  void loadInvitations();
  void loadConversations();
});
// A dialog replaces an open drawer (narrow screens).
el.openCreateRoom.addEventListener('click', () => (closeDrawers(), openCreateRoomDialog()));
el.openDirectory.addEventListener('click', () => (closeDrawers(), openDirectoryDialog()));
el.openNewDm.addEventListener('click', () => (closeDrawers(), openNewDmDialog()));
el.joinRoom.addEventListener('click', () => state.currentRoomId && joinRoom(state.currentRoomId));
el.leaveRoom.addEventListener('click', () => state.currentRoomId && leaveRoom(state.currentRoomId, el.leaveRoom as HTMLButtonElement));
el.showMembers.addEventListener('click', () => openSide('members'));
el.showDetails.addEventListener('click', () => openSide('details'));
el.sideClose.addEventListener('click', () => showSide('people'));
el.blockPeer.addEventListener('click', () => toggleBlock(el.blockPeer));
el.loadOlder.addEventListener('click', loadOlder);
el.loadNewer.addEventListener('click', loadNewer);
el.jumpPresent.addEventListener('click', () => void jumpToPresent());
el.scroller.addEventListener('scroll', onScroll, { passive: true });
el.jumpDateForm.addEventListener('submit', (e) => {
  e.preventDefault();
  if (el.jumpDate.value) void jumpToDate(el.jumpDate.value);
});
el.openSearch.addEventListener('click', () => (closeDrawers(), openSearchDialog()));
el.composer.addEventListener('submit', submitMessage);
el.input.addEventListener('input', () => {
  autoGrow();
  void onComposerInput();
});
el.input.addEventListener('blur', () => setTimeout(closeMentions, 150));
el.input.addEventListener('keydown', (e) => {
  if (onMentionKey(e)) return;
  // Not while an input method is composing (Chinese, Japanese, …): Enter then picks a candidate.
  const composing = e.isComposing || e.keyCode === 229;
  if (e.key === 'Enter' && !e.shiftKey && !composing) submitMessage(e);
  else if (e.key === 'Escape' && state.replyTo) {
    e.preventDefault();
    setReplyTo(null);
  } else if (e.key === 'ArrowUp' && !composing && el.input.value === '' && editLastOwn()) e.preventDefault();
});
el.toggleRooms.addEventListener('click', () => toggleDrawer(el.roomsPanel, el.toggleRooms));
el.togglePeople.addEventListener('click', () => toggleDrawer(el.peoplePanel, el.togglePeople));
el.scrim.addEventListener('click', closeDrawers);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') closeDrawers();
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k' && state.session) {
    e.preventDefault();
    openSearchDialog();
  }
});

const saved = loadSession();
if (saved) startChat(saved);
else showAuth();
