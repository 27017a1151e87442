// The message actions' symbols: one set of line icons (24-unit grid, drawn in the text colour),
// so no action shows as a colour emoji beside plain symbols. Decorative: each button carries
// its name (aria-label and title).

const PATHS = {
  reply: 'M9 14 4 9l5-5 M20 20v-7a4 4 0 0 0-4-4H4',
  react: 'M18 12.5A8 8 0 1 1 11.5 5 M7 15s1.3 2 3.5 2 3.5-2 3.5-2 M8 10.5h.01 M13 10.5h.01 M19 2v6 M16 5h6',
  link: 'M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71 M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71',
  edit: 'M17 3a2.83 2.83 0 1 1 4 4L7.5 20.5 2 22l1.5-5.5Z',
  delete: 'M3 6h18 M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6 M9 6V4a2 2 0 0 1 2-2h2a2 2 0 0 1 2 2v2',
  report: 'M4 22v-7 M4 15s1-1 4-1 5 2 8 2 4-1 4-1V3s-1 1-4 1-5-2-8-2-4 1-4 1Z',
  moderate: 'M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10Z',
} as const;

export type IconName = keyof typeof PATHS;

const SVG = 'http://www.w3.org/2000/svg';

export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({
    viewBox: '0 0 24 24',
    width: '16',
    height: '16',
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': '2',
    'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
    'aria-hidden': 'true',
    focusable: 'false',
    class: 'icon',
  }))
    svg.setAttribute(k, v);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', PATHS[name]);
  svg.append(path);
  return svg;
}
