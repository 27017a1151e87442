import type { BanView, MemberRole, MemberView } from '@chat/contracts';
import { LIMITS as Limits } from '../limits';
import { act, errorBox, h, shortTime, showError, toast } from '../dom';
import { t } from '../i18n/i18n';
import { messageTo } from '../conversations/list';
import { roleName } from '../rooms/format';
import { knownUsers } from '../moderation/people';
import { avatarEl } from './avatar';
import { client, el, isAdmin, me, myRole, state } from '../state';
import { applyPresence, onPresenceRendered, presenceOf, renderPresence, statusBits } from '../presence/status';
import { mayModerate, openUserCard } from '../moderation/user-card';

// The open room's members (`room.members`, paged: "load more"), each with what my role allows
// on them: make admin / member and transfer ownership (owner), kick and ban with a reason
// (admins, not on the owner nor on other admins unless I am the owner). Admins also invite by
// username and see the ban list with unban. Live membership events patch the loaded list.

const PAGE = 50;

interface Loaded {
  roomId: string;
  members: MemberView[];
  total: number;
  nextOffset: number | null;
  bans: BanView[] | null;
}
let loaded: Loaded | null = null;
let loading: string | null = null;

const ROLE_ORDER: Record<MemberRole, number> = { owner: 0, admin: 1, member: 2 };
const sortMembers = (ms: MemberView[]) =>
  ms.sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.joinedAt.localeCompare(b.joinedAt));

export function renderMembers(reload: boolean) {
  const roomId = state.currentRoomId;
  if (!roomId || !state.rooms.has(roomId)) return;
  el.sideTitle.textContent = t('members:title');
  if (reload || loaded?.roomId !== roomId) {
    if (loaded?.roomId !== roomId) el.sideBody.replaceChildren(h('p', { class: 'muted', text: t('members:loading') }));
    void load(roomId);
    if (loaded?.roomId !== roomId) return;
  }
  draw();
}

async function load(roomId: string) {
  if (loading === roomId) return;
  loading = roomId;
  try {
    const conn = client();
    const [page, bans] = await Promise.all([
      conn.request('room.members', { roomId, limit: PAGE }),
      isAdmin(roomId)
        ? conn.request('room.bans', { roomId }).then(
            (r) => r.bans,
            () => null,
          )
        : Promise.resolve(null),
    ]);
    if (state.currentRoomId !== roomId) return;
    loaded = { roomId, members: sortMembers(page.members), total: page.total, nextOffset: page.nextOffset, bans };
    if (state.side === 'members') draw();
    void loadStatuses(roomId, 0, page.members.length);
  } catch (err) {
    if (state.currentRoomId !== roomId || state.side !== 'members') return;
    const box = errorBox('members-error');
    showError(box, err);
    el.sideBody.replaceChildren(box, inviteForm(roomId));
  } finally {
    loading = null;
  }
}

async function loadMore(button: HTMLButtonElement) {
  const l = loaded;
  if (!l || l.nextOffset === null) return;
  const offset = l.nextOffset;
  const page = await act(button, null, () =>
    client().request('room.members', { roomId: l.roomId, offset: l.nextOffset ?? 0, limit: PAGE }),
  );
  if (!page || loaded !== l) return;
  const known = new Set(l.members.map((m) => m.userId));
  l.members = sortMembers([...l.members, ...page.members.filter((m) => !known.has(m.userId))]);
  l.total = page.total;
  l.nextOffset = page.nextOffset;
  draw();
  void loadStatuses(l.roomId, offset, page.members.length);
}

/**
 * The statuses of a page of members (`presence.room`, the member list's order). Rooms larger
 * than the presence fan-out push no status changes: reading them here (when the panel is
 * opened or paged) is how their members' statuses are known.
 */
async function loadStatuses(roomId: string, offset: number, count: number) {
  if (!count) return;
  try {
    const { users } = await client().request('presence.room', { roomId, offset, limit: Math.min(count, Limits.presencePageMax) });
    for (const u of users) applyPresence(u);
    renderPresence();
  } catch {
    // Statuses stay as known (contacts); the list itself is shown.
  }
}

// Live status changes redraw the open list.
onPresenceRendered.push(() => {
  if (loaded && state.side === 'members' && state.currentRoomId === loaded.roomId) draw();
});

// ---------------------------------------------------------------- live changes

/** A membership change in a room: patches the loaded list when it is that room's. */
export function patchMembers(
  roomId: string,
  change: { joined?: MemberView; gone?: string; role?: { userId: string; role: MemberRole }; banned?: BanView; unbanned?: string },
) {
  const l = loaded;
  if (!l || l.roomId !== roomId) return;
  if (change.joined && !l.members.some((m) => m.userId === change.joined!.userId)) {
    l.members = sortMembers([...l.members, change.joined]);
    l.total++;
  }
  if (change.gone) {
    const before = l.members.length;
    l.members = l.members.filter((m) => m.userId !== change.gone);
    if (l.members.length < before) l.total = Math.max(0, l.total - 1);
  }
  if (change.role) {
    const m = l.members.find((x) => x.userId === change.role!.userId);
    if (m) m.role = change.role.role;
    sortMembers(l.members);
  }
  if (change.banned && l.bans && !l.bans.some((b) => b.userId === change.banned!.userId)) l.bans.push(change.banned);
  if (change.unbanned && l.bans) l.bans = l.bans.filter((b) => b.userId !== change.unbanned);
  if (state.side === 'members' && state.currentRoomId === roomId) draw();
}

/** My role changed: the actions and the ban list depend on it. */
export function forgetMembers(roomId: string) {
  if (loaded?.roomId === roomId) loaded = null;
}

// ---------------------------------------------------------------- rendering

function draw() {
  const l = loaded;
  if (!l) return;
  const admin = isAdmin(l.roomId);
  const more = h(
    'button',
    { type: 'button', testid: 'members-more', hidden: l.nextOffset === null },
    t('members:more'),
  ) as HTMLButtonElement;
  more.onclick = () => loadMore(more);
  // Live events redraw the panel: what is being typed (an invitation, a kick or ban reason)
  // moves over to the new rows as the same elements, focus included.
  const focused =
    document.activeElement instanceof HTMLElement && el.sideBody.contains(document.activeElement) ? document.activeElement : null;
  const open = el.sideBody.querySelector<HTMLElement>('.member > .inline-form');
  const openFor = open?.parentElement?.dataset.userId;
  // So does an open "⋯" menu (a status change redraws the list while it is being used).
  const menuFor = el.sideBody.querySelector<HTMLElement>('.member-menu[open]')?.closest<HTMLElement>('.member')?.dataset.userId;
  if (!admin || invite?.roomId !== l.roomId) invite = admin ? { roomId: l.roomId, form: inviteForm(l.roomId) } : null;
  const parts: HTMLElement[] = [];
  if (invite) parts.push(invite.form);
  const rows = l.members.map((m) => memberItem(l.roomId, m));
  parts.push(
    h('p', { class: 'muted', testid: 'members-total', text: t('members:total', { count: l.total }) }),
    h('ul', { class: 'member-list', testid: 'member-list' }, ...rows),
    more,
  );
  // The ban list shows only when someone is banned: an empty "Banned (0)" is noise.
  if (admin && l.bans?.length) parts.push(banList(l.roomId, l.bans));
  el.sideBody.replaceChildren(...parts);
  const row = open && rows.find((r) => r.dataset.userId === openFor && r.querySelector('.member-menu'));
  if (open && row) row.append(open);
  const menu = menuFor && rows.find((r) => r.dataset.userId === menuFor)?.querySelector<HTMLDetailsElement>('.member-menu');
  if (menu) menu.open = true;
  if (focused?.isConnected) focused.focus({ preventScroll: true });
}

/** The invitation form of the panel's room, kept across redraws. */
let invite: { roomId: string; form: HTMLElement } | null = null;

function inviteForm(roomId: string) {
  const username = h('input', {
    testid: 'invite-username',
    placeholder: t('members:invite.placeholder'),
    'aria-label': t('members:invite.label'),
    list: PEOPLE_LIST,
    maxlength: 128,
    spellcheck: 'false',
    autocapitalize: 'none',
  }) as HTMLInputElement;
  const send = h(
    'button',
    { type: 'submit', class: 'primary small', testid: 'invite-send' },
    t('members:invite.send'),
  ) as HTMLButtonElement;
  const error = errorBox('invite-error');
  const form = h(
    'form',
    { class: 'invite-form', testid: 'invite-form', novalidate: true },
    h('div', { class: 'row' }, username, send),
    peopleList(PEOPLE_LIST),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = username.value.trim();
    if (!name) return;
    const ack = await act(send, error, () => client().request('room.invite', { roomId, username: name }));
    if (ack) {
      username.value = '';
      toast(t('members:invite.done', { name }));
    }
  });
  return form;
}

function memberItem(roomId: string, m: MemberView) {
  const mine = myRole(roomId);
  const self = m.userId === me()?.userId;
  const owner = mine === 'owner';
  const admin = owner || mine === 'admin';
  const error = errorBox('member-error');
  const presence = presenceOf(m.userId);
  const [dot, ...status] = statusBits(presence);
  const user = { userId: m.userId, username: m.username };
  // The name opens the person's profile card (status, last seen, a message; moderation for those who may).
  const name = h('button', {
    type: 'button',
    class: 'link-button person-name',
    testid: 'member-open',
    title: t('members:profile', { name: m.username }),
    text: m.username,
    onclick: () => openUserCard(user, roomId),
  });
  const row = h(
    'li',
    { class: 'member', testid: `member-${m.username}`, 'data-user-id': m.userId, 'data-role': m.role },
    h('span', { class: 'avatar-wrap' }, avatarEl(m.userId, m.username, 'small'), dot ?? null),
    name,
    self ? h('span', { class: 'muted you', text: t('members:you') }) : null,
    m.role !== 'member'
      ? h('span', { class: `role-badge ${m.role}`, testid: 'member-role', 'data-role': m.role, text: roleName(m.role) })
      : null,
    h('span', { class: 'person-status', testid: 'member-status', 'data-status': presence?.status ?? '' }, ...status),
  );
  if (self) return row;
  const message = h(
    'button',
    { type: 'button', class: 'small', testid: 'member-message', title: t('members:message.title', { name: m.username }) },
    t('members:message'),
  ) as HTMLButtonElement;
  message.onclick = () => void messageTo(user);
  // The rarer actions (roles, kick, ban, ownership) wait behind "⋯": a row shows one button.
  const items = h('div', { class: 'member-menu-items', role: 'group', 'aria-label': t('members:actions.label', { name: m.username }) });
  const menu = h(
    'details',
    { class: 'member-menu' },
    h(
      'summary',
      {
        testid: 'member-menu',
        title: t('members:actions.label', { name: m.username }),
        'aria-label': t('members:actions.label', { name: m.username }),
      },
      '⋯',
    ),
    items,
  ) as HTMLDetailsElement;
  const button = (testid: string, label: string, onclick: (b: HTMLButtonElement) => void, danger = false) => {
    const b = h('button', { type: 'button', class: danger ? 'small danger-text' : 'small', testid }, label) as HTMLButtonElement;
    b.onclick = () => {
      menu.open = false;
      onclick(b);
    };
    items.append(b);
  };
  if (owner && m.role === 'member')
    button('member-make-admin', t('members:makeAdmin'), (b) =>
      act(b, error, () => client().request('room.setRole', { roomId, userId: m.userId, role: 'admin' })).then(() => undefined),
    );
  if (owner && m.role === 'admin')
    button('member-make-member', t('members:makeMember'), (b) =>
      act(b, error, () => client().request('room.setRole', { roomId, userId: m.userId, role: 'member' })).then(() => undefined),
    );
  // Admins act on plain members; the owner on admins as well. Nobody acts on the owner.
  if (admin && m.role !== 'owner' && (owner || m.role === 'member')) {
    button('member-kick', t('members:kick'), () => sanctionForm(row, roomId, m, 'kick'), true);
    button('member-ban', t('members:ban'), () => sanctionForm(row, roomId, m, 'ban'), true);
  }
  if (owner && m.role !== 'owner') button('member-transfer', t('members:makeOwner'), () => transferForm(row, roomId, m), true);
  // Warn, mute, disconnect, ban (server staff); mute in this room (its owner and admins): the profile card's section.
  if (mayModerate(m.userId, roomId)) button('member-moderate', t('members:moderate'), () => openUserCard(user, roomId));
  row.append(h('span', { class: 'member-actions' }, message, items.childElementCount ? menu : null), error);
  return row;
}

// A click elsewhere or Escape closes an open "⋯" menu, as menus do.
document.addEventListener('click', (e) => {
  for (const d of document.querySelectorAll<HTMLDetailsElement>('.member-menu[open]')) if (!d.contains(e.target as Node)) d.open = false;
});
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  for (const d of document.querySelectorAll<HTMLDetailsElement>('.member-menu[open]')) {
    d.open = false;
    d.querySelector('summary')?.focus();
  }
});

/** Kick or ban: an optional reason, then confirm. */
function sanctionForm(row: HTMLElement, roomId: string, m: MemberView, kind: 'kick' | 'ban') {
  row.querySelector('.inline-form')?.remove();
  const reason = h('input', {
    testid: 'sanction-reason',
    placeholder: t('members:sanction.reason'),
    'aria-label': t('members:sanction.reason'),
    maxlength: 300,
  }) as HTMLInputElement;
  const confirm = h(
    'button',
    { type: 'submit', class: 'small danger', testid: 'sanction-confirm' },
    kind === 'kick' ? t('members:sanction.kick', { name: m.username }) : t('members:sanction.ban', { name: m.username }),
  ) as HTMLButtonElement;
  const cancel = h('button', { type: 'button', class: 'small', testid: 'sanction-cancel' }, t('common:cancel')) as HTMLButtonElement;
  const error = errorBox('sanction-error');
  const form = h('form', { class: 'inline-form', novalidate: true }, reason, h('span', { class: 'row' }, confirm, cancel), error);
  cancel.onclick = () => form.remove();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const req = { roomId, userId: m.userId, ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) };
    const ack = await act(confirm, error, () => client().request(kind === 'kick' ? 'room.kick' : 'room.ban', req));
    if (!ack) return;
    form.remove();
    patchMembers(roomId, { gone: m.userId });
    if (kind === 'ban')
      patchMembers(roomId, {
        banned: { userId: m.userId, username: m.username, by: me()!, reason: req.reason ?? '', time: new Date().toISOString() },
      });
  });
  row.append(form);
  reason.focus();
}

function transferForm(row: HTMLElement, roomId: string, m: MemberView) {
  row.querySelector('.inline-form')?.remove();
  const confirm = h(
    'button',
    { type: 'button', class: 'small danger', testid: 'transfer-confirm' },
    t('members:transfer.confirm', { name: m.username }),
  ) as HTMLButtonElement;
  const cancel = h('button', { type: 'button', class: 'small', testid: 'transfer-cancel' }, t('common:cancel')) as HTMLButtonElement;
  const error = errorBox('transfer-error');
  const form = h(
    'div',
    { class: 'inline-form' },
    h('p', { class: 'warning', text: t('members:transfer.warning') }),
    h('span', { class: 'row' }, confirm, cancel),
    error,
  );
  cancel.onclick = () => form.remove();
  confirm.onclick = () => act(confirm, error, () => client().request('room.transfer', { roomId, userId: m.userId })).then(() => undefined);
  row.append(form);
}

function banList(roomId: string, bans: BanView[]) {
  return h(
    'section',
    { class: 'ban-section' },
    h('h3', { text: t('members:bans.title', { count: bans.length }) }),
    h(
      'ul',
      { class: 'member-list', testid: 'ban-list' },
      ...bans.map((b) => {
        const error = errorBox('unban-error');
        const unban = h('button', { type: 'button', class: 'small', testid: 'unban' }, t('members:unban')) as HTMLButtonElement;
        unban.onclick = async () => {
          const ack = await act(unban, error, () => client().request('room.unban', { roomId, userId: b.userId }));
          if (ack) patchMembers(roomId, { unbanned: b.userId });
        };
        return h(
          'li',
          { class: 'member banned', testid: `ban-${b.username}`, 'data-user-id': b.userId },
          h('span', { class: 'person-name', text: b.username }),
          h('span', {
            class: 'muted small-text',
            text: [t('members:bans.by', { name: b.by.username, time: shortTime(b.time) }), b.reason].filter(Boolean).join(' · '),
          }),
          unban,
          error,
        );
      }),
    ),
  );
}

// ---------------------------------------------------------------- people to pick

const PEOPLE_LIST = 'members-people';

/**
 * A datalist of the people this page knows (statuses, conversations, senders, the loaded member
 * list), for the fields that take a username: no operation looks names up, so these are the
 * suggestions. Filled when made; `id` is what the inputs' `list` names.
 */
export function peopleList(id: string): HTMLDataListElement {
  const names = new Set<string>();
  for (const u of knownUsers().values()) names.add(u.username);
  for (const m of loaded?.members ?? []) names.add(m.username);
  const mine = me()?.username;
  return h(
    'datalist',
    { id },
    ...[...names]
      .filter((n) => n !== mine)
      .sort((a, b) => a.localeCompare(b))
      .map((n) => h('option', { value: n })),
  ) as HTMLDataListElement;
}

/** The people of the loaded member list (the search's person filter resolves names among them too). */
export const loadedMembers = (): readonly MemberView[] => loaded?.members ?? [];
