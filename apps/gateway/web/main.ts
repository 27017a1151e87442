import {
  ChatClient,
  ChatClientError,
  login,
  logout as endSession,
  register,
  wsUrlOf,
  type AuthLost,
  type AuthReply,
  type StateChange,
} from '@chat/client';
import type { ChosenStatus, WsEvents } from '@chat/contracts';
import { CLOSE_CODES as WsCloseCodes } from './limits';
import { FormError, act, h, showError } from './dom';
import { LANGUAGES, language, setLanguage, t, translatePage, type Language } from './i18n/i18n';
import { LIMITS } from './limits';
import { initNotifications, notifyPosted, renderMuted, startNotifications } from './notifications/notify';
import { openSettingsDialog } from './account/settings';
import { retryDelayMs } from './account/renewal';
import { askForSession, freshToken, onLost, onStorageChanged, renew, renewBeforeMs } from './account/tokens';
import { closeDrawers, initDrawers, openDrawer, toggleDrawer } from './layout';
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
  openLinkedMessage,
  openRoom,
  renderRoomHeader,
  updateComposer,
  wireTimeline,
} from './messages/view';
import { editLastOwn, onDeleted, onEdited, onReaction, setReplyTo } from './messages/actions';
import { closeMentions, onComposerInput, onMentionKey } from './messages/mentions';
import { loadReadState, maybeMarkRead, onReadMarker } from './reads/unread';
import { openSearchDialog } from './search/panel';
import {
  applyMine,
  loadPresence,
  noteActivity,
  onPresence,
  openStatusDialog,
  refreshContactsSoon,
  renderMine,
  renderPresence,
  resetActivity,
  setStatus,
} from './presence/status';
import { onComposerTyping, onTyping, resetTyping, stopTyping, typistSent } from './messages/typing';
import { openCreateRoomDialog } from './rooms/create';
import { openDirectoryDialog } from './rooms/directory';
import * as roomEvents from './rooms/events';
import { loadInvitations, onInvitation } from './rooms/invitations';
import { joinRoom, leaveRoom, loadRooms, renderSidebar } from './rooms/sidebar';
import { clearSession, isSessionKey, loadSession, prefs, saveSession, type Session } from './session';
import { refreshSide, renderSide, showSide } from './side';
import { el, isMember, resetState, state } from './state';
import { hideBanned, showBanned } from './moderation/banned';
import { sanctionReason } from './moderation/format';
import { loadQueue, onReport, openModerationPanel, renderModButton, resetQueue } from './moderation/panel';
import { loadStanding, onMuted, onRole, onStandingChanged, onUnmuted, onWarned, resetStanding } from './moderation/standing';

// The static page in the page's language, before anything of it is shown.
translatePage();

/** How often the room list (with the public rooms to join) is read again while the tab is shown. */
const ROOMS_REFRESH_MS = 30_000;

// The web client, bundled with libs/client by scripts/build-web.mjs into public/bundle/app.js.
// The protocol (frames, request ids, auth, reconnecting with back-off) is the client's; this
// module logs in, connects, routes live events to the parts of the page, and wires the page's
// fixed controls. The parts: rooms/ (list, directory, create, details with retention,
// statistics, invitations, live events), members/ (the members panel), conversations/
// (private messages and blocks), messages/ (the open room's timeline, each message and what
// can be done to it, mentions, the outbox), reads/ (unread counts and the read marker),
// search/, presence/ (statuses), account/ (sessions: token renewal, settings), moderation/
// (reports, my standing and its notices, the moderation panel, user and room moderation, the
// banned screen).

const DEFAULT_ROOM = 'general';
/** Below this width the right-hand column is a drawer. */
const NARROW_PX = 1000;

// ---------------------------------------------------------------- auth

/** The login form, with an error (a refused login) or a notice (why the session ended). */
function showAuth(err?: unknown, notice?: string | null) {
  hideBanned();
  el.chatView.hidden = true;
  el.authView.hidden = false;
  showAuthError(err ?? null);
  el.authNotice.textContent = notice ?? '';
  el.authNotice.hidden = !notice;
  (el.username.value ? el.password : el.username).focus();
}

/**
 * Logging in and registering are two modes of one form: the login form (Enter logs in) links to
 * the registration form (a repeated password; Enter registers) and back. The name and the
 * password typed so far are kept when switching.
 */
type AuthMode = 'login' | 'register';
const authMode = (): AuthMode => (el.authForm.dataset.mode === 'register' ? 'register' : 'login');

function setAuthMode(mode: AuthMode, focus = true) {
  const register = mode === 'register';
  el.authForm.dataset.mode = mode;
  el.authHeading.textContent = t(register ? 'shell:register.heading' : 'shell:login.heading');
  el.authIntro.textContent = t(register ? 'shell:register.intro' : 'shell:login.intro');
  el.registerFields.hidden = !register;
  el.passwordAgain.required = register;
  el.password.autocomplete = register ? 'new-password' : 'current-password';
  el.loginButton.hidden = el.toRegister.hidden = register;
  el.registerButton.hidden = el.toLogin.hidden = !register;
  if (!register) el.passwordAgain.value = '';
  showAuthError(null);
  if (focus) (!el.username.value ? el.username : !el.password.value || !register ? el.password : el.passwordAgain).focus();
}

/**
 * A refused login or registration. A login refused as AUTH_FAILED may be a newcomer who pressed
 * Enter on the login form: the error offers the way to the registration form (the same link
 * under the form is hidden meanwhile, so it is not there twice). A password too short is said in
 * the error, and the hint under the field that says the same is hidden meanwhile.
 */
function showAuthError(err: unknown) {
  showError(el.authError, err);
  const newcomer = err instanceof ChatClientError && err.code === 'AUTH_FAILED' && authMode() === 'login';
  if (newcomer) {
    el.authError.append(
      h(
        'p',
        { class: 'auth-newcomer', testid: 'auth-newcomer' },
        h(
          'button',
          { type: 'button', class: 'link-button', testid: 'auth-error-register', onclick: () => setAuthMode('register') },
          t('shell:login.toRegister'),
        ),
      ),
    );
  }
  el.toRegister.hidden = newcomer || authMode() === 'register';
  el.passwordHint.hidden = err instanceof PasswordTooShort;
}

/** The registration form's own refusal of a short password (said in the error instead of the hint). */
class PasswordTooShort extends FormError {}

async function onAuthSubmit(kind: AuthMode) {
  const username = el.username.value;
  const password = el.password.value;
  const remember = el.remember.checked;
  showAuthError(null);
  el.authNotice.hidden = true;
  el.authForm.setAttribute('aria-busy', 'true');
  el.loginButton.disabled = el.registerButton.disabled = true;
  try {
    if (kind === 'register') {
      // Said here in the page's language (the server's field details are English).
      if ([...password].length < LIMITS.passwordMinChars)
        throw new PasswordTooShort(t('shell:register.passwordHint', { count: LIMITS.passwordMinChars }));
      if (password !== el.passwordAgain.value) throw new FormError(t('shell:register.mismatch'));
      await register(location.origin, username, password);
    }
    const result = await login(location.origin, username, password, { remember });
    const session: Session = { ...result, remember };
    saveSession(session);
    el.password.value = el.passwordAgain.value = '';
    setAuthMode('login', false);
    startChat(session);
  } catch (err) {
    if (err instanceof ChatClientError && err.code === 'SERVER_BANNED') return banned(err.reason);
    showAuthError(err);
    if (err instanceof FormError) ([...password].length < LIMITS.passwordMinChars ? el.password : el.passwordAgain).focus();
  } finally {
    el.authForm.removeAttribute('aria-busy');
    el.loginButton.disabled = el.registerButton.disabled = false;
  }
}

/** This page is ending every session itself (log out everywhere, delete account): its own 4410 is expected. */
let endingAll = false;

/** Leaves the chat for the login form (the session is over, or the user logged out). */
function leaveChat(reason?: unknown, notice?: string | null) {
  void state.client?.close();
  state.client = null;
  if (state.session) clearSession(state.session);
  endingAll = false;
  prefs.set('room', null);
  resetState();
  resetStanding();
  resetQueue();
  resetTyping();
  setReplyTo(null);
  for (const list of [
    el.messageList,
    el.pendingList,
    el.roomList,
    el.publicList,
    el.invitationList,
    el.conversationList,
    el.onlineList,
    el.offlineList,
    el.serverOnlineList,
  ])
    list.replaceChildren();
  for (const d of document.querySelectorAll('dialog')) d.close();
  el.connBanner.hidden = true;
  renderSide();
  renderPresence();
  renderMuted();
  showAuth(reason, notice);
}

/** "Log out": ends this session on the server (its refresh token too), then here. */
async function logout() {
  const s = state.session;
  if (s) await endSession(location.origin, s.accessToken, s.refreshToken).catch(() => undefined);
  leaveChat();
}

/** Why a session ended, said to the person (close codes 4410/4411, refresh refusals). */
const ENDED = ['SESSION_REVOKED', 'ACCOUNT_DISABLED', 'TOKEN_EXPIRED', 'GONE'] as const;
type Ended = (typeof ENDED)[number];
const endedText = (code: string) => t(`shell:ended.${(ENDED as readonly string[]).includes(code) ? (code as Ended) : 'SESSION_REVOKED'}`);

/**
 * A server ban (close 4412, or SERVER_BANNED from login, refresh or auth): the chat is left (the
 * client closed: no reconnecting) for a screen that says so, with the moderators' reason.
 */
function banned(reason?: string | null) {
  leaveChat();
  showBanned(reason ?? null, () => showAuth());
}

function sessionEnded(code: string, reason?: string) {
  if (code === 'SERVER_BANNED') return banned(reason);
  if (endingAll) return leaveChat(null, t('shell:ended.everywhere'));
  leaveChat(null, endedText(code));
  el.authNotice.dataset.code = code;
}

onLost((err) => sessionEnded(err.code, err.reason));

// ---------------------------------------------------------------- connection

function startChat(session: Session) {
  state.session = session;
  el.meName.textContent = session.user.username;
  el.authView.hidden = true;
  el.chatView.hidden = false;
  renderMine();
  renderRoomHeader();
  startNotifications();
  // The client authenticates every connection it opens with the session's token, and
  // re-authenticates in band when its timer says the token is due (renewBeforeMs): the token
  // function renews it then (account/tokens.ts, under the cross-tab lock), and a stored session
  // whose token has expired (a restarted browser, a new tab) before connecting. It reconnects
  // with back-off after a drop (resuming from the last position it saw), and pings a connection
  // that went silent.
  const client = new ChatClient({
    url: wsUrlOf(location.href),
    token: freshToken,
    renewBeforeMs: renewBeforeMs(session),
    keepAliveMs: 25_000,
    eventHistory: 0,
  });
  state.client = client;
  client.on('state', (change) => {
    if (change.code === WsCloseCodes.sessionRevoked) return sessionEnded('SESSION_REVOKED');
    if (change.code === WsCloseCodes.accountDisabled) return sessionEnded('ACCOUNT_DISABLED');
    if (change.code === WsCloseCodes.serverBanned) return banned(change.reason);
    // Disconnected by a moderator (mod.kick): the login still holds, but the client does not
    // come straight back (that would undo the kick); the banner offers to reconnect.
    if (change.code === WsCloseCodes.serverKicked && change.state === 'closed') {
      renderConnState(change);
      return showKicked(client, change.reason);
    }
    renderConnState(change);
  });
  client.on('ready', (reply) => void onReady(reply));
  client.on('authLost', (lost: AuthLost) => void onAuthLost(client, lost));
  client.on('message.posted', (m) => {
    if (m?.roomId?.startsWith('dm-')) ensureConversation(m);
    typistSent(m.roomId, m.senderId);
    onMessage(m);
    notifyPosted(m);
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
  client.on('member.joined', (d) => {
    roomEvents.onMemberJoined(d);
    refreshContactsSoon();
  });
  // Someone (maybe me) leaving a room may leave me sharing none with them: read my contacts again.
  client.on('member.left', (d) => {
    roomEvents.onMemberLeft(d);
    refreshContactsSoon();
  });
  client.on('member.kicked', (d) => {
    roomEvents.onMemberKicked(d);
    refreshContactsSoon();
  });
  client.on('member.banned', (d) => {
    roomEvents.onMemberBanned(d);
    refreshContactsSoon();
  });
  client.on('member.unbanned', roomEvents.onMemberUnbanned);
  client.on('member.role', roomEvents.onMemberRole);
  client.on('room.owner', roomEvents.onRoomOwner);
  client.on('room.updated', roomEvents.onRoomUpdated);
  client.on('room.deleted', (d) => {
    roomEvents.onRoomDeleted(d);
    refreshContactsSoon();
  });
  client.on('invitation.received', onInvitation);
  client.on('invitation.declined', roomEvents.onInvitationDeclined);
  client.on('conversation.opened', (d) => {
    onConversationOpened(d);
    refreshContactsSoon();
  });
  client.on('user.blocked', (d) => onBlockEvent(true, d));
  client.on('user.unblocked', (d) => onBlockEvent(false, d));
  client.on('presence.changed', (v, position) => onPresence(v, position));
  client.on('presence.mine', (mine) => applyMine(mine));
  client.on('typing', onTyping);
  client.on('server.shutdown', onShutdown);
  client.on('moderation.warned', onWarned);
  client.on('moderation.muted', onMuted);
  client.on('moderation.unmuted', onUnmuted);
  client.on('moderation.role', onRole);
  client.on('moderation.report', onReport);
  client.open();
}

/**
 * The token was refused: an expired one (a sleeping laptop missed its renewal, and renewing it
 * then could not reach the server) is renewed and the client started again (a renewal that
 * fails for now is tried again after 5 s, doubling up to 1 min); a revoked session or a
 * disabled account ends the session.
 */
async function onAuthLost(client: ChatClient, lost: AuthLost, failures = 0) {
  if (state.client !== client) return;
  const { error } = lost;
  if (error.code === 'TOKEN_EXPIRED' || error.code === 'UNAUTHENTICATED') {
    const next = await renew();
    if (state.client !== client || !state.session) return; // ended meanwhile
    if (next) client.open();
    else setTimeout(() => void onAuthLost(client, lost, failures + 1), retryDelayMs(failures + 1));
    return;
  }
  if (error.code === 'SESSION_REVOKED' || error.code === 'ACCOUNT_DISABLED' || error.code === 'SERVER_BANNED')
    return sessionEnded(error.code, error.reason);
  leaveChat(null, t('shell:ended.refused'));
}

/** server.shutdown: the gateway is restarting; the client reconnects to another one by itself. */
let shutdownNotice = false;
function onShutdown(_d: WsEvents['server.shutdown']) {
  shutdownNotice = true;
}

/** The browser is back online or the tab is visible again: skip the rest of the back-off wait. */
function wake() {
  if (document.visibilityState !== 'hidden') {
    state.client?.reconnectNow();
    maybeMarkRead();
    noteActivity();
  }
}

/** The client's states, as the page names them (data-state of #conn-status). */
const STATE_NAMES = { connecting: 'connecting', open: 'online', reconnecting: 'reconnecting', closed: 'offline' } as const;

let retryCountdown: ReturnType<typeof setInterval> | undefined;
function renderConnState(change: StateChange) {
  const s = STATE_NAMES[change.state];
  clearInterval(retryCountdown);
  el.connStatus.dataset.state = s;
  el.connStatus.dataset.quiet = String(shutdownNotice && s === 'reconnecting');
  // Presence cannot be trusted while we do not receive its events.
  el.peoplePanel.classList.toggle('stale', s !== 'online');
  const retryAt = change.retryAt;
  el.reconnectNow.hidden = s !== 'reconnecting' || !retryAt;
  if (s !== 'reconnecting') el.connStatus.textContent = t(`shell:conn.${s}`);
  else if (retryAt && !shutdownNotice) {
    const tick = () => {
      const left = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      el.connStatus.textContent = left > 0 ? t('shell:conn.retryIn', { seconds: left }) : t('shell:conn.reconnecting');
    };
    tick();
    retryCountdown = setInterval(tick, 1000);
  } else el.connStatus.textContent = t('shell:conn.reconnecting');
  renderBanner(s);
  updateComposer();
  renderPending();
}

/** After a kick (close 4413): the banner over the timeline says so, with the moderators' reason and a button to connect again. */
function showKicked(client: ChatClient, reason?: string) {
  const why = sanctionReason(reason);
  const text = why ? t('shell:banner.kickedWhy', { reason: why }) : t('shell:banner.kicked');
  el.connBanner.hidden = false;
  el.connBanner.dataset.kind = 'kicked';
  el.connBanner.replaceChildren(
    `${text} `,
    h(
      'button',
      { type: 'button', class: 'small', testid: 'reconnect-kicked', onclick: () => state.client === client && client.open() },
      t('shell:banner.connectAgain'),
    ),
  );
}

/** The banner over the timeline while reconnecting (quiet after a server.shutdown: a planned restart). */
function renderBanner(s: (typeof STATE_NAMES)[keyof typeof STATE_NAMES]) {
  if (s === 'online' || s === 'connecting') {
    el.connBanner.hidden = true;
    if (s === 'online') shutdownNotice = false;
    return;
  }
  el.connBanner.hidden = false;
  el.connBanner.dataset.kind = shutdownNotice ? 'restart' : s;
  el.connBanner.textContent = t(
    shutdownNotice ? 'shell:banner.restart' : s === 'offline' ? 'shell:banner.offline' : 'shell:banner.reconnecting',
  );
}

/**
 * After every (re)authentication: resynchronise what the socket may have missed. A resumed
 * connection got every missed event before this (merged like live ones): the timelines are
 * current. Otherwise (first connection, or the gateway said to reload) they are read again.
 */
async function onReady(reply: AuthReply) {
  const client = state.client;
  if (!client) return;
  const resumed = reply.resume?.status === 'resumed';
  // How this connection began (first, resumed, reload): for tests and a curious reader of the DOM.
  el.connStatus.dataset.resume = reply.resume?.status ?? 'none';
  if (!resumed) for (const tl of state.timelines.values()) tl.fresh = false;
  resetActivity();
  void loadPresence();
  // My server role and mutes first, then (staff) the reports queue for the button's count.
  void loadStanding().then(() => (state.client === client ? loadQueue() : undefined));
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
  void openLinkedMessage();
}

function openSide(panel: 'members' | 'details') {
  showSide(panel);
  if (state.side !== 'people' && window.innerWidth <= NARROW_PX) openDrawer(el.peoplePanel);
}

// ---------------------------------------------------------------- wiring

// Enter submits the form in its mode (the buttons are both submit buttons; one is shown).
el.authForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void onAuthSubmit(authMode());
});
el.toRegister.addEventListener('click', () => setAuthMode('register'));
el.toLogin.addEventListener('click', () => setAuthMode('login'));
el.passwordHint.textContent = t('shell:register.passwordHint', { count: LIMITS.passwordMinChars });
el.authLanguage.replaceChildren(...LANGUAGES.map((l) => h('option', { value: l.code, lang: l.code, text: l.name })));
el.authLanguage.value = language();
el.authLanguage.addEventListener('change', () => setLanguage(el.authLanguage.value as Language));
el.logout.addEventListener('click', () => void logout());
el.openSettings.addEventListener('click', () => {
  closeDrawers();
  openSettingsDialog({
    leave: (notice) => leaveChat(null, notice),
    logout,
    endingAll: (on) => (endingAll = on),
  });
});
el.reconnectNow.addEventListener('click', () => state.client?.reconnectNow());
el.openModeration.addEventListener('click', () => (closeDrawers(), openModerationPanel()));
// My moderation standing shows in the composer (a mute), the top bar (a role) and the room panels (actions).
onStandingChanged.push(updateComposer, renderModButton, renderPresence, () => state.currentRoomId && refreshSide(state.currentRoomId));
window.addEventListener('online', wake);
document.addEventListener('visibilitychange', wake);
window.addEventListener('focus', wake);
// Another tab renewed the remembered session (take its tokens) or logged out (so do we).
window.addEventListener('storage', (e) => {
  if (e.storageArea !== localStorage || !isSessionKey(e.key) || !state.session) return;
  if (onStorageChanged() === 'gone') sessionEnded('GONE');
});
// Activity ends automatic away (told at most once a minute).
for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'])
  window.addEventListener(type, noteActivity, { passive: true, capture: true });
// No event tells a user about a public room someone else created: the room list is read again
// when the tab is shown again and, while it is shown, every ROOMS_REFRESH_MS.
const refreshRoomsQuietly = () => {
  if (state.client?.ready && document.visibilityState === 'visible') void loadRooms();
};
document.addEventListener('visibilitychange', refreshRoomsQuietly);
setInterval(refreshRoomsQuietly, ROOMS_REFRESH_MS);
el.statusSelect.addEventListener('change', () => {
  const chosen = el.statusSelect.value as ChosenStatus;
  void act(null, el.roomError, () => setStatus(chosen));
});
el.statusText.addEventListener('click', () => (closeDrawers(), openStatusDialog()));
el.statusMenu.addEventListener('click', () => (closeDrawers(), openStatusDialog()));
el.refreshRooms.addEventListener('click', () => {
  void loadRooms();
  void loadInvitations();
  void loadConversations();
});
// A dialog replaces an open drawer (narrow screens).
el.openCreateRoom.addEventListener('click', () => (closeDrawers(), openCreateRoomDialog()));
el.openDirectory.addEventListener('click', () => (closeDrawers(), openDirectoryDialog()));
el.emptyBrowse.addEventListener('click', () => openDirectoryDialog());
el.emptyCreate.addEventListener('click', () => openCreateRoomDialog());
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
wireTimeline();
el.jumpDateForm.addEventListener('submit', (e) => {
  e.preventDefault();
  if (el.jumpDate.value) void jumpToDate(el.jumpDate.value);
});
el.openSearch.addEventListener('click', () => (closeDrawers(), openSearchDialog()));
el.composer.addEventListener('submit', submitMessage);
el.input.addEventListener('input', () => {
  autoGrow();
  onComposerTyping(state.currentRoomId, el.input.value);
  void onComposerInput();
});
el.input.addEventListener('blur', () => {
  stopTyping(state.currentRoomId);
  setTimeout(closeMentions, 150);
});
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
el.toggleRooms.addEventListener('click', () => toggleDrawer(el.roomsPanel));
el.togglePeople.addEventListener('click', () => toggleDrawer(el.peoplePanel));
el.scrim.addEventListener('click', () => closeDrawers());
initDrawers();
initNotifications((roomId) => openRoom(roomId));
document.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k' && state.session) {
    e.preventDefault();
    openSearchDialog();
  }
});

// A native date field's format follows the browser; its language is the page's.
el.jumpDate.lang = language();
setAuthMode('login', false);

// A session of this browser: this tab's or the remembered one; else one of another open tab
// (a tab-only session lives in its tab's sessionStorage: the new tab asks the others over the
// BroadcastChannel, and keeps a copy in its own), else the login form.
const saved = loadSession();
if (saved) startChat(saved);
else
  void askForSession().then((shared) => {
    if (state.session) return;
    if (!shared) return showAuth();
    saveSession(shared);
    startChat(shared);
  });
