import type { WsOps } from '@chat/contracts';
import { act, errorBox, field, h, openDialog } from '../dom';
import { t } from '../i18n/i18n';
import { openRoom } from '../messages/view';
import { client, state } from '../state';
import { renderSidebar } from './sidebar';

// "Create room": name, topic, visibility, who may post, member limit; an optional id under "Advanced".

/** The member limit a new room gets unless its creator chooses otherwise (Limits.memberLimitDefault). */
export const DEFAULT_MEMBER_LIMIT = 50;
export const MAX_MEMBER_LIMIT = 100_000;

export function visibilitySelect(testid: string, value: string) {
  return h(
    'select',
    { testid },
    // Short option texts: a narrow panel cuts a long one off; the field's hint says the rest.
    h('option', { value: 'public', text: t('rooms:kind.public'), title: t('rooms:kind.public.title'), selected: value === 'public' }),
    h('option', { value: 'private', text: t('rooms:kind.private'), title: t('rooms:kind.private.title'), selected: value === 'private' }),
  ) as HTMLSelectElement;
}

export function postPolicySelect(testid: string, value: string) {
  return h(
    'select',
    { testid },
    h('option', { value: 'members', text: t('rooms:policy.members'), selected: value === 'members' }),
    h('option', { value: 'admins', text: t('rooms:policy.admins'), selected: value === 'admins' }),
  ) as HTMLSelectElement;
}

export function limitInput(testid: string, value: number) {
  return h('input', { testid, type: 'number', min: 2, max: MAX_MEMBER_LIMIT, step: 1, value, required: true }) as HTMLInputElement;
}

export function openCreateRoomDialog() {
  const name = h('input', {
    testid: 'new-room-name',
    'data-field': 'name',
    maxlength: 80,
    required: true,
    placeholder: t('rooms:create.name.placeholder'),
  }) as HTMLInputElement;
  const id = h('input', {
    testid: 'new-room-id',
    'data-field': 'roomId',
    maxlength: 64,
    spellcheck: 'false',
    autocapitalize: 'none',
    placeholder: t('rooms:create.id.placeholder'),
  }) as HTMLInputElement;
  const topic = h('input', { testid: 'new-room-topic', 'data-field': 'topic', maxlength: 300 }) as HTMLInputElement;
  const visibility = visibilitySelect('new-room-visibility', 'public');
  const policy = postPolicySelect('new-room-post-policy', 'members');
  const limit = limitInput('new-room-limit', DEFAULT_MEMBER_LIMIT);
  const error = errorBox('create-room-error');
  const create = h('button', { type: 'submit', class: 'primary', testid: 'create-room' }, t('rooms:create.submit')) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form', testid: 'create-room-form', novalidate: true },
    field(t('rooms:create.name'), name),
    field(t('rooms:create.topic'), topic),
    field(t('rooms:create.visibility'), visibility, t('rooms:kind.hint')),
    field(t('rooms:create.policy'), policy),
    field(t('rooms:create.limit'), limit),
    // Most people never choose an id (one is made up): it waits under "Advanced".
    h(
      'details',
      { class: 'advanced' },
      h('summary', { testid: 'new-room-advanced', text: t('rooms:create.advanced') }),
      field(t('rooms:create.id'), id, t('rooms:create.id.hint')),
    ),
    error,
    h('div', { class: 'actions' }, create),
  );
  const dialog = openDialog('create-room-dialog', t('rooms:create.title'), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const req: WsOps['room.create']['req'] = { name: name.value.trim() };
    if (id.value.trim()) req.roomId = id.value.trim();
    if (topic.value.trim()) req.topic = topic.value.trim();
    req.visibility = visibility.value === 'private' ? 'private' : 'public';
    req.postPolicy = policy.value === 'admins' ? 'admins' : 'members';
    // The server validates the number (2..100000): a bad one comes back as BAD_REQUEST with the field.
    req.memberLimit = limit.value === '' ? DEFAULT_MEMBER_LIMIT : Number(limit.value);
    await act(create, error, async () => {
      const ack = await client().request('room.create', req);
      state.rooms.set(ack.room.roomId, ack.room);
      dialog.close();
      renderSidebar();
      await openRoom(ack.room.roomId, { fromList: true });
    });
  });
  name.focus();
}
