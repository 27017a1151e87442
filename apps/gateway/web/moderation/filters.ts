import { setFilters } from '@chat/client';
import type { FilterConfig, FilterConfigView, HoldAction, LinkAction, PatternEntry, WsOps } from '@chat/contracts';
import { act, errorBox, field, fullTime, h, showError } from '../dom';
import { freshToken } from '../account/tokens';
import { t } from '../i18n/i18n';
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
  box.append(h('p', { class: 'muted', text: t('moderation:filters.loading') }));
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
  const inherited = t(room ? 'moderation:filters.inherited.server' : 'moderation:filters.inherited.off');
  const mask = textarea('filter-mask', wordsText(c, 'mask'), t('moderation:filters.mask.placeholder'));
  const block = textarea('filter-block', wordsText(c, 'block'), t('moderation:filters.block.placeholder'));
  const allow = textarea('filter-allow', c.allow.join('\n'), t('moderation:filters.allow.placeholder'), 3);
  const patterns = h('div', { class: 'filter-patterns', testid: 'filter-patterns' });
  const addPattern = (p: Partial<PatternEntry> = {}) => patterns.append(patternRow(p));
  c.patterns.forEach(addPattern);
  const add = h(
    'button',
    { type: 'button', class: 'small', testid: 'filter-pattern-add', onclick: () => addPattern() },
    t('moderation:filters.pattern.add'),
  );
  const linkDefault = select<LinkAction>(
    'filter-link-default',
    [
      ['', room ? t('moderation:filters.inherited.server') : t('moderation:filters.link.allow')],
      ['allow', t('moderation:filters.link.allow')],
      ['hold', t('moderation:filters.link.hold')],
      ['block', t('moderation:filters.link.block')],
    ],
    c.links.default,
  );
  const domains = textarea('filter-domains', domainsText(c.links.domains), 'example.com block\nbit.ly hold\ntrusted.org allow', 3);
  const repeated = numberBox('filter-repeated', c.spam.repeatedCharsMax, 0, 200, inherited);
  const capsPct = numberBox('filter-caps-percent', c.spam.capsPercentMax, 0, 100, inherited);
  const capsMin = numberBox('filter-caps-min', c.spam.capsMinLetters, 1, 1000, inherited);
  const error = errorBox('filter-error');
  const save = h('button', { type: 'submit', class: 'primary', testid: 'filter-save' }, t('moderation:filters.save')) as HTMLButtonElement;
  const saved = h('p', { class: 'muted', testid: 'filter-saved', hidden: true, text: t('moderation:filters.saved') });
  const form = h(
    'form',
    { class: 'dialog-form filter-form', testid: 'filter-form', novalidate: true },
    h('p', {
      class: 'muted small-text',
      testid: 'filter-updated',
      text: view.updatedAt
        ? view.updatedBy
          ? t('moderation:filters.updated.by', { time: fullTime(view.updatedAt), name: view.updatedBy.username })
          : t('moderation:filters.updated', { time: fullTime(view.updatedAt) })
        : t(room ? 'moderation:filters.none.room' : 'moderation:filters.none.server'),
    }),
    room ? h('p', { class: 'hint muted', text: t('moderation:filters.room.hint') }) : null,
    h('h3', { text: t('moderation:filters.words') }),
    field(t('moderation:filters.mask'), mask, t('moderation:filters.mask.hint', { max: LIMITS.termMaxChars })),
    field(t('moderation:filters.block'), block, t('moderation:filters.block.hint')),
    field(t('moderation:filters.allow'), allow, t('moderation:filters.allow.hint')),
    h('h3', { text: t('moderation:filters.patterns') }),
    h('p', { class: 'hint muted', text: t('moderation:filters.patterns.hint') }),
    patterns,
    add,
    h('h3', { text: t('moderation:filters.links') }),
    field(t('moderation:filters.link.default'), linkDefault),
    field(t('moderation:filters.domains'), domains, t('moderation:filters.domains.hint')),
    h('h3', { text: t('moderation:filters.spam') }),
    h(
      'div',
      { class: 'filter-spam' },
      field(t('moderation:filters.repeated'), repeated, t('moderation:filters.repeated.hint', { inherited })),
      field(t('moderation:filters.caps'), capsPct, t('moderation:filters.caps.hint', { inherited })),
      field(t('moderation:filters.capsMin'), capsMin, t('moderation:filters.capsMin.hint', { inherited })),
    ),
    error,
    h('div', { class: 'actions' }, save),
    saved,
  );
  form.addEventListener('input', () => (saved.hidden = true));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const parsed = parseDomains(domains.value);
    if (parsed.errors.length) return showError(error, new Error(t('moderation:domains.errors', { errors: parsed.errors.join('; ') })));
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
    h('input', {
      testid: 'pattern-name',
      placeholder: t('moderation:filters.pattern.name'),
      maxlength: LIMITS.patternNameMaxChars,
      value: p.name ?? '',
    }),
    h('input', {
      testid: 'pattern-source',
      class: 'mono',
      placeholder: t('moderation:filters.pattern.source'),
      maxlength: LIMITS.patternMaxChars,
      spellcheck: 'false',
      value: p.pattern ?? '',
    }),
    select<HoldAction>(
      'pattern-action',
      [
        ['mask', t('moderation:filters.action.mask')],
        ['block', t('moderation:filters.action.block')],
        ['hold', t('moderation:filters.action.hold')],
      ],
      p.action ?? 'block',
    ),
  );
  row.append(
    h(
      'button',
      {
        type: 'button',
        class: 'icon-button',
        title: t('moderation:filters.pattern.remove'),
        'aria-label': t('moderation:filters.pattern.remove'),
        onclick: () => row.remove(),
      },
      '×',
    ),
  );
  return row;
}

function testBox(roomId: string | null): HTMLElement {
  const input = h('textarea', {
    testid: 'filter-test-input',
    rows: 2,
    maxlength: LIMITS.messageMaxChars,
    placeholder: t('moderation:filters.test.placeholder'),
  }) as HTMLTextAreaElement;
  const run = h('button', { type: 'submit', testid: 'filter-test' }, t('moderation:filters.test.run')) as HTMLButtonElement;
  const result = h('p', { class: 'filter-test-result', testid: 'filter-test-result', hidden: true });
  const error = errorBox('filter-test-error');
  const form = h(
    'form',
    { class: 'dialog-form filter-test', novalidate: true },
    h('h3', { text: t('moderation:filters.test') }),
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
