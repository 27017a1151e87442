import type { StatsView } from '@chat/contracts';
import { act, errorBox, field, h, openDialog } from '../dom';
import { language, t } from '../i18n/i18n';
import { client, state } from '../state';
import { busiest } from './chart-scale';
import { barChart, columnChart } from './charts';
import { dayText, localStart, numberText, zoneName } from './format';

// A room's statistics (`room.stats`, for its owner and admins): a summary, messages per day,
// the busiest hours (UTC) and the top posters, each as a small SVG chart (rooms/charts.ts) with
// a spoken summary, and the same numbers in a table that only screen readers see.

const DAY_MS = 86_400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const hh = (hour: number) => String(hour).padStart(2, '0');
/** This browser's offset from UTC now, in minutes (east positive). */
const offsetMinutes = () => -new Date().getTimezoneOffset();
const list = (items: string[]) => new Intl.ListFormat(language(), { type: 'conjunction' }).format(items);
const messages = (count: number) => t('rooms:messages', { count });

/** Where this reader is against UTC, so the UTC hours can be read: "Your time is UTC+8: 00 UTC is 08:00 here." */
function utcNote(): string {
  const off = offsetMinutes();
  return off ? t('rooms:stats.hours.note', { zone: zoneName(off), local: localStart(0, off) }) : t('rooms:stats.hours.note.utc');
}

/**
 * A table for screen readers: the chart's numbers, row by row. It is hidden by its wrapper (a
 * table takes its content's width whatever its own width says).
 */
function hiddenTable(testid: string, caption: string, head: string[], rows: HTMLElement[]) {
  return h(
    'div',
    { class: 'visually-hidden' },
    h(
      'table',
      { class: 'stats-table', testid },
      h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, ...rows),
    ),
  );
}

function tile(testid: string, value: string, label: string, note?: string) {
  return h(
    'div',
    { class: `stats-tile${note ? ' stats-tile-dates' : ''}` },
    h('strong', { class: 'stats-tile-value', testid, text: value }),
    h('span', { class: 'stats-tile-label muted', text: label }),
    note ? h('span', { class: 'stats-tile-note muted', text: note }) : null,
  );
}

function statsBody(s: StatsView, width: number): HTMLElement {
  const from = dayText(s.from, true);
  const to = dayText(s.to, true);
  const maxDay = s.days.reduce<StatsView['days'][number] | null>((best, d) => (!best || d.messages > best.messages ? d : best), null);
  const dayTotal = s.days.reduce((sum, d) => sum + d.messages, 0);
  const hourTitle = (hour: number) =>
    t('rooms:stats.hour.title', {
      from: `${hh(hour)}:00`,
      to: `${hh(hour)}:59`,
      local: localStart(hour, offsetMinutes()),
      messages: messages(s.hours[hour] ?? 0),
    });
  const dayTitle = (d: StatsView['days'][number]) =>
    t('rooms:stats.day.title', { day: dayText(d.day, true), messages: messages(d.messages), active: d.activeUsers });
  const topHours = busiest(s.hours, 3);

  return h(
    'div',
    { class: 'stats', testid: 'stats' },
    h(
      'section',
      { class: 'stats-summary', testid: 'stats-summary', 'aria-label': t('rooms:stats.summary') },
      tile('stats-messages', numberText(s.messages), t('rooms:stats.tile.messages', { count: s.messages })),
      tile('stats-active', numberText(s.activeUsers), t('rooms:stats.tile.people', { count: s.activeUsers })),
      tile('stats-dates', t('rooms:stats.tile.range', { from: dayText(s.from), to: dayText(s.to) }), t('rooms:stats.tile.range.note')),
    ),
    h('p', { class: 'muted hint', testid: 'stats-note', text: t('rooms:stats.note') }),

    h('h3', { text: t('rooms:stats.perDay') }),
    columnChart({
      values: s.days.map((d) => d.messages),
      label: (i) => dayText(s.days[i].day),
      title: (i) => dayTitle(s.days[i]),
      data: (i) => ({ 'data-day': s.days[i].day }),
      barClass: 'day',
      summary:
        dayTotal && maxDay
          ? t('rooms:stats.perDay.label', { from, to, total: dayTotal, max: maxDay.messages, maxDay: dayText(maxDay.day, true) })
          : t('rooms:stats.perDay.empty', { from, to }),
      testid: 'stats-days-chart',
      width,
    }),
    hiddenTable(
      'stats-days',
      t('rooms:stats.perDay'),
      [t('rooms:stats.col.day'), t('rooms:stats.col.messages'), t('rooms:stats.col.active')],
      s.days.map((d) =>
        h(
          'tr',
          { testid: 'stats-day', 'data-day': d.day },
          h('td', { text: dayText(d.day, true) }),
          h('td', { text: numberText(d.messages) }),
          h('td', { text: numberText(d.activeUsers) }),
        ),
      ),
    ),

    h('h3', { text: t('rooms:stats.hours') }),
    h('p', { class: 'muted hint', testid: 'stats-hours-note', text: utcNote() }),
    columnChart({
      values: s.hours,
      label: (i) => hh(i),
      title: hourTitle,
      data: (i) => ({ 'data-hour': i }),
      barClass: 'hour',
      summary: topHours.length
        ? t('rooms:stats.hours.label', { hours: list(topHours.map((i) => `${hh(i)}:00–${hh(i)}:59`)) })
        : t('rooms:stats.hours.empty'),
      testid: 'stats-hours',
      width,
      height: 130,
    }),
    hiddenTable(
      'stats-hours-table',
      t('rooms:stats.hours'),
      [t('rooms:stats.col.hour'), t('rooms:stats.col.messages')],
      s.hours.map((n, hour) => h('tr', {}, h('td', { text: `${hh(hour)}:00–${hh(hour)}:59` }), h('td', { text: numberText(n) }))),
    ),

    h('h3', { text: t('rooms:stats.top') }),
    ...(s.topPosters.length
      ? [
          barChart({
            rows: s.topPosters.map((p) => ({
              label: p.username,
              value: p.messages,
              title: t('rooms:stats.poster.title', { name: p.username, messages: messages(p.messages) }),
              data: { 'data-user-id': p.userId },
            })),
            summary: t('rooms:stats.top.label', {
              list: list(s.topPosters.map((p) => t('rooms:stats.poster.title', { name: p.username, messages: messages(p.messages) }))),
            }),
            testid: 'stats-top-chart',
            width,
          }),
          hiddenTable(
            'stats-top',
            t('rooms:stats.top'),
            [t('rooms:stats.col.who'), t('rooms:stats.col.messages')],
            s.topPosters.map((p) =>
              h(
                'tr',
                { testid: 'stats-poster', 'data-user-id': p.userId },
                h('td', { text: p.username }),
                h('td', { text: numberText(p.messages) }),
              ),
            ),
          ),
        ]
      : [h('p', { class: 'muted', text: t('rooms:stats.top.none') })]),
  );
}

export function openStatsDialog(roomId: string) {
  const name = state.rooms.get(roomId)?.name ?? roomId;
  const range = h(
    'select',
    { testid: 'stats-range' },
    h('option', { value: '7', text: t('rooms:stats.range.7') }),
    h('option', { value: '30', text: t('rooms:stats.range.30'), selected: true }),
    h('option', { value: '90', text: t('rooms:stats.range.90') }),
    h('option', { value: '366', text: t('rooms:stats.range.366') }),
  ) as HTMLSelectElement;
  const error = errorBox('stats-error');
  const body = h('div', { class: 'stats-body' }, h('p', { class: 'muted', text: t('rooms:loading') }));
  openDialog('stats-dialog', t('rooms:stats.title', { room: name }), field(t('rooms:stats.range'), range), error, body);
  const load = () =>
    act(range as unknown as HTMLButtonElement, error, async () => {
      const days = Number(range.value);
      const to = new Date();
      const from = new Date(to.getTime() - (days - 1) * DAY_MS);
      const s = await client().request('room.stats', { roomId, from: isoDay(from), to: isoDay(to) });
      // The charts are drawn at the dialog's width (a phone's is narrower).
      body.replaceChildren(statsBody(s, Math.max(260, Math.floor(body.clientWidth || 480))));
    });
  range.addEventListener('change', () => void load());
  void load();
}
