import type { DirectoryPage, RoomSummary } from '@chat/contracts';
import { act, errorBox, h, openDialog, showError } from '../dom';
import { t } from '../i18n/i18n';
import { openRoom } from '../messages/view';
import { client, roomTitle, state } from '../state';
import { joinRoom, renderSidebar } from './sidebar';

// The room directory: public rooms by name (`room.directory`, case-insensitive, anywhere in
// the name), with member counts, paged, each joinable (or opened, when already mine).

const PAGE = 50;

export function openDirectoryDialog() {
  const query = h('input', {
    type: 'search',
    testid: 'directory-query',
    placeholder: t('rooms:directory.placeholder'),
    'aria-label': t('rooms:directory.placeholder'),
    maxlength: 80,
  }) as HTMLInputElement;
  const list = h('ul', { class: 'directory-list', testid: 'directory-list' });
  const summary = h('p', { class: 'muted small-text', testid: 'directory-total' });
  const more = h('button', { type: 'button', testid: 'directory-more', hidden: true }, t('rooms:directory.more')) as HTMLButtonElement;
  const error = errorBox('directory-error');
  const form = h(
    'form',
    { class: 'directory-search', novalidate: true },
    query,
    h('button', { type: 'submit', testid: 'directory-search' }, t('rooms:directory.search')),
  );
  const dialog = openDialog('directory-dialog', t('rooms:directory.title'), form, error, summary, list, more);

  let current = '';
  /**
   * Refused joins by room: a search typed meanwhile redraws the list, and the new row still
   * says why (BANNED) until the next attempt.
   */
  const refusals = new Map<string, unknown>();
  let nextOffset: number | null = 0;
  /** Replies to a superseded query are dropped (typing fires several searches). */
  let generation = 0;

  async function load(reset: boolean) {
    if (reset) {
      current = query.value.trim();
      nextOffset = 0;
    }
    if (nextOffset === null) return;
    const mine = ++generation;
    const page: DirectoryPage | undefined = await act(more, error, () =>
      client().request('room.directory', { query: current || undefined, offset: nextOffset ?? 0, limit: PAGE }),
    );
    if (!page || mine !== generation) return;
    if (reset) list.replaceChildren();
    list.append(...page.rooms.map((r) => item(r)));
    // The sidebar's public rooms learn what the directory just read (a room made since the list was).
    const fresh = page.rooms.filter((r) => !r.myRole && !state.rooms.has(r.roomId));
    for (const r of fresh) state.rooms.set(r.roomId, r);
    if (fresh.length) renderSidebar();
    nextOffset = page.nextOffset;
    more.hidden = nextOffset === null;
    summary.textContent = !page.total
      ? t('rooms:directory.none')
      : current
        ? t('rooms:directoryMatching', { count: page.total, query: current })
        : t('rooms:directory', { count: page.total });
    list.dataset.state = 'ready';
  }

  function item(r: RoomSummary) {
    const rowError = errorBox('directory-join-error');
    if (refusals.has(r.roomId)) showError(rowError, refusals.get(r.roomId));
    const button = h(
      'button',
      { type: 'button', class: r.myRole ? 'small' : 'small primary', testid: `directory-join-${r.roomId}` },
      r.myRole ? t('rooms:open') : t('rooms:join'),
    ) as HTMLButtonElement;
    button.onclick = async () => {
      if (r.myRole) {
        dialog.close();
        await openRoom(r.roomId, { fromList: true });
        return;
      }
      button.disabled = true;
      showError(rowError, null);
      refusals.delete(r.roomId);
      try {
        await joinRoom(r.roomId, null);
        dialog.close();
      } catch (err) {
        refusals.set(r.roomId, err);
        // The row may have been redrawn meanwhile: the one in the list shows it.
        const shown = list.querySelector<HTMLElement>(`[data-room-id="${CSS.escape(r.roomId)}"] [data-testid="directory-join-error"]`);
        showError(shown ?? rowError, err);
      } finally {
        button.disabled = false;
      }
    };
    return h(
      'li',
      { class: 'directory-item', testid: `directory-room-${r.roomId}`, 'data-room-id': r.roomId },
      h(
        'div',
        { class: 'directory-text' },
        h('span', { class: 'room-name', testid: 'directory-room-name', text: roomTitle(r) }),
        h('span', {
          class: 'room-sub muted',
          testid: 'directory-member-count',
          text: [t('rooms:members', { count: r.memberCount }), r.topic, r.postPolicy === 'admins' ? t('rooms:announcements') : null]
            .filter(Boolean)
            .join(' · '),
        }),
        rowError,
      ),
      button,
    );
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  query.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void load(true), 250);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(debounce);
    void load(true);
  });
  more.addEventListener('click', () => void load(false));
  void load(true);
  query.focus();
}
