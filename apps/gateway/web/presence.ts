import type { PresenceView, SettableStatus } from '@chat/contracts';
import { codeOf, h, showError } from './dom';
import { prefs } from './session';
import { client, el, me, state } from './state';

// Who is online: the list read on every connection (`presence.list`), kept current by
// `presence.changed` events ordered by their stream position; and my own status.

export async function loadPresence() {
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

export function onPresence(view: PresenceView, position: number) {
  if (!view?.userId) return;
  state.presenceBuffer?.push([view, position]);
  applyPresence(view, position);
  if (view.userId === me()?.userId && view.status !== 'offline') el.meDot.dataset.status = view.status;
  renderPresence();
}

export function renderPresence() {
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

export async function setStatus(status: SettableStatus) {
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
