import type { MuteView, ServerRole, UserView } from '@chat/contracts';
import { act, errorBox, fullTime, h, openDialog, showError, toast } from '../dom';
import { t } from '../i18n/i18n';
import { client, isAdmin, me, state } from '../state';
import { MUTE_DURATIONS, ruleName, untilText } from './format';
import { avatarEl } from '../members/avatar';
import { remember, roomName, userName } from './people';
import { isServerAdmin, isStaff, scopeText } from './standing';
import { presenceOf, statusBits } from '../presence/status';
import { messageTo } from '../conversations/list';

// A person's card, opened from the people column, the member list or a message. What moderators do to them: server
// staff warn, mute (in the room or on the whole server, for a time), disconnect (kick) and ban
// from the server; administrators also give server roles. A room's owner and admins mute in
// their room. The person's active mutes are listed with "unmute".

const REASON_MAX = 300;

/** May I open the moderation card of someone (in `roomId`)? Server staff anywhere; room owners and admins in their room. */
export const mayModerate = (userId: string, roomId: string | null) =>
  userId !== me()?.userId && (isStaff() || (!!roomId && !state.conversations.has(roomId) && isAdmin(roomId)));

/**
 * A person's profile card: avatar, name, status (or last seen) and "Send a message"; below it
 * the moderation I may do to them (server staff anywhere; a room's owner and admins in `roomId`).
 */
export function openUserCard(user: UserView, roomId: string | null) {
  remember(user);
  const self = user.userId === me()?.userId;
  const staff = isStaff() && !self;
  const inRoom = !self && roomId && !state.conversations.has(roomId) && (staff || isAdmin(roomId)) ? roomId : null;
  const sections: HTMLElement[] = [];
  if (staff || inRoom) {
    const mutes = h(
      'section',
      { class: 'card-section', testid: 'user-mutes' },
      h('p', { class: 'muted', text: t('moderation:card.loadingMutes') }),
    );
    sections.push(
      h('h3', { class: 'user-card-mod-title', text: t('moderation:card.moderation') }),
      h('p', {
        class: 'muted small-text',
        text: staff ? t('moderation:card.asStaff') : t('moderation:card.inRoom', { room: roomName(inRoom ?? '') }),
      }),
      mutes,
    );
    if (staff) sections.push(warnForm(user));
    sections.push(muteForm(user, staff, inRoom, () => void loadMutes(user, inRoom, staff, mutes)));
    if (staff) sections.push(sanctionForm(user, 'kick'), sanctionForm(user, 'ban'));
    void loadMutes(user, inRoom, staff, mutes);
  }
  if (isServerAdmin() && !self) sections.push(roleForm(user));
  const [dot, ...status] = statusBits(presenceOf(user.userId));
  const message = self
    ? null
    : (h('button', { type: 'button', class: 'primary', testid: 'user-card-message' }, t('moderation:card.message')) as HTMLButtonElement);
  const who = h(
    'div',
    { class: 'user-card-head' },
    h('span', { class: 'avatar-wrap' }, avatarEl(user.userId, userName(user)), dot ?? null),
    h(
      'div',
      { class: 'user-card-who' },
      h('strong', { class: 'user-card-name', testid: 'user-card-name', text: userName(user) }),
      h(
        'span',
        { class: 'person-status', testid: 'user-card-status' },
        ...(status.length ? status : dot ? [h('span', { class: 'muted', text: dot.title })] : []),
      ),
    ),
    message,
  );
  const dialog = openDialog(
    'user-card',
    t('moderation:card.title'),
    h('div', { class: 'user-card', 'data-user-id': user.userId }, who, ...sections),
  );
  if (message)
    message.onclick = () => {
      dialog.close();
      void messageTo(user);
    };
}

/** The person's active mutes I can see: server-wide and every room's for staff, the room's for its admins. */
async function loadMutes(user: UserView, roomId: string | null, staff: boolean, box: HTMLElement) {
  try {
    const lists = await Promise.all([
      staff ? client().request('mod.mutes', {}) : Promise.resolve({ mutes: [] as MuteView[] }),
      roomId ? client().request('mod.mutes', { roomId }) : Promise.resolve({ mutes: [] as MuteView[] }),
    ]);
    const byId = new Map<string, MuteView>();
    for (const l of lists) for (const m of l.mutes) if (m.userId === user.userId) byId.set(m.muteId, m);
    const list = [...byId.values()];
    box.replaceChildren(
      h('h3', { text: t('moderation:card.muted') }),
      list.length
        ? h('ul', { class: 'member-list' }, ...list.map((m) => muteRow(m, () => void loadMutes(user, roomId, staff, box))))
        : h('p', { class: 'muted', testid: 'user-not-muted', text: t('moderation:card.notMuted') }),
    );
  } catch (err) {
    const error = errorBox('user-mutes-error');
    showError(error, err);
    box.replaceChildren(h('h3', { text: t('moderation:card.muted') }), error);
  }
}

/** One active mute with "Unmute" (also used by the moderation panel and the room settings). */
export function muteRow(m: MuteView, after: () => void): HTMLElement {
  const error = errorBox('unmute-error');
  const unmute = h('button', { type: 'button', class: 'small', testid: 'unmute' }, t('moderation:unmute')) as HTMLButtonElement;
  unmute.onclick = async () => {
    const ack = await act(unmute, error, () =>
      client().request('mod.unmute', { userId: m.userId, ...(m.roomId ? { roomId: m.roomId } : {}) }),
    );
    if (ack) {
      toast(t('moderation:unmuted.done', { name: m.username, scope: scopeText(m.roomId) }));
      after();
    }
  };
  remember({ userId: m.userId, username: m.username }, m.by);
  return h(
    'li',
    { class: 'member mod-row', testid: `mute-${m.username}`, 'data-user-id': m.userId, 'data-room-id': m.roomId ?? '' },
    h('span', { class: 'person-name', text: m.username }),
    h('span', {
      class: 'muted small-text',
      title: fullTime(m.until),
      text: [
        t('moderation:mute.until', { scope: scopeText(m.roomId), until: untilText(m.until) }),
        m.by
          ? t('moderation:by', { name: m.by.username })
          : m.rule
            ? t('moderation:auto.rule', { rule: ruleName(m.rule) })
            : t('moderation:auto'),
        m.reason,
      ]
        .filter(Boolean)
        .join(' · '),
    }),
    unmute,
    error,
  );
}

const reasonInput = (testid: string, required = false) =>
  h('input', {
    testid,
    'data-field': 'reason',
    maxlength: REASON_MAX,
    placeholder: t(required ? 'moderation:reason.required' : 'moderation:reason.optional'),
  }) as HTMLInputElement;

function section(testid: string, title: string, ...content: HTMLElement[]): HTMLElement {
  return h('form', { class: 'card-section dialog-form', testid, novalidate: true }, h('h3', { text: title }), ...content);
}

function warnForm(user: UserView) {
  const reason = reasonInput('warn-reason', true);
  const error = errorBox('warn-error');
  const send = h('button', { type: 'submit', testid: 'warn-send' }, t('moderation:warn')) as HTMLButtonElement;
  const form = section('user-warn', t('moderation:warn.title'), h('div', { class: 'row' }, reason, send), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) return showError(error, new Error(t('moderation:warn.needsReason')));
    const ack = await act(send, error, () => client().request('mod.warn', { userId: user.userId, reason: reason.value.trim() }));
    if (ack) {
      reason.value = '';
      toast(t('moderation:warn.done', { name: user.username }));
    }
  });
  return form;
}

function muteForm(user: UserView, staff: boolean, roomId: string | null, after: () => void) {
  const scope = h(
    'select',
    { testid: 'mute-scope' },
    roomId ? h('option', { value: roomId, text: scopeText(roomId) }) : null,
    staff ? h('option', { value: '', text: scopeText(null) }) : null,
  ) as HTMLSelectElement;
  const duration = h(
    'select',
    { testid: 'mute-duration', 'data-field': 'seconds' },
    ...MUTE_DURATIONS.map((d) => h('option', { value: d.seconds, text: d.label() })),
  ) as HTMLSelectElement;
  duration.value = '3600';
  const reason = reasonInput('mute-reason');
  const error = errorBox('mute-error');
  const send = h('button', { type: 'submit', testid: 'mute-send' }, t('moderation:mute')) as HTMLButtonElement;
  const form = section(
    'user-mute',
    t('moderation:mute.title'),
    h('div', { class: 'row' }, scope, duration),
    reason,
    h('div', { class: 'actions' }, send),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const req = {
      userId: user.userId,
      seconds: Number(duration.value),
      ...(scope.value ? { roomId: scope.value } : {}),
      ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
    };
    const ack = await act(send, error, () => client().request('mod.mute', req));
    if (!ack) return;
    reason.value = '';
    toast(
      t('moderation:mute.done', {
        name: user.username,
        scope: scopeText(ack.mute?.roomId ?? req.roomId ?? null),
        until: untilText(ack.mute?.until ?? ''),
      }),
    );
    after();
  });
  return form;
}

function sanctionForm(user: UserView, kind: 'kick' | 'ban') {
  const reason = reasonInput(`${kind}-reason`);
  const error = errorBox(`${kind}-error`);
  const label = t(`moderation:${kind}.send`, { name: user.username });
  const send = h('button', { type: 'submit', class: 'danger', testid: `${kind}-send` }, label) as HTMLButtonElement;
  const form = section(
    `user-${kind}`,
    t(`moderation:${kind}.title`),
    h('p', { class: 'hint muted', text: t(`moderation:${kind}.hint`) }),
    reason,
    h('div', { class: 'actions' }, send),
    error,
  );
  let armed = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // A ban asks once more: the button turns into "Confirm".
    if (kind === 'ban' && !armed) {
      armed = true;
      send.textContent = t('moderation:ban.confirm', { name: user.username });
      send.classList.add('armed');
      return;
    }
    const req = { userId: user.userId, ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) };
    const ack = await act(send, error, () => client().request(kind === 'kick' ? 'mod.kick' : 'mod.ban', req));
    if (!ack) return;
    toast(t(`moderation:${kind}.done`, { name: user.username }));
    form.closest('dialog')?.close();
  });
  return form;
}

function roleForm(user: UserView) {
  const role = h(
    'select',
    { testid: 'role-select' },
    h('option', { value: '', text: t('moderation:role.none') }),
    h('option', { value: 'moderator', text: t('moderation:role.moderator') }),
    h('option', { value: 'admin', text: t('moderation:role.admin') }),
  ) as HTMLSelectElement;
  const error = errorBox('role-error');
  const send = h('button', { type: 'submit', testid: 'role-send' }, t('moderation:role.set')) as HTMLButtonElement;
  const form = section('user-role', t('moderation:role.title'), h('div', { class: 'row' }, role, send), error);
  // The current role, when the roles list has it.
  client()
    .request('mod.roles', {})
    .then(({ roles }) => {
      const r = roles.find((x) => x.userId === user.userId);
      role.value = r?.role ?? '';
      if (r?.source === 'config') {
        role.disabled = send.disabled = true;
        form.append(h('p', { class: 'hint muted', text: t('moderation:role.config') }));
      }
    })
    .catch(() => undefined);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = (role.value || null) as ServerRole | null;
    const ack = await act(send, error, () => client().request('mod.role.set', { userId: user.userId, role: value }));
    if (ack) toast(roleDone(user.username, value));
  });
  return form;
}

/** "Bea is now a server moderator" / "Bea has no server role now" (the card and the panel's roles). */
export const roleDone = (name: string, role: ServerRole | null): string =>
  role ? t(`moderation:role.done.${role}`, { name }) : t('moderation:role.done.none', { name });
