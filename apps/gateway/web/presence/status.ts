import type { ChatClient } from '@chat/client';
import type { ChosenStatus, OwnPresenceView, PresenceView } from '@chat/contracts';
import { LIMITS as Limits } from '../limits';
import { act, codeOf, errorBox, field, fullTime, h, openDialog, showError } from '../dom';
import { client, el, me, state } from '../state';
import { CHOSEN, chosenLabel, cleanStatusText, lastSeenText, statusLabel } from './format';
import { language, t } from '../i18n/i18n';
import { openUserCard } from '../moderation/user-card';

// Statuses: my own choice (`presence.set`; `presence.mine` keeps every tab and device in step),
// my contacts' statuses (`presence.contacts` on every connection, then `presence.changed`),
// the open room's members (`presence.room`: big rooms push no presence), and for server
// administrators everyone online (`presence.list`; FORBIDDEN for others: the section stays
// hidden). Activity on the page (keys, pointer, focus) is reported with `presence.active` at
// most once a minute, which ends automatic away.

/** Users per presence.contacts / presence.list page (the most the server gives). */
const PAGE = Limits.presenceListPageMax;
/** A burst of joins is followed by one presence.contacts, this long after the last. */
const CONTACTS_SETTLE_MS = 500;
/** presence.active at most this often while the user is active. */
const ACTIVE_EVERY_MS = 60_000;
const dateFmt = new Intl.DateTimeFormat(language(), { dateStyle: 'medium' });

/** Takes a status read or pushed, unless what is known is newer (by lastSeen, then position). */
export function applyPresence(view: PresenceView, position = 0) {
  if (!view?.userId) return;
  const known = state.presence.get(view.userId);
  if (known) {
    const a = Date.parse(view.lastSeen);
    const b = Date.parse(known.view.lastSeen);
    if (a < b || (a === b && position < known.position)) return;
  }
  state.presence.set(view.userId, { view, position });
}

export const presenceOf = (userId: string): PresenceView | undefined => state.presence.get(userId)?.view;

/** After every (re)connection: contacts and my choice; the server-wide list for administrators. */
export async function loadPresence() {
  const conn = client();
  await loadContacts(conn);
  await loadServerOnline(conn);
  renderPresence();
}

/** Everyone online is read again this often: presence.changed comes only for contacts. */
const SERVER_ONLINE_EVERY_MS = 30_000;
let serverOnlineTimer: ReturnType<typeof setTimeout> | undefined;

async function loadServerOnline(conn: ChatClient) {
  clearTimeout(serverOnlineTimer);
  try {
    // Paged (user id order): read every page up to the total.
    const users: PresenceView[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await conn.request('presence.list', { offset, limit: PAGE });
      if (state.client !== conn) return;
      users.push(...page.users);
      if (offset + PAGE >= page.total) break;
    }
    state.serverOnline = users;
    serverOnlineTimer = setTimeout(() => {
      if (state.client === conn && conn.ready) void loadServerOnline(conn).then(renderPresence);
    }, SERVER_ONLINE_EVERY_MS);
  } catch (err) {
    // FORBIDDEN: not a server administrator (the section stays hidden).
    if (codeOf(err) === 'FORBIDDEN') state.serverOnline = null;
  }
}

async function loadContacts(conn: ChatClient) {
  try {
    // Paged over the contacts (user id order): every page up to the total. The whole set: someone
    // who no longer shares a room with me is no longer listed.
    const contacts = new Set<string>();
    for (let offset = 0; ; offset += PAGE) {
      const { users, total, mine } = await conn.request('presence.contacts', { offset, limit: PAGE });
      if (state.client !== conn) return;
      for (const u of users) {
        applyPresence(u);
        contacts.add(u.userId);
      }
      if (offset === 0) applyMine(mine);
      if (offset + PAGE >= total) break;
    }
    state.contacts = contacts;
  } catch {
    // Retried on the next connection; live events still update what is shown.
  }
}

let contactsTimer: ReturnType<typeof setTimeout> | undefined;
/**
 * The people who share a room with me changed: someone joined a room of mine, or I joined one,
 * or a conversation opened (new contacts, whose statuses no event brings until they change);
 * someone left, was kicked or banned, or a room was deleted (gone contacts, whose last status
 * would otherwise stay). Read again (once for a burst).
 */
export function refreshContactsSoon() {
  clearTimeout(contactsTimer);
  contactsTimer = setTimeout(() => {
    const conn = state.client;
    if (!conn?.ready) return;
    const reads = [loadContacts(conn)];
    if (state.serverOnline) reads.push(loadServerOnline(conn));
    void Promise.all(reads).then(renderPresence);
  }, CONTACTS_SETTLE_MS);
}

/** presence.changed: a contact's (or my own, as others see me) status. */
export function onPresence(view: PresenceView, position: number) {
  applyPresence(view, position);
  if (state.serverOnline) {
    state.serverOnline = state.serverOnline.filter((u) => u.userId !== view.userId);
    if (view.status !== 'offline') state.serverOnline.push(view);
  }
  renderPresence();
}

/** presence.mine (any tab or device of mine) or the reply of presence.set. */
export function applyMine(mine: OwnPresenceView) {
  if (!mine?.status) return;
  if (state.mine && Date.parse(mine.updatedAt) < Date.parse(state.mine.updatedAt)) return;
  state.mine = mine;
  renderMine();
}

/** The top bar: my status, dot and custom text. */
export function renderMine() {
  const mine = state.mine;
  const status: ChosenStatus = mine?.status ?? 'online';
  el.statusSelect.value = status;
  el.meDot.dataset.status = status === 'invisible' ? 'offline' : status;
  el.meDot.title = chosenLabel(status);
  el.statusMenuDot.dataset.status = el.meDot.dataset.status;
  el.statusMenu.title = `${chosenLabel(status)}${mine?.text ? ` — ${mine.text}` : ''}`;
  el.statusTextLabel.textContent = mine?.text ?? t('presence:text.empty');
  el.statusText.classList.toggle('muted', !mine?.text);
  el.statusText.title = mine?.text ? t('presence:text.mine', { text: mine.text }) : t('presence:text.set');
}

/** Sets my status (and custom text: undefined keeps it, null clears it). */
export async function setStatus(status: ChosenStatus, text?: string | null) {
  const keep = state.mine;
  const nextText = text === undefined ? (keep?.text ?? null) : text;
  // Shown at once; the reply (and presence.mine) confirm it, a refusal puts it back.
  state.mine = { status, text: nextText, shown: keep?.shown ?? 'online', updatedAt: keep?.updatedAt ?? new Date(0).toISOString() };
  renderMine();
  try {
    const mine = await client().request('presence.set', { status, text: nextText });
    applyMine(mine);
  } catch (err) {
    state.mine = keep;
    renderMine();
    throw err;
  }
}

/** "Set a status": the status and a custom text (up to Limits.statusTextMaxChars), or clear it. */
export function openStatusDialog() {
  const max = Limits.statusTextMaxChars;
  const select = h(
    'select',
    { testid: 'status-dialog-select' },
    ...CHOSEN.map((s) => h('option', { value: s, text: chosenLabel(s) })),
  ) as HTMLSelectElement;
  select.value = state.mine?.status ?? 'online';
  const text = h('input', {
    testid: 'status-text-input',
    placeholder: t('presence:dialog.placeholder'),
    value: state.mine?.text ?? '',
  }) as HTMLInputElement;
  const left = h('span', { class: 'hint muted', testid: 'status-text-left' });
  const count = () => {
    const n = [...text.value.trim()].length;
    left.textContent = t('presence:dialog.left', { count: Math.max(0, max - n) });
    left.classList.toggle('warning', n > max);
  };
  text.addEventListener('input', count);
  count();
  const error = errorBox('status-error');
  const save = h('button', { type: 'submit', class: 'primary', testid: 'status-save' }, t('common:save')) as HTMLButtonElement;
  const clear = h('button', { type: 'button', testid: 'status-clear' }, t('presence:dialog.clear')) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    field(t('presence:dialog.status'), select, t('presence:dialog.statusHint')),
    field(t('presence:dialog.text'), text),
    left,
    error,
    h('div', { class: 'actions' }, save, clear),
  );
  const dialog = openDialog('status-dialog', t('presence:dialog.title'), form);
  const submit = async (value: string | null, button: HTMLButtonElement) => {
    if (value !== null && [...value.trim()].length > max) {
      showError(error, new Error(t('presence:dialog.tooLong', { max })));
      return;
    }
    const ok = await act(button, error, async () => {
      await setStatus(select.value as ChosenStatus, value === null ? null : cleanStatusText(value, max));
      return true;
    });
    if (ok) dialog.close();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit(text.value, save);
  });
  clear.onclick = () => void submit(null, clear);
  text.focus();
}

// ---------------------------------------------------------------- activity

let lastActiveSent = 0;

/** Others see me away while I chose online: automatic away (my own presence.changed, or presence.mine's `shown`). */
function autoAway(): boolean {
  if (state.mine?.status !== 'online') return false;
  const seen = presenceOf(me()?.userId ?? '');
  return seen?.status === 'away' || state.mine.shown === 'away';
}

/**
 * Input on the page: tells the gateway (`presence.active`) so that automatic away ends. At
 * once when the page knows it is shown away; otherwise at most once a minute.
 */
export function noteActivity() {
  const now = Date.now();
  if (!state.client?.ready) return;
  if (now - lastActiveSent < ACTIVE_EVERY_MS && !autoAway()) return;
  // Not more than once a second even while away (pointer moves come in bursts).
  if (now - lastActiveSent < 1000) return;
  lastActiveSent = now;
  state.client.request('presence.active', {}).catch(() => (lastActiveSent = 0));
}

/** A new connection starts active: the next input a minute from now is the first worth telling. */
export function resetActivity() {
  lastActiveSent = Date.now();
}

// ---------------------------------------------------------------- rendering

/** A person's status as a dot, their status word and custom text, and "last seen" when offline. */
export function statusBits(view: PresenceView | undefined): HTMLElement[] {
  if (!view) return [];
  const bits: HTMLElement[] = [h('span', { class: 'dot', 'data-status': view.status, title: statusLabel(view.status) })];
  if (view.status === 'offline')
    bits.push(
      h('span', {
        class: 'muted last-seen',
        testid: 'last-seen',
        title: fullTime(view.lastSeen),
        text: lastSeenText(view.lastSeen, Date.now(), (d) => dateFmt.format(d)),
      }),
    );
  else if (view.status !== 'online') bits.push(h('span', { class: 'muted status-label', text: statusLabel(view.status) }));
  if (view.text && view.status !== 'offline') bits.push(h('span', { class: 'status-text', testid: 'status-text', text: view.text }));
  return bits;
}

function personRow(u: PresenceView, testid: string) {
  const [dot, ...rest] = statusBits(u);
  return h(
    'li',
    {
      class: `person${rest.length ? ' has-status' : ''}`,
      testid,
      'data-user-id': u.userId,
      'data-status': u.status,
      title: `${u.username} — ${statusLabel(u.status)}${u.text ? ` — ${u.text}` : ''}`,
    },
    dot,
    h(
      'span',
      { class: 'person-line' },
      // A person's name opens their profile card (moderation inside it for those who may).
      h('button', {
        type: 'button',
        class: 'link-button person-name',
        testid: 'person-open',
        text: u.username,
        onclick: () => openUserCard({ userId: u.userId, username: u.username }, state.currentRoomId),
      }),
      u.userId === me()?.userId ? h('span', { class: 'muted you', text: t('presence:you') }) : null,
    ),
    rest.length ? h('span', { class: 'person-status' }, ...rest) : null,
  );
}

const byName = (a: PresenceView, b: PresenceView) => a.username.localeCompare(b.username);

/** The people column: contacts online (and away, busy), then offline ones with last seen; the server list for admins. */
export function renderPresence() {
  const contacts = state.contacts;
  const all = [...state.presence.values()].map((p) => p.view).filter((u) => contacts?.has(u.userId));
  const online = all.filter((u) => u.status !== 'offline').sort(byName);
  const offline = all.filter((u) => u.status === 'offline' && u.userId !== me()?.userId).sort(byName);
  el.onlineCount.textContent = String(online.length);
  el.togglePeopleCount.textContent = String(online.length);
  el.onlineList.replaceChildren(...online.map((u) => personRow(u, 'online-user')));
  el.offlineHead.hidden = offline.length === 0;
  el.offlineList.replaceChildren(...offline.map((u) => personRow(u, 'offline-user')));
  const server = state.serverOnline;
  el.serverOnlineSection.hidden = !server;
  if (server) {
    // Everyone online includes every contact seen online since the last read (their
    // presence.changed is newer than the list), and no contact seen going offline.
    const byId = new Map(server.map((u) => [u.userId, u]));
    for (const u of all) {
      if (u.status === 'offline') byId.delete(u.userId);
      else byId.set(u.userId, u);
    }
    const users = [...byId.values()].sort(byName);
    el.serverOnlineCount.textContent = String(users.length);
    el.serverOnlineList.replaceChildren(...users.map((u) => personRow(u, 'server-online-user')));
  }
  onPresenceRendered.forEach((f) => f());
}

/** Other parts showing statuses (conversation list, member list) redraw with the people column. */
export const onPresenceRendered: Array<() => void> = [];
