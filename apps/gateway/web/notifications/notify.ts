import type { MessageView } from '@chat/contracts';
import { h } from '../dom';
import { language, t } from '../i18n/i18n';
import { el, isMember, me, state } from '../state';
import { mutedOf, notificationText, shouldNotify, titleCount, titleText, withMuted } from './decide';

// Desktop notifications (the Notification API) for mentions of me and private messages while I
// am not looking, after the person allowed them by a click (Settings, or the one-time hint);
// the tab title's count of what waits for me ("(N) Chat": unread mentions and private
// messages, from reads/' counts); and rooms muted per user (localStorage `chat.mutedRooms`): no
// notification, not counted in the title, their unread badge dimmed (a mention badge is not).

const MUTED_KEY = 'chat.mutedRooms';
const HINT_KEY = 'chat.notifyHint';

const permission = (): string => (typeof Notification === 'function' ? Notification.permission : 'unsupported');

function storage(): Storage | null {
  try {
    return localStorage;
  } catch {
    return null;
  }
}

function muted(): Set<string> {
  const user = me()?.userId;
  return user ? mutedOf(storage()?.getItem(MUTED_KEY) ?? null, user) : new Set();
}

export const isMuted = (roomId: string) => muted().has(roomId);

function setMuted(roomId: string, on: boolean) {
  const user = me()?.userId;
  const store = storage();
  if (!user || !store) return;
  store.setItem(MUTED_KEY, withMuted(store.getItem(MUTED_KEY), user, roomId, on));
  renderMuted();
}

let openRoom: (roomId: string) => unknown = () => undefined;

/** A message arrived live: a desktop notification when it is for me and I am not looking. */
export function notifyPosted(m: MessageView) {
  const myId = me()?.userId;
  const posted = {
    roomId: m.roomId,
    senderId: m.senderId,
    senderName: m.senderName,
    body: m.body,
    mentionsMe: !!myId && m.mentions.some((x) => x.userId === myId),
    isConversation: state.conversations.has(m.roomId) || m.roomId.startsWith('dm-'),
  };
  const page = {
    myUserId: myId,
    openRoomId: state.currentRoomId,
    visible: document.visibilityState === 'visible',
    muted: isMuted(m.roomId),
    permission: permission(),
  };
  if (!shouldNotify(posted, page)) return;
  const room = state.rooms.get(m.roomId);
  const { title, body } = notificationText(posted, room ? `# ${room.name}` : undefined);
  try {
    const n = new Notification(title, { body, tag: m.messageId, lang: language(), icon: '/favicon.svg' });
    n.onclick = () => {
      window.focus();
      void openRoom(m.roomId);
      n.close();
    };
  } catch {
    // Some browsers (Android Chrome) allow notifications only from a service worker: none then.
  }
}

/** Asks for permission: only from a click (browsers refuse, or remember a refusal, otherwise). */
async function enable(): Promise<void> {
  if (typeof Notification !== 'function') return;
  await Notification.requestPermission();
  storage()?.setItem(HINT_KEY, 'done');
  document.getElementById('notify-hint')?.remove();
  for (const f of settingsViews) f();
}

const settingsViews = new Set<() => void>();

/** Settings → Notifications: what is on, and the button that asks for permission. */
export function notificationSettings(): HTMLElement {
  const box = h('div', { class: 'notify-settings', testid: 'notify-settings' });
  let drawn = false;
  const render = () => {
    // The settings dialog was closed: forget it.
    if (drawn && !box.isConnected) return void settingsViews.delete(render);
    drawn = true;
    const p = permission();
    box.dataset.permission = p;
    if (p === 'default') {
      // The state and the action apart: a button reading "…: enable" looked like it was already on.
      box.replaceChildren(
        h(
          'p',
          { class: 'notify-off' },
          h('span', { testid: 'notifications-off', text: t('notifications:desktop.off') }),
          ' ',
          h(
            'button',
            { type: 'button', class: 'small', testid: 'notifications-enable', onclick: () => void enable() },
            t('notifications:desktop.enable'),
          ),
        ),
      );
    } else {
      const key = p === 'granted' ? 'on' : p === 'denied' ? 'denied' : 'unsupported';
      box.replaceChildren(h('p', { class: 'muted hint', testid: 'notifications-state', text: t(`notifications:desktop.${key}`) }));
    }
  };
  settingsViews.add(render);
  render();
  return box;
}

/**
 * Once per browser, while permission was never asked: a hint offering notifications
 * (dismissible), at the top of the room list: a toast would cover the top bar on a phone.
 */
function showHint() {
  if (permission() !== 'default' || storage()?.getItem(HINT_KEY) || document.getElementById('notify-hint')) return;
  const close = () => {
    storage()?.setItem(HINT_KEY, 'done');
    hint.remove();
  };
  const hint = h(
    'div',
    { id: 'notify-hint', class: 'notify-hint', testid: 'notify-hint', role: 'status' },
    h('span', { text: t('notifications:desktop.hint') }),
    ' ',
    h(
      'button',
      { type: 'button', class: 'small', testid: 'notify-hint-enable', onclick: () => void enable() },
      t('notifications:desktop.hintEnable'),
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'link-button notify-hint-close',
        testid: 'notify-hint-dismiss',
        title: t('common:dismiss'),
        'aria-label': t('common:dismiss'),
        onclick: close,
      },
      '×',
    ),
  );
  el.roomsPanel.prepend(hint);
}

/**
 * The tab title, the muted rooms' marks in the lists and the room header's mute button. Drawn
 * again whenever the room lists are (they are, whenever a count changes) and when another room
 * opens: nothing in reads/ needs to call here.
 */
export function renderMuted() {
  const mutedNow = muted();
  const count = state.session
    ? titleCount(
        state.reads.values(),
        (id) => state.conversations.has(id),
        (id) => mutedNow.has(id),
      )
    : 0;
  const title = titleText(t('shell:title'), count);
  if (document.title !== title) document.title = title;
  document.documentElement.dataset.unread = String(count);
  for (const li of document.querySelectorAll<HTMLElement>('#room-list li[data-room-id], #conversation-list li[data-room-id]'))
    li.toggleAttribute('data-muted', mutedNow.has(li.dataset.roomId ?? ''));
  const roomId = state.currentRoomId;
  el.muteRoom.hidden = !roomId || !isMember(roomId);
  const on = !!roomId && mutedNow.has(roomId);
  el.muteRoom.setAttribute('aria-pressed', String(on));
  el.muteRoom.textContent = on ? `🔕 ${t('notifications:mute.off')}` : t('notifications:mute.on');
  el.muteRoom.title = on ? t('notifications:mute.title') : t('notifications:mute.onTitle');
}

/** Wires the parts above; `open` opens a room (a clicked notification). */
export function initNotifications(open: (roomId: string) => unknown) {
  openRoom = open;
  const redraw = () => renderMuted();
  const lists = new MutationObserver(redraw);
  for (const list of [el.roomList, el.conversationList]) lists.observe(list, { childList: true, subtree: true, characterData: true });
  new MutationObserver(redraw).observe(el.roomView, { attributes: true, attributeFilter: ['data-room-id'] });
  el.muteRoom.addEventListener('click', () => {
    const roomId = state.currentRoomId;
    if (roomId) setMuted(roomId, !isMuted(roomId));
  });
  // Another tab of mine muted or unmuted a room.
  window.addEventListener('storage', (e) => e.key === MUTED_KEY && renderMuted());
}

/** After login: the hint (once), and the title and marks for this user. */
export function startNotifications() {
  showHint();
  renderMuted();
}
