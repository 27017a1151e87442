import { ChatClientError } from '@chat/client';
import type { ErrorBody, ErrorCode } from '@chat/contracts';
import errors from './i18n/errors';
import { language, t } from './i18n/i18n';
import { durationText, retryAfterOf, withoutRetry } from './moderation/format';

// DOM helpers shared by every part of the page. All user-provided text reaches the DOM through
// textContent or attributes (h's `text` prop, string children), never as HTML.

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

type Props = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;
export type Child = Node | string | null | undefined | false;

/** Creates an element; `text` is set with textContent, `on…` props become listeners, `testid` data-testid. */
export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'testid') el.dataset.testid = String(v);
    else if (k === 'value') (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** An error as the page shows it: a code, a message, and field details for BAD_REQUEST. */
export type ShownError = Pick<ErrorBody, 'code' | 'message' | 'details'> & { retryAfterMs?: number };

/**
 * A refusal of the page itself (a form checked before sending), said in the page's language by
 * its message, with the code a server refusal of the same kind would have (in data-code).
 */
export class FormError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode = 'BAD_REQUEST',
  ) {
    super(message);
  }
}

/** The page's view of any failure (ChatClientError's message without its `CODE: ` prefix). */
export function asShown(err: unknown): ShownError {
  if (err instanceof ChatClientError) {
    const wait = retryAfterOf(err.reason);
    return { code: err.code, message: withoutRetry(err.reason), details: err.details, ...(wait === null ? {} : { retryAfterMs: wait }) };
  }
  if (err instanceof FormError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/**
 * The sentence of a server refusal in the page's language; a wait the server asked for
 * (`…; retryAfterMs=<n>` of MUTED, RATE_LIMITED) is said after it as "try again in …".
 */
export function refusalSentence(err: ShownError): string {
  const sentence = sentenceFor(err.code);
  return err.retryAfterMs === undefined ? sentence : `${sentence} ${t('common:retryIn', { duration: durationText(err.retryAfterMs) })}`;
}

/** The error code of a failure (INTERNAL for anything that is not a ChatClientError). */
export const codeOf = (err: unknown): ErrorCode => (err instanceof ChatClientError ? err.code : 'INTERNAL');

/** A person's sentence for an error code. */
export const sentenceFor = (code: ErrorCode): string => (code in errors.en ? t(`errors:${code}`) : t('errors:INTERNAL'));

/** A field path of BAD_REQUEST details as a word (`data.days` → `days`). */
const fieldName = (field: string) =>
  field
    .replace(/^data\./, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();

/**
 * Fills `el` with an error, or hides it for null: a sentence for its code first, then the
 * server's message (and the field details of BAD_REQUEST), with the code small at the end.
 */
export function showError(el: HTMLElement, e: unknown) {
  if (!e) {
    el.hidden = true;
    el.replaceChildren();
    delete el.dataset.code;
    return;
  }
  const err = asShown(e);
  el.dataset.code = err.code;
  // An error of the page itself (not from the server) says what it means in its message.
  const own = !(e instanceof ChatClientError);
  const sentence = own ? capitalise(err.message) : refusalSentence(err);
  // The server's own message is English: it follows the sentence in an English page only. The
  // code is never shown (it stays in data-code, and in the sentence's tooltip for support).
  const said =
    own ||
    language() !== 'en' ||
    !err.message ||
    err.message.replace(/\.$/, '').toLowerCase() === sentenceFor(err.code).replace(/\.$/, '').toLowerCase();
  el.replaceChildren(
    h('span', {
      class: 'error-sentence',
      testid: 'error-sentence',
      text: sentence,
      title: own ? undefined : `${t('common:error.code')}: ${err.code}`,
    }),
    said ? '' : ' ',
    said ? '' : h('span', { class: 'error-message', text: err.message }),
  );
  // Field details, unless the message already says exactly that.
  const details = (Array.isArray(err.details) ? err.details : []).filter((d) => (d.problems ?? []).join('; ') !== err.message);
  if (details.length) {
    el.append(
      h('ul', { class: 'details' }, ...details.map((d) => h('li', { text: `${fieldName(d.field)}: ${(d.problems ?? []).join('; ')}` }))),
    );
  }
  el.hidden = false;
}

const capitalise = (s: string) => (s ? s[0].toLocaleUpperCase() + s.slice(1) : s);

/**
 * After a refused form: focus the field the error names (an input with that `name` or
 * `data-field`), else the form's first field, so the person can correct it at once.
 */
export function focusBadField(form: HTMLFormElement | null | undefined, err: unknown) {
  if (!form) return;
  const fields = [...form.querySelectorAll<HTMLInputElement>('input, textarea, select')].filter(
    (f) => !f.disabled && !f.hidden && f.type !== 'hidden' && f.offsetParent !== null,
  );
  const named = (asShown(err).details ?? []).map((d) => d.field.replace(/^data\./, ''));
  const target = fields.find((f) => named.includes(f.name) || named.includes(f.dataset.field ?? '')) ?? fields[0];
  if (!target) return;
  target.focus();
  if (target instanceof HTMLInputElement && /^(text|search|number|password|)$/.test(target.type)) target.select();
}

/** An error box (hidden until filled by showError). */
export const errorBox = (testid: string) => h('div', { class: 'error', testid, role: 'alert', hidden: true });

// Dates and times in the page's language (not the browser's: a Chinese page says Chinese dates).
let formats: { lang: string; time: Intl.DateTimeFormat; full: Intl.DateTimeFormat } | undefined;
const fmtFor = () =>
  formats?.lang === language()
    ? formats
    : (formats = {
        lang: language(),
        time: new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit' }),
        full: new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'medium' }),
      });
const fmt = (which: 'time' | 'full', iso: string) => {
  const f = fmtFor()[which];
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : f.format(d);
};
export const shortTime = (iso: string) => fmt('time', iso);
export const fullTime = (iso: string) => fmt('full', iso);

/**
 * Runs an action from a button: disables it while the request is in flight, and shows a
 * refusal in `errorEl` (or as a toast when there is none) without blocking the page.
 */
export async function act<T>(button: HTMLButtonElement | null, errorEl: HTMLElement | null, fn: () => Promise<T>): Promise<T | undefined> {
  if (button) button.disabled = true;
  if (errorEl) showError(errorEl, null);
  try {
    return await fn();
  } catch (err) {
    if (errorEl) showError(errorEl, err);
    else toastError(err);
    focusBadField(button?.form, err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---------------------------------------------------------------- toasts

const TOAST_MS = 8000;

/**
 * A non-blocking notice in the corner: `info` for things that happened, an error for refusals,
 * a `warning` for what a moderator told me (a warning, a mute), which stays until dismissed.
 */
export function toast(text: string, kind: 'info' | 'error' | 'warning' = 'info', code?: ErrorCode, retryAfterMs?: number): HTMLElement {
  const area = $('toasts');
  const node = h(
    'div',
    {
      class: `toast ${kind}`,
      testid: kind === 'error' ? 'toast-error' : 'notice',
      role: kind === 'info' ? 'status' : 'alert',
      'data-code': code,
    },
    code
      ? h('span', {
          class: 'error-sentence',
          text: refusalSentence({ code, message: text, retryAfterMs }),
          title: `${t('common:error.code')}: ${code}`,
        })
      : null,
    code && text && language() === 'en' ? ' ' : null,
    // A refusal's server message (English) is said after its sentence on an English page only.
    code && language() !== 'en' ? null : h('span', { text }),
    h(
      'button',
      {
        type: 'button',
        class: 'link-button toast-close',
        title: t('common:dismiss'),
        'aria-label': t('common:dismiss'),
        onclick: () => node.remove(),
      },
      '×',
    ),
  );
  area.append(node);
  // Errors stay until dismissed or until a few newer ones pushed them out; notices fade out.
  if (kind === 'info') setTimeout(() => node.remove(), TOAST_MS);
  while (area.children.length > 5) area.firstElementChild?.remove();
  return node;
}

export function toastError(err: unknown) {
  const shown = asShown(err);
  toast(shown.message, 'error', shown.code, shown.retryAfterMs);
}

// ---------------------------------------------------------------- dialogs

/**
 * Opens a modal dialog built from `content`; returns it (closing removes it from the page). The
 * head (title and ×) stays in place; `content` scrolls below it in `.dialog-body`.
 */
export function openDialog(testid: string, title: string, ...content: Child[]): HTMLDialogElement {
  const dialog = h(
    'dialog',
    { class: 'dialog card', testid },
    h(
      'div',
      { class: 'dialog-head' },
      h('h2', { text: title }),
      h(
        'button',
        {
          type: 'button',
          class: 'icon-button',
          testid: 'dialog-close',
          title: t('common:close'),
          'aria-label': t('common:close'),
          onclick: () => dialog.close(),
        },
        '×',
      ),
    ),
    h('div', { class: 'dialog-body' }, ...content),
  ) as HTMLDialogElement;
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A labelled form field. */
export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label', text: label }),
    input,
    hint ? h('span', { class: 'hint muted', text: hint }) : null,
  );
}
