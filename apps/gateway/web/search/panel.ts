import type { SearchHit, WsOps } from '@chat/contracts';
import { act, errorBox, field, fullTime, h, openDialog, shortTime } from '../dom';
import { jumpToMessage } from '../messages/view';
import { client, roomTitle, state } from '../state';

// Message search (`message.search`): a query, optionally one room, newest or best match first.
// Each hit shows its room, sender, time and snippet with the matched terms marked; the snippet
// is plain text and the marks are built from text nodes (never HTML). Clicking a hit opens it
// in context (history.page `around` its position).

const PAGE = 20;

/** The snippet with `[start, end)` ranges marked; ranges are clamped, sorted and never overlap. */
export function highlighted(snippet: string, ranges: Array<[number, number]>): HTMLElement {
  const out = h('span', { class: 'snippet', testid: 'search-snippet' });
  let at = 0;
  const sorted = [...(ranges ?? [])]
    .map(([a, b]) => [Math.max(0, Math.min(a, snippet.length)), Math.max(0, Math.min(b, snippet.length))] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  for (const [a, b] of sorted) {
    if (b <= at) continue;
    const from = Math.max(a, at);
    if (from > at) out.append(document.createTextNode(snippet.slice(at, from)));
    out.append(h('mark', { testid: 'search-mark', text: snippet.slice(from, b) }));
    at = b;
  }
  if (at < snippet.length) out.append(document.createTextNode(snippet.slice(at)));
  return out;
}

function roomOptions(selected: string | null) {
  const rooms = [...state.rooms.values()].filter((r) => r.myRole).sort((a, b) => a.name.localeCompare(b.name));
  const conversations = [...state.conversations.values()].sort((a, b) => a.peer.username.localeCompare(b.peer.username));
  const option = (value: string, text: string) => h('option', { value, text, selected: value === (selected ?? '') });
  return [
    option('', 'All rooms and conversations'),
    ...rooms.map((r) => option(r.roomId, roomTitle(r))),
    ...conversations.map((c) => option(c.roomId, `@ ${c.peer.username}`)),
  ];
}

export function openSearchDialog() {
  const query = h('input', {
    type: 'search',
    testid: 'search-query',
    maxlength: 200,
    required: true,
    placeholder: 'Words, "a phrase", or 中文',
    autocomplete: 'off',
  }) as HTMLInputElement;
  const room = h('select', { testid: 'search-room' }, ...roomOptions(null)) as HTMLSelectElement;
  const order = h(
    'select',
    { testid: 'search-order' },
    h('option', { value: 'newest', text: 'Newest first' }),
    h('option', { value: 'relevance', text: 'Best match first' }),
  ) as HTMLSelectElement;
  const go = h('button', { type: 'submit', class: 'primary', testid: 'search-go' }, 'Search') as HTMLButtonElement;
  const error = errorBox('search-error');
  const results = h('ol', { class: 'search-results', testid: 'search-results' });
  const summary = h('p', { class: 'muted', testid: 'search-summary', hidden: true });
  const more = h('button', { type: 'button', class: 'small', testid: 'search-more', hidden: true }, 'More results') as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form search-form', novalidate: true, role: 'search' },
    field('Search for', query),
    h('div', { class: 'row' }, field('In', room), field('Order', order)),
    error,
    h('div', { class: 'actions' }, go),
  );
  const dialog = openDialog('search-dialog', 'Search messages', form, summary, results, more);
  let last: WsOps['message.search']['req'] | null = null;
  let nextOffset: number | null = null;
  let shown = 0;

  const run = async (button: HTMLButtonElement, req: WsOps['message.search']['req'], append: boolean) => {
    await act(button, error, async () => {
      const page = await client().request('message.search', req);
      if (!append) {
        results.replaceChildren();
        shown = 0;
      }
      last = req;
      nextOffset = page.nextOffset;
      shown += page.hits.length;
      results.append(...page.hits.map((hit) => hitEl(hit, dialog)));
      summary.hidden = false;
      summary.textContent = shown ? `${shown}${nextOffset !== null ? '+' : ''} message${shown === 1 ? '' : 's'}` : 'No messages found.';
      more.hidden = nextOffset === null;
    });
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = query.value.trim();
    if (!text) return query.focus();
    const req: WsOps['message.search']['req'] = { query: text, limit: PAGE, order: order.value === 'relevance' ? 'relevance' : 'newest' };
    if (room.value) req.roomId = room.value;
    void run(go, req, false);
  });
  more.addEventListener('click', () => last && nextOffset !== null && void run(more, { ...last, offset: nextOffset }, true));
  query.focus();
}

function hitEl(hit: SearchHit, dialog: HTMLDialogElement) {
  const m = hit.message;
  return h(
    'li',
    { class: 'search-hit', testid: 'search-hit', 'data-message-id': m.messageId, 'data-room-id': m.roomId, 'data-position': m.position },
    h(
      'button',
      {
        type: 'button',
        class: 'search-open',
        testid: 'search-open',
        title: 'Show in context',
        onclick: () => {
          dialog.close();
          void jumpToMessage(m.roomId, m.position, m.messageId);
        },
      },
      h(
        'span',
        { class: 'search-meta muted' },
        h('span', { class: 'search-room', text: m.roomId.startsWith('dm-') ? `@ ${hit.roomName}` : `# ${hit.roomName}` }),
        ' · ',
        h('span', { class: 'sender', text: m.senderName }),
        ' · ',
        h('time', { datetime: m.time, title: fullTime(m.time), text: `${new Date(m.time).toLocaleDateString()} ${shortTime(m.time)}` }),
      ),
      highlighted(hit.snippet, hit.highlights),
    ),
  );
}
