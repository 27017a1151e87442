import type { StatsView } from '@chat/contracts';
import { act, errorBox, field, h, openDialog } from '../dom';
import { client, state } from '../state';

// A room's statistics (`room.stats`, for its owner and admins): messages and active posters
// per day, the top posters and the busiest hours (UTC), drawn as tables with CSS bars.

const DAY_MS = 86_400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

function bar(value: number, max: number, label: string) {
  const pct = max ? Math.round((value / max) * 100) : 0;
  return h(
    'span',
    { class: 'bar', title: label },
    h('span', { class: 'bar-fill', style: `width:${pct}%` }),
    h('span', { class: 'bar-value', text: String(value) }),
  );
}

function statsBody(s: StatsView): HTMLElement {
  const maxDay = Math.max(0, ...s.days.map((d) => d.messages));
  const maxHour = Math.max(0, ...s.hours);
  return h(
    'div',
    { class: 'stats', testid: 'stats' },
    h(
      'p',
      { testid: 'stats-summary' },
      h('strong', { testid: 'stats-messages', text: String(s.messages) }),
      ` messages by `,
      h('strong', { testid: 'stats-active', text: String(s.activeUsers) }),
      ` ${s.activeUsers === 1 ? 'person' : 'people'} from ${s.from} to ${s.to} (UTC)`,
    ),
    h('h3', { text: 'Top posters' }),
    s.topPosters.length
      ? h(
          'table',
          { class: 'stats-table', testid: 'stats-top' },
          h('thead', {}, h('tr', {}, h('th', { text: 'Who' }), h('th', { text: 'Messages' }))),
          h(
            'tbody',
            {},
            ...s.topPosters.map((p) =>
              h(
                'tr',
                { testid: 'stats-poster', 'data-user-id': p.userId },
                h('td', { text: p.username }),
                h('td', {}, bar(p.messages, s.topPosters[0].messages, `${p.messages} messages`)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted', text: 'Nobody posted in this range.' }),
    h('h3', { text: 'Busiest hours (UTC)' }),
    h(
      'div',
      { class: 'hours', testid: 'stats-hours' },
      ...s.hours.map((n, hour) =>
        h(
          'span',
          {
            class: 'hour',
            title: `${String(hour).padStart(2, '0')}:00–${String(hour).padStart(2, '0')}:59 · ${n} messages`,
            'data-hour': hour,
          },
          h('span', { class: 'hour-bar', style: `height:${maxHour ? Math.max(2, Math.round((n / maxHour) * 100)) : 0}%` }),
          h('span', { class: 'hour-label muted', text: hour % 6 === 0 ? String(hour) : '' }),
        ),
      ),
    ),
    h('h3', { text: 'Messages per day' }),
    h(
      'table',
      { class: 'stats-table', testid: 'stats-days' },
      h('thead', {}, h('tr', {}, h('th', { text: 'Day' }), h('th', { text: 'Messages' }), h('th', { text: 'Active' }))),
      h(
        'tbody',
        {},
        ...[...s.days]
          .reverse()
          .map((d) =>
            h(
              'tr',
              { testid: 'stats-day', 'data-day': d.day },
              h('td', { text: d.day }),
              h('td', {}, bar(d.messages, maxDay, `${d.messages} messages`)),
              h('td', { text: String(d.activeUsers) }),
            ),
          ),
      ),
    ),
  );
}

export function openStatsDialog(roomId: string) {
  const name = state.rooms.get(roomId)?.name ?? roomId;
  const range = h(
    'select',
    { testid: 'stats-range' },
    h('option', { value: '7', text: 'Last 7 days' }),
    h('option', { value: '30', text: 'Last 30 days', selected: true }),
    h('option', { value: '90', text: 'Last 90 days' }),
    h('option', { value: '366', text: 'Last year' }),
  ) as HTMLSelectElement;
  const error = errorBox('stats-error');
  const body = h('div', { class: 'stats-body' }, h('p', { class: 'muted', text: 'Loading…' }));
  openDialog('stats-dialog', `Statistics of ${name}`, field('Range', range), error, body);
  const load = () =>
    act(range as unknown as HTMLButtonElement, error, async () => {
      const days = Number(range.value);
      const to = new Date();
      const from = new Date(to.getTime() - (days - 1) * DAY_MS);
      const s = await client().request('room.stats', { roomId, from: isoDay(from), to: isoDay(to) });
      body.replaceChildren(statsBody(s));
    });
  range.addEventListener('change', () => void load());
  void load();
}
