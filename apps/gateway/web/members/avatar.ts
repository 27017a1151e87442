// A generated avatar for a person: the first letter of their name on a colour derived from their
// id, so the same person has the same colour everywhere (sidebar, messages, user cards) and a
// rename keeps it. Pure (no DOM) except avatarEl; imported by messages/ and moderation/.

export interface Avatar {
  /** The first character a person would read in the name (a whole grapheme, upper-cased). */
  readonly initial: string;
  /** A hue in degrees (0–359), the same for the same id. */
  readonly hue: number;
}

/** FNV-1a over UTF-16 units: cheap, stable across browsers, and spreads similar ids apart. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The first grapheme (an emoji with its modifiers, a Chinese character, a letter with its accent). */
function firstGrapheme(text: string): string {
  if (typeof Intl.Segmenter === 'function') {
    for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) return segment;
    return '';
  }
  return Array.from(text)[0] ?? '';
}

export function avatarFor(id: string, name: string): Avatar {
  // Leading punctuation (`@ann`, `_bot`, `"Ann"`) is not what a person would call the initial.
  const letters = name.trim().replace(/^[\p{P}\s]+(?=[\p{L}\p{N}\p{So}])/u, '');
  const initial = firstGrapheme(letters || id.trim()).toLocaleUpperCase() || '?';
  return { initial, hue: hash(id) % 360 };
}

/**
 * A span.avatar showing a person's initial on their colour (CSS reads `--avatar-hue`). Decorative:
 * the name is always written next to it, so it is hidden from screen readers.
 */
export function avatarEl(id: string, name: string, size: 'small' | 'medium' = 'medium'): HTMLSpanElement {
  const { initial, hue } = avatarFor(id, name);
  const el = document.createElement('span');
  el.className = `avatar avatar-${size}`;
  el.textContent = initial;
  el.style.setProperty('--avatar-hue', String(hue));
  el.setAttribute('aria-hidden', 'true');
  return el;
}
