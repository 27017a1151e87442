import { labelledIndexes, niceTicks } from './chart-scale';
import { numberText } from './format';

// Small statistics charts as inline SVG (no library): columns over time or hours with a value
// axis, and horizontal bars for a ranking. Drawn at the width of their container in pixels (no
// viewBox scaling, so the text keeps the page's size on a phone). Each chart is one image for
// screen readers (role=img, its summary as aria-label); the numbers are in a visually hidden
// table next to it. Colours come from CSS (`.chart-*` in style.css).

const NS = 'http://www.w3.org/2000/svg';
const FONT_PX = 11;
/** About how wide a digit or a Latin letter is at FONT_PX; a CJK character is about twice that. */
const CHAR_PX = 6.5;

type Attrs = Record<string, string | number | null | undefined>;

function svg(tag: string, attrs: Attrs = {}, ...children: Array<Node | string | null>): SVGElement {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

/** A tooltip on hover (SVG's own title element). */
const tip = (text: string) => svg('title', {}, text);

/** The width a label takes, roughly: wide (CJK, emoji) characters count twice. */
function textWidth(text: string): number {
  let units = 0;
  for (const ch of text) units += /[\u1100-\uffff\u{1f000}-\u{3ffff}]/u.test(ch) ? 2 : 1;
  return units * CHAR_PX;
}

/** `text` cut with … to fit `px`. */
function fitted(text: string, px: number): string {
  if (textWidth(text) <= px) return text;
  let out = '';
  for (const ch of text) {
    if (textWidth(`${out}${ch}…`) > px) break;
    out += ch;
  }
  return `${out}…`;
}

function frame(width: number, height: number, label: string, testid: string): SVGElement {
  return svg('svg', {
    class: 'chart',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': label,
    'data-testid': testid,
    'font-size': FONT_PX,
  });
}

export interface Columns {
  values: readonly number[];
  /** The label under a column (only some are shown when they do not all fit). */
  label: (i: number) => string;
  /** A column's tooltip. */
  title: (i: number) => string;
  /** Data attributes of each column (`data-hour`, `data-day`). */
  data?: (i: number) => Attrs;
  /** The class of each column's bar. */
  barClass: string;
  /** Spoken summary of the chart. */
  summary: string;
  testid: string;
  width: number;
  height?: number;
}

/** Vertical columns with a value axis (ticks and grid lines) and labels under some columns. */
export function columnChart(c: Columns): SVGElement {
  const height = c.height ?? 160;
  const max = Math.max(0, ...c.values);
  const ticks = niceTicks(max, 4);
  const top = ticks[ticks.length - 1];
  const left = Math.max(...ticks.map((v) => textWidth(numberText(v)))) + 8;
  const right = 4;
  const topPad = FONT_PX / 2 + 2;
  const bottom = FONT_PX + 8;
  const plotW = Math.max(10, c.width - left - right);
  const plotH = height - topPad - bottom;
  const y = (v: number) => topPad + plotH - (v / top) * plotH;
  const chart = frame(c.width, height, c.summary, c.testid);

  const axis = svg('g', { class: 'chart-axis', 'aria-hidden': 'true' });
  for (const v of ticks) {
    axis.append(
      svg('line', { class: 'chart-grid', x1: left, x2: left + plotW, y1: y(v), y2: y(v) }),
      svg('text', { x: left - 4, y: y(v), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, numberText(v)),
    );
  }
  chart.append(axis);

  const n = c.values.length;
  const band = plotW / Math.max(1, n);
  const barW = Math.max(1, band * (n > 60 ? 0.9 : 0.7));
  const bars = svg('g', { class: 'chart-bars' });
  c.values.forEach((v, i) => {
    const h = top ? (v / top) * plotH : 0;
    // Every column can be hovered along its whole height, even an empty one.
    bars.append(
      svg(
        'g',
        { class: c.barClass, ...(c.data?.(i) ?? {}) },
        tip(c.title(i)),
        svg('rect', { class: 'chart-hit', x: left + i * band, y: topPad, width: band, height: plotH }),
        svg('rect', {
          class: 'chart-bar',
          x: left + i * band + (band - barW) / 2,
          y: y(v),
          width: barW,
          // A non-zero value stays visible however small against the largest.
          height: v > 0 ? Math.max(1.5, h) : 0,
        }),
      ),
    );
  });
  chart.append(bars);

  // As many labels as fit side by side, at their column's centre.
  const widest = Math.max(1, ...c.values.map((_, i) => textWidth(c.label(i))));
  const labels = svg('g', { class: 'chart-labels', 'aria-hidden': 'true' });
  for (const i of labelledIndexes(n, Math.max(2, Math.floor(plotW / (widest + 10))))) {
    const x = left + i * band + band / 2;
    const anchor = i === 0 && x - widest / 2 < 0 ? 'start' : i === n - 1 && x + widest / 2 > c.width ? 'end' : 'middle';
    labels.append(svg('text', { x, y: height - 3, 'text-anchor': anchor }, c.label(i)));
  }
  chart.append(labels, svg('line', { class: 'chart-baseline', x1: left, x2: left + plotW, y1: y(0), y2: y(0) }));
  return chart;
}

export interface Bars {
  rows: ReadonlyArray<{ label: string; value: number; title: string; data?: Attrs }>;
  summary: string;
  testid: string;
  width: number;
}

/** Horizontal bars, one row each: the label on the left, the bar, its value after it. */
export function barChart(b: Bars): SVGElement {
  const rowH = 22;
  const height = b.rows.length * rowH + 4;
  const max = Math.max(1, ...b.rows.map((r) => r.value));
  const labelW = Math.min(Math.round(b.width * 0.35), Math.max(...b.rows.map((r) => textWidth(r.label)), 20) + 8);
  const valueW = Math.max(...b.rows.map((r) => textWidth(numberText(r.value)))) + 8;
  const plotW = Math.max(10, b.width - labelW - valueW);
  const chart = frame(b.width, height, b.summary, b.testid);
  b.rows.forEach((r, i) => {
    const top = 2 + i * rowH;
    const w = Math.max(2, (r.value / max) * plotW);
    chart.append(
      svg(
        'g',
        { class: 'chart-row', ...(r.data ?? {}) },
        tip(r.title),
        svg('text', { class: 'chart-name', x: 0, y: top + rowH / 2, 'dominant-baseline': 'middle' }, fitted(r.label, labelW - 8)),
        svg('rect', { class: 'chart-bar', x: labelW, y: top + 4, width: w, height: rowH - 8, rx: 2 }),
        svg('text', { class: 'chart-value', x: labelW + w + 4, y: top + rowH / 2, 'dominant-baseline': 'middle' }, numberText(r.value)),
      ),
    );
  });
  return chart;
}
