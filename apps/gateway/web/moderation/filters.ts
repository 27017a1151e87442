import { setFilters } from '@chat/client';
import type { FilterConfig, FilterConfigView, HoldAction, LinkAction, PatternEntry, WsOps } from '@chat/contracts';
import { act, errorBox, field, fullTime, h, showError } from '../dom';
import { freshToken } from '../account/tokens';
import { client } from '../state';
import { domainsText, jsonBytes, lines, optionalInt, parseDomains, verdictText, wordsOf, wordsText } from './format';

// The content filters of one scope — the whole server (moderation panel) or one room (its
// settings) — as a form: words that are masked or block the message, the allow-list, patterns,
// link domains and the spam thresholds; and a box that tries a text against the saved filters
// (`mod.filters.test`, no side effects). Saved with `mod.filters.set`, or over HTTP
// (`PUT /api/moderation/filters`) when the configuration is larger than a WebSocket frame
// (a long word list).

/** Below this many bytes of JSON the configuration goes over the WebSocket (frames are at most 64 KiB). */
const WS_MAX_BYTES = 60 * 1024;
const LIMITS = { termMaxChars: 64, patternMaxChars: 300, patternNameMaxChars: 64, messageMaxChars: 4000 };

type SetFilters = WsOps['mod.filters.set']['req'];

/** Saves a scope's filters: over the WebSocket when it fits in a frame, else by HTTP (`PUT /api/moderation/filters`, up to 1 MiB). */
async function saveFilters(req: SetFilters): Promise<void> {
  if (jsonBytes(req) < WS_MAX_BYTES) await client().request('mod.filters.set', req);
  else await setFilters(location.origin, await freshToken(), req.config, req.roomId);
}

/** The editor of `roomId`'s filters (null: the server's). Loads them itself; errors stay inside it. */
export function filterEditor(roomId: string | null): HTMLElement {
  const box = h('div', { class: 'filter-editor', testid: 'filter-editor', 'data-scope': roomId ? 'room' : 'server' });
  box.append(h('p', { class: 'muted', text: 'Loading the filters…' }));
  const scope = roomId ? { roomId } : {};
  client()
    .request('mod.filters.get', scope)
    .then(
      (view) => box.replaceChildren(configForm(roomId, view), testBox(roomId)),
      (err) => {
        const error = errorBox('filter-load-error');
        showError(error, err);
        box.replaceChildren(error);
      },
    );
  return box;
}

const textarea = (testid: string, value: string, placeholder: string, rows = 4) =>
  h('textarea', { testid, rows, placeholder, spellcheck: 'false', value }) as HTMLTextAreaElement;

function select<T extends string>(testid: string, options: Array<[T | '', string]>, value: T | '' | null) {
  const s = h('select', { testid }, ...options.map(([v, label]) => h('option', { value: v, text: label }))) as HTMLSelectElement;
  s.value = value ?? '';
  return s;
}

const numberBox = (testid: string, value: number | null, min: number, max: number, placeholder: string) =>
  h('input', { testid, type: 'number', min, max, step: 1, placeholder, value: value ?? '' }) as HTMLInputElement;

function configForm(roomId: string | null, view: FilterConfigView): HTMLElement {
  const c = view.config;
  const room = !!roomId;
  const inherited = room ? "the server's" : 'off';
  const mask = textarea('filter-mask', wordsText(c, 'mask'), 'one word or phrase a line: replaced by ***');
  const block = textarea('filter-block', wordsText(c, 'block'), 'one word or phrase a line: the message is refused');
  const allow = textarea('filter-allow', c.allow.join('\n'), 'one word a line, e.g. class, Scunthorpe', 3);
  const patterns = h('div', { class: 'filter-patterns', testid: 'filter-patterns' });
  const addPattern = (p: Partial<PatternEntry> = {}) => patterns.append(patternRow(p));
  c.patterns.forEach(addPattern);
  const add = h('button', { type: 'button', class: 'small', testid: 'filter-pattern-add', onclick: () => addPattern() }, '+ Pattern');
  const linkDefault = select<LinkAction>(
    'filter-link-default',
    [
      ['', room ? "the server's" : 'allow'],
      ['allow', 'allow'],
      ['hold', 'hold for review'],
      ['block', 'block'],
    ],
    c.links.default,
  );
  const domains = textarea('filter-domains', domainsText(c.links.domains), 'example.com block\nbit.ly hold\ntrusted.org allow', 3);
  const repeated = numberBox('filter-repeated', c.spam.repeatedCharsMax, 0, 200, inherited);
  const capsPct = numberBox('filter-caps-percent', c.spam.capsPercentMax, 0, 100, inherited);
  const capsMin = numberBox('filter-caps-min', c.spam.capsMinLetters, 1, 1000, inherited);
  const error = errorBox('filter-error');
  const save = h('button', { type: 'submit', class: 'primary', testid: 'filter-save' }, 'Save filters') as HTMLButtonElement;
  const saved = h('p', { class: 'muted', testid: 'filter-saved', hidden: true, text: 'Saved: every server applies it within a second.' });
  const form = h(
    'form',
    { class: 'dialog-form filter-form', testid: 'filter-form', novalidate: true },
    h('p', {
      class: 'muted small-text',
      testid: 'filter-updated',
      text: view.updatedAt
        ? `Last changed ${fullTime(view.updatedAt)}${view.updatedBy ? ` by ${view.updatedBy.username}` : ''}.`
        : room
          ? 'This room has no filters of its own: the server’s apply.'
          : 'No server filters set yet.',
    }),
    room
      ? h('p', { class: 'hint muted', text: 'These add to the server’s filters: its words, patterns and domains apply here too.' })
      : null,
    h('h3', { text: 'Words' }),
    field(
      'Masked (***)',
      mask,
      `Latin words match whole words; Chinese, Japanese and Korean anywhere. At most ${LIMITS.termMaxChars} characters each.`,
    ),
    field('Blocked', block, 'A message containing one is refused.'),
    field('Allowed', allow, 'Innocent words that contain a listed one: a match inside them does not count.'),
    h('h3', { text: 'Patterns' }),
    h('p', { class: 'hint muted', text: 'Regular expressions, case-insensitive, against the normalised text.' }),
    patterns,
    add,
    h('h3', { text: 'Links' }),
    field('Links to other domains', linkDefault),
    field('Domains', domains, '"<domain> allow|hold|block" a line; a domain covers its subdomains. Held messages wait for a moderator.'),
    h('h3', { text: 'Spam' }),
    h(
      'div',
      { class: 'filter-spam' },
      field('Longest run of one character', repeated, `"soooo" is a run of 4; 0 is off; empty: ${inherited}.`),
      field('Most capitals (%)', capsPct, `0 is off; empty: ${inherited}.`),
      field('From how many letters', capsMin, `Shorter texts ("OK") are never all-caps spam; empty: ${inherited}.`),
    ),
    error,
    h('div', { class: 'actions' }, save),
    saved,
  );
  form.addEventListener('input', () => (saved.hidden = true));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const parsed = parseDomains(domains.value);
    if (parsed.errors.length) return showError(error, new Error(`domains: ${parsed.errors.join('; ')}`));
    const config: FilterConfig = {
      words: wordsOf(mask.value, block.value),
      allow: lines(allow.value),
      patterns: [...patterns.querySelectorAll<HTMLElement>('.pattern-row')].flatMap((row) => {
        const get = (name: string) =>
          row.querySelector<HTMLInputElement | HTMLSelectElement>(`[data-testid="${name}"]`)?.value.trim() ?? '';
        const name = get('pattern-name');
        const pattern = get('pattern-source');
        if (!name && !pattern) return [];
        return [{ name: name || pattern.slice(0, LIMITS.patternNameMaxChars), pattern, action: get('pattern-action') as HoldAction }];
      }),
      links: { default: (linkDefault.value || null) as LinkAction | null, domains: parsed.domains },
      spam: {
        repeatedCharsMax: optionalInt(repeated.value),
        capsPercentMax: optionalInt(capsPct.value),
        capsMinLetters: optionalInt(capsMin.value),
      },
    };
    const ok = await act(save, error, async () => {
      await saveFilters({ ...(roomId ? { roomId } : {}), config });
      return true;
    });
    if (!ok) return;
    // Read back what was stored (the server normalises), then say it is saved.
    const fresh = await client()
      .request('mod.filters.get', roomId ? { roomId } : {})
      .catch(() => null);
    if (fresh && form.isConnected) {
      const next = configForm(roomId, fresh);
      form.replaceWith(next);
      next.querySelector<HTMLElement>('[data-testid="filter-saved"]')?.removeAttribute('hidden');
      return;
    }
    saved.hidden = false;
  });
  return form;
}

function patternRow(p: Partial<PatternEntry>): HTMLElement {
  const row = h(
    'div',
    { class: 'pattern-row', testid: 'pattern-row' },
    h('input', { testid: 'pattern-name', placeholder: 'name', maxlength: LIMITS.patternNameMaxChars, value: p.name ?? '' }),
    h('input', {
      testid: 'pattern-source',
      class: 'mono',
      placeholder: 'pattern, e.g. \\bfree\\s+money\\b',
      maxlength: LIMITS.patternMaxChars,
      spellcheck: 'false',
      value: p.pattern ?? '',
    }),
    select<HoldAction>(
      'pattern-action',
      [
        ['mask', 'mask'],
        ['block', 'block'],
        ['hold', 'hold'],
      ],
      p.action ?? 'block',
    ),
  );
  row.append(
    h('button', { type: 'button', class: 'icon-button', title: 'Remove', 'aria-label': 'Remove', onclick: () => row.remove() }, '×'),
  );
  return row;
}

function testBox(roomId: string | null): HTMLElement {
  const input = h('textarea', {
    testid: 'filter-test-input',
    rows: 2,
    maxlength: LIMITS.messageMaxChars,
    placeholder: 'Write a text to see what the saved filters do with it',
  }) as HTMLTextAreaElement;
  const run = h('button', { type: 'submit', testid: 'filter-test' }, 'Test') as HTMLButtonElement;
  const result = h('p', { class: 'filter-test-result', testid: 'filter-test-result', hidden: true });
  const error = errorBox('filter-test-error');
  const form = h(
    'form',
    { class: 'dialog-form filter-test', novalidate: true },
    h('h3', { text: 'Test a text' }),
    input,
    h('div', { class: 'actions' }, run),
    result,
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!input.value.trim()) return;
    result.hidden = true;
    const v = await act(run, error, () => client().request('mod.filters.test', { ...(roomId ? { roomId } : {}), body: input.value }));
    if (!v) return;
    result.dataset.verdict = v.verdict;
    result.textContent = verdictText(v);
    result.hidden = false;
  });
  return form;
}
