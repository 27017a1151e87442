import type { RoomDetails, WsOps } from '@chat/contracts';
import { act, errorBox, field, h, showError } from '../dom';
import { language, t } from '../i18n/i18n';
import { showSide } from '../side';
import { client, el, isAdmin, myRole, roomTitle, state } from '../state';
import { dropRoom, leaveRoom, roomChanged } from './sidebar';
import { limitInput, postPolicySelect, visibilitySelect } from './create';
import { roleName, slowModeText } from './format';
import { openStatsDialog } from './stats';
import { openRoomModeration } from '../moderation/room';
import { isStaff } from '../moderation/standing';

/** The longest slow mode a room may have, in seconds (Limits.slowModeSecondsMax). */
const SLOW_MODE_MAX_S = 21_600;

// The open room's details (`room.details`) and, for its admins, its settings (`room.update`);
// for its owner, deleting it (after a confirmation). Transferring ownership and roles are in
// the members panel, next to each member.

let details: RoomDetails | null = null;
let loading: string | null = null;
/** The settings form has edits not saved yet: live events then leave the panel alone. */
let dirty = false;
/** The room whose settings were just saved (the panel says so until the next edit). */
let saved: string | null = null;
/** The room whose retention period was just set (the live room.retention redraws the panel). */
let retentionSaved: string | null = null;

/** Renders the panel for the open room; `reload` reads the details again. */
export function renderDetails(reload: boolean) {
  const roomId = state.currentRoomId;
  const room = state.rooms.get(roomId ?? '');
  if (!roomId || !room) return;
  el.sideTitle.textContent = t('rooms:details.title');
  if (details?.roomId !== roomId) dirty = false;
  if (reload || details?.roomId !== roomId) {
    if (details?.roomId !== roomId) el.sideBody.replaceChildren(h('p', { class: 'muted', text: t('rooms:loading') }));
    void load(roomId);
    if (details?.roomId !== roomId) return;
  }
  draw(details);
}

async function load(roomId: string) {
  if (loading === roomId) return;
  loading = roomId;
  try {
    const d = await client().request('room.details', { roomId });
    if (state.currentRoomId !== roomId) return;
    details = d;
    const room = state.rooms.get(roomId);
    // The details are newer than the summary: keep the list's copy in step.
    if (room)
      Object.assign(room, {
        name: d.name,
        topic: d.topic,
        visibility: d.visibility,
        postPolicy: d.postPolicy,
        memberLimit: d.memberLimit,
        slowModeSeconds: d.slowModeSeconds,
        memberCount: d.memberCount,
        myRole: d.myRole,
      });
    if (state.side === 'details') draw(d);
  } catch (err) {
    if (state.currentRoomId !== roomId || state.side !== 'details') return;
    const box = errorBox('details-error');
    showError(box, err);
    el.sideBody.replaceChildren(box);
  } finally {
    loading = null;
  }
}

/** Applies live settings to the cached details (room.updated, room.owner). */
export function patchDetails(roomId: string, patch: Partial<RoomDetails>) {
  if (details?.roomId === roomId) Object.assign(details, patch);
}

function draw(d: RoomDetails) {
  if (dirty && el.sideBody.querySelector('[data-testid="settings-form"]')) return;
  const room = state.rooms.get(d.roomId);
  const summary = room ?? d;
  const role = myRole(d.roomId);
  // Each row: its data-testid suffix (kept from the English labels the tests knew), label, value.
  const rows: Array<[string, string, string]> = [
    ['name', t('rooms:details.name'), roomTitle(summary)],
    ['topic', t('rooms:details.topic'), summary.topic || '—'],
    [
      'visibility',
      t('rooms:details.visibility'),
      summary.visibility === 'private' ? t('rooms:details.visibility.private') : t('rooms:details.visibility.public'),
    ],
    [
      'who-may-post',
      t('rooms:details.policy'),
      summary.postPolicy === 'admins' ? t('rooms:details.policy.admins') : t('rooms:details.policy.members'),
    ],
    ['members', t('rooms:details.members'), t('rooms:details.membersOf', { count: summary.memberCount, limit: summary.memberLimit })],
    [
      'slow-mode',
      t('rooms:details.slowMode'),
      summary.slowModeSeconds
        ? t('rooms:details.slowMode.on', { duration: slowModeText(summary.slowModeSeconds) })
        : t('rooms:details.slowMode.off'),
    ],
    [
      'owner',
      t('rooms:details.owner'),
      d.owner?.username ?? (d.isDefault ? t('rooms:details.owner.default') : t('rooms:details.owner.none')),
    ],
    [
      'created',
      t('rooms:details.created'),
      d.createdBy ? t('rooms:details.createdBy', { time: createdText(d.createdAt), name: d.createdBy.username }) : createdText(d.createdAt),
    ],
    [
      'messages-kept',
      t('rooms:details.kept'),
      d.retentionDays == null ? t('rooms:details.kept.default') : t('rooms:days', { count: d.retentionDays }),
    ],
    ['your-role', t('rooms:details.role'), role ? roleName(role) : t('rooms:details.role.none')],
  ];
  const parts: HTMLElement[] = [
    h(
      'dl',
      { class: 'details-list', testid: 'room-details' },
      ...rows.flatMap(([id, k, v]) => [h('dt', { text: k }), h('dd', { testid: `details-${id}`, text: v })]),
    ),
  ];
  // Inviting, roles, kicks and bans are done next to each member: Details leads there.
  if (isAdmin(d.roomId))
    parts.push(
      h(
        'div',
        { class: 'panel-actions' },
        h(
          'button',
          {
            type: 'button',
            testid: 'details-invite',
            onclick: () => {
              showSide('members');
              el.sideBody.querySelector<HTMLInputElement>('[data-testid="invite-username"]')?.focus();
            },
          },
          t('rooms:details.invite'),
        ),
      ),
    );
  if (isAdmin(d.roomId)) {
    parts.push(settingsForm(d), retentionForm(d));
    const stats = h('button', { type: 'button', testid: 'open-stats', onclick: () => openStatsDialog(d.roomId) }, t('rooms:details.stats'));
    parts.push(h('div', { class: 'panel-actions' }, stats));
  }
  // The room's filters and mutes: its owner and admins, and server staff.
  if (isAdmin(d.roomId) || isStaff())
    parts.push(
      h(
        'div',
        { class: 'panel-actions' },
        h(
          'button',
          { type: 'button', testid: 'open-room-moderation', onclick: () => openRoomModeration(d.roomId) },
          t('rooms:details.moderation'),
        ),
      ),
    );
  const actions = h('div', { class: 'panel-actions' });
  if (role) {
    const leave = h('button', { type: 'button', testid: 'details-leave' }, t('rooms:details.leave')) as HTMLButtonElement;
    leave.onclick = () => leaveRoom(d.roomId, leave);
    actions.append(leave);
  }
  if (role === 'owner' && !d.isDefault) actions.append(deleteControl(d));
  parts.push(actions);
  el.sideBody.replaceChildren(...parts);
}

function settingsForm(d: RoomDetails) {
  const summary = state.rooms.get(d.roomId) ?? d;
  const name = h('input', {
    testid: 'settings-name',
    'data-field': 'name',
    maxlength: 80,
    required: true,
    value: summary.name,
  }) as HTMLInputElement;
  const topic = h('input', { testid: 'settings-topic', 'data-field': 'topic', maxlength: 300, value: summary.topic }) as HTMLInputElement;
  const visibility = visibilitySelect('settings-visibility', summary.visibility);
  const policy = postPolicySelect('settings-post-policy', summary.postPolicy);
  const limit = limitInput('settings-limit', summary.memberLimit);
  const slow = slowModeSelect(summary.slowModeSeconds);
  const error = errorBox('settings-error');
  const save = h('button', { type: 'submit', class: 'primary', testid: 'settings-save' }, t('common:save')) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form settings', testid: 'settings-form', novalidate: true },
    h('h3', { text: t('rooms:settings.title') }),
    field(t('rooms:create.name'), name),
    field(t('rooms:create.topic'), topic),
    field(t('rooms:create.visibility'), visibility, t('rooms:kind.hint')),
    field(t('rooms:create.policy'), policy),
    field(t('rooms:create.limit'), limit, t('rooms:settings.limit.hint')),
    field(t('rooms:settings.slowMode'), slow, t('rooms:settings.slowMode.hint')),
    error,
    h('div', { class: 'actions' }, save),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // Only what changed is sent; fields left out keep their value.
    const req: WsOps['room.update']['req'] = { roomId: d.roomId };
    const current = state.rooms.get(d.roomId) ?? d;
    if (name.value.trim() !== current.name) req.name = name.value.trim();
    if (topic.value.trim() !== current.topic) req.topic = topic.value.trim();
    if (visibility.value !== current.visibility) req.visibility = visibility.value === 'private' ? 'private' : 'public';
    if (policy.value !== current.postPolicy) req.postPolicy = policy.value === 'admins' ? 'admins' : 'members';
    if (Number(limit.value) !== current.memberLimit) req.memberLimit = limit.value === '' ? NaN : Number(limit.value);
    if (Number(slow.value) !== current.slowModeSeconds) req.slowModeSeconds = Number(slow.value);
    await act(save, error, async () => {
      const ack = await client().request('room.update', req);
      state.rooms.set(ack.room.roomId, ack.room);
      patchDetails(ack.room.roomId, ack.room);
      dirty = false;
      saved = ack.room.roomId;
      roomChanged(ack.room.roomId);
      draw(details ?? d);
    });
  });
  form.addEventListener('input', () => {
    dirty = true;
    saved = null;
    form.querySelector<HTMLElement>('[data-testid="settings-saved"]')?.setAttribute('hidden', '');
  });
  form.append(h('p', { class: 'muted', testid: 'settings-saved', text: t('rooms:settings.saved'), hidden: saved !== d.roomId }));
  return form;
}

/** Slow-mode choices (seconds; 0 is off); a room set to another value (through the API) keeps it as an extra choice. */
const SLOW_MODES = [0, 5, 10, 30, 60, 300, 900, 3600, 21600];

function slowModeSelect(current: number) {
  const values = SLOW_MODES.includes(current) ? SLOW_MODES : [...SLOW_MODES, current].sort((a, b) => a - b);
  return h(
    'select',
    { testid: 'settings-slow-mode', 'data-field': 'slowModeSeconds' },
    ...values
      .filter((v) => v <= SLOW_MODE_MAX_S || v === current)
      .map((v) => h('option', { value: v, selected: v === current, text: v ? slowModeText(v) : t('rooms:details.slowMode.off') })),
  ) as HTMLSelectElement;
}

/** When the room was made, to the minute (seconds say nothing here). */
const createdText = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
};

/** How long the room's messages are kept (`room.setRetention`); empty: the server's default. */
function retentionForm(d: RoomDetails) {
  const days = h('input', {
    type: 'number',
    testid: 'retention-days',
    'data-field': 'days',
    min: 1,
    max: 36500,
    step: 1,
    placeholder: t('rooms:retention.placeholder'),
    value: d.retentionDays ?? '',
  }) as HTMLInputElement;
  const error = errorBox('retention-error');
  const save = h('button', { type: 'submit', class: 'primary', testid: 'retention-save' }, t('common:save')) as HTMLButtonElement;
  const done = h('p', { class: 'muted', testid: 'retention-saved', text: t('rooms:settings.saved'), hidden: retentionSaved !== d.roomId });
  const form = h(
    'form',
    { class: 'dialog-form settings', testid: 'retention-form', novalidate: true },
    h('h3', { text: t('rooms:retention.title') }),
    field(t('rooms:retention.days'), days, t('rooms:retention.hint')),
    error,
    h('div', { class: 'actions' }, save),
    done,
  );
  days.addEventListener('input', () => {
    retentionSaved = null;
    done.hidden = true;
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = days.value.trim() === '' ? null : Number(days.value);
    await act(save, error, async () => {
      const ack = await client().request('room.setRetention', { roomId: d.roomId, days: value });
      patchDetails(d.roomId, { retentionDays: ack.days });
      retentionSaved = d.roomId;
      draw(details ?? d);
    });
  });
  return form;
}

function deleteControl(d: RoomDetails) {
  const wrap = h('div', { class: 'danger-zone' });
  const error = errorBox('delete-error');
  const start = h('button', { type: 'button', class: 'danger', testid: 'delete-room' }, t('rooms:delete.start')) as HTMLButtonElement;
  start.onclick = () => {
    const confirm = h(
      'button',
      { type: 'button', class: 'danger', testid: 'delete-room-confirm' },
      t('rooms:delete.confirm'),
    ) as HTMLButtonElement;
    const cancel = h('button', { type: 'button', testid: 'delete-room-cancel' }, t('common:cancel')) as HTMLButtonElement;
    confirm.onclick = () =>
      act(confirm, error, async () => {
        await client().request('room.delete', { roomId: d.roomId });
        dropRoom(d.roomId, t('rooms:event.youDeleted', { room: d.name }), { gone: true });
      });
    cancel.onclick = () => wrap.replaceChildren(start, error);
    wrap.replaceChildren(
      h('p', {
        class: 'warning',
        text: t('rooms:delete.question', { room: d.name, count: d.memberCount }),
      }),
      h('div', { class: 'actions' }, confirm, cancel),
      error,
    );
  };
  wrap.append(start, error);
  return wrap;
}
