import type { SearchHit, WsOps } from '@chat/contracts';
import { act, errorBox, field, fullTime, h, openDialog, showError } from '../dom';
import { language, t } from '../i18n/i18n';
import { avatarEl } from '../members/avatar';
import { loadedMembers, peopleList } from '../members/panel';
import { jumpToMessage } from '../messages/view';
import { resolveUser } from '../moderation/people';
import { client, roomTitle, state } from '../state';
import { timeRange } from './range';

// Message search (`message.search`): a query, filtered by room or conversation, by sender (a
// name this page knows: the protocol takes an id and has no look-up) and by a range of days in
// the reader's calendar, newest or best match first. (There is no "has a link" filter: the
// protocol has none.)
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
    option('', t('search:in.all')),
    ...rooms.map((r) => option(r.roomId, roomTitle(r))),
    ...conversations.map((c) => option(c.roomId, `@ ${c.peer.username}`)),
  ];
}

/** A typed sender as a user: among the people the page knows, the loaded member list included. */
function senderOf(name: string) {
  const key = name.trim().normalize('NFKC').toLowerCase();
  const member = loadedMembers().find((m) => m.username.normalize('NFKC').toLowerCase() === key);
  return member ? { userId: member.userId, username: member.username } : resolveUser(name);
}

export function openSearchDialog() {
  const query = h('input', {
    type: 'search',
    testid: 'search-query',
    maxlength: 200,
    required: true,
    placeholder: t('search:query.placeholder'),
    autocomplete: 'off',
  }) as HTMLInputElement;
  const room = h('select', { testid: 'search-room' }, ...roomOptions(null)) as HTMLSelectElement;
  const sender = h('input', {
    testid: 'search-from',
    'data-field': 'senderId',
    list: 'search-people',
    placeholder: t('search:from.placeholder'),
    maxlength: 128,
    spellcheck: 'false',
    autocapitalize: 'none',
    autocomplete: 'off',
  }) as HTMLInputElement;
  const after = h('input', { type: 'date', testid: 'search-after', 'data-field': 'from' }) as HTMLInputElement;
  const before = h('input', { type: 'date', testid: 'search-before', 'data-field': 'to' }) as HTMLInputElement;
  const order = h(
    'select',
    { testid: 'search-order' },
    h('option', { value: 'newest', text: t('search:order.newest') }),
    h('option', { value: 'relevance', text: t('search:order.relevance') }),
  ) as HTMLSelectElement;
  const go = h('button', { type: 'submit', class: 'primary', testid: 'search-go' }, t('search:go')) as HTMLButtonElement;
  const error = errorBox('search-error');
  const results = h('ol', { class: 'search-results', testid: 'search-results' });
  const summary = h('p', { class: 'muted', testid: 'search-summary', role: 'status', hidden: true });
  const more = h('button', { type: 'button', class: 'small', testid: 'search-more', hidden: true }, t('search:more')) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form search-form', novalidate: true, role: 'search' },
    field(t('search:query'), query),
    h(
      'fieldset',
      { class: 'search-filters' },
      h('legend', { class: 'visually-hidden', text: t('search:filters') }),
      // The room's select has a line of its own: a long room name is read whole, not cut.
      h('div', { class: 'row' }, field(t('search:in'), room)),
      h('div', { class: 'row' }, field(t('search:from'), sender), field(t('search:order'), order)),
      h('div', { class: 'row' }, field(t('search:after'), after), field(t('search:before'), before)),
      peopleList('search-people'),
    ),
    error,
    h('div', { class: 'actions' }, go),
  );
  const dialog = openDialog('search-dialog', t('search:title'), form, summary, results, more);
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
      summary.textContent = !shown
        ? t('search:none')
        : nextOffset !== null
          ? t('search:foundMore', { count: shown })
          : t('search:found', { count: shown });
      more.hidden = nextOffset === null;
    });
  };
  /** A filter the page refuses before asking: said in the error box, its field focused. */
  const refuse = (input: HTMLInputElement, message: string) => {
    showError(error, new Error(message));
    input.focus();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = query.value.trim();
    if (!text) return query.focus();
    const req: WsOps['message.search']['req'] = { query: text, limit: PAGE, order: order.value === 'relevance' ? 'relevance' : 'newest' };
    if (room.value) req.roomId = room.value;
    if (sender.value.trim()) {
      const who = senderOf(sender.value);
      if (!who) return refuse(sender, t('search:from.unknown', { name: sender.value.trim() }));
      req.senderId = who.userId;
    }
    const range = timeRange(after.value, before.value);
    if (!range) return refuse(after, t('search:dates.reversed'));
    Object.assign(req, range);
    void run(go, req, false);
  });
  more.addEventListener('click', () => last && nextOffset !== null && void run(more, { ...last, offset: nextOffset }, true));
  query.focus();
}

/** When a hit was sent, in the page's language: the date and the time. */
const hitTime = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
};

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
        title: t('search:hit.open'),
        onclick: () => {
          dialog.close();
          void jumpToMessage(m.roomId, m.position, m.messageId);
        },
      },
      h(
        'span',
        { class: 'search-meta muted' },
        avatarEl(m.senderId, m.senderName, 'small'),
        h('span', { class: 'sender', testid: 'search-sender', text: m.senderName }),
        ' · ',
        h('span', { class: 'search-room', text: m.roomId.startsWith('dm-') ? `@ ${hit.roomName}` : `# ${hit.roomName}` }),
        ' · ',
        h('time', { datetime: m.time, title: fullTime(m.time), text: hitTime(m.time) }),
      ),
      highlighted(hit.snippet, hit.highlights),
    ),
  );
}
