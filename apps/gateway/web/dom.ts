import { ChatClientError } from '@chat/client';
import type { ErrorBody, ErrorCode } from '@chat/contracts';

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
export type ShownError = Pick<ErrorBody, 'code' | 'message' | 'details'>;

/** The page's view of any failure (ChatClientError's message without its `CODE: ` prefix). */
export function asShown(err: unknown): ShownError {
  if (err instanceof ChatClientError) return { code: err.code, message: err.reason, details: err.details };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** The error code of a failure (INTERNAL for anything that is not a ChatClientError). */
export const codeOf = (err: unknown): ErrorCode => (err instanceof ChatClientError ? err.code : 'INTERNAL');

/** Fills `el` with a typed error (code, message, the field details of BAD_REQUEST), or hides it for null. */
export function showError(el: HTMLElement, e: unknown) {
  if (!e) {
    el.hidden = true;
    el.replaceChildren();
    delete el.dataset.code;
    return;
  }
  const err = asShown(e);
  el.dataset.code = err.code;
  el.replaceChildren(h('strong', { class: 'code', text: err.code }), ' ', h('span', { text: err.message }));
  // Field details, unless the message already says exactly that.
  const details = (Array.isArray(err.details) ? err.details : []).filter((d) => (d.problems ?? []).join('; ') !== err.message);
  if (details.length) {
    el.append(h('ul', { class: 'details' }, ...details.map((d) => h('li', { text: `${d.field}: ${(d.problems ?? []).join('; ')}` }))));
  }
  el.hidden = false;
}

/** An error box (hidden until filled by showError). */
export const errorBox = (testid: string) => h('div', { class: 'error', testid, role: 'alert', hidden: true });

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const fmt = (f: Intl.DateTimeFormat, iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : f.format(d);
};
export const shortTime = (iso: string) => fmt(timeFmt, iso);
export const fullTime = (iso: string) => fmt(fullFmt, iso);

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

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
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---------------------------------------------------------------- toasts

const TOAST_MS = 8000;

/** A non-blocking notice in the corner: `info` for things that happened, an error for refusals. */
export function toast(text: string, kind: 'info' | 'error' = 'info', code?: ErrorCode) {
  const area = $('toasts');
  const node = h(
    'div',
    {
      class: `toast ${kind}`,
      testid: kind === 'error' ? 'toast-error' : 'notice',
      role: kind === 'error' ? 'alert' : 'status',
      'data-code': code,
    },
    code ? h('strong', { class: 'code', text: code }) : null,
    code ? ' ' : null,
    h('span', { text }),
    h(
      'button',
      { type: 'button', class: 'link-button toast-close', title: 'Dismiss', 'aria-label': 'Dismiss', onclick: () => node.remove() },
      '×',
    ),
  );
  area.append(node);
  // Errors stay until dismissed or until a few newer ones pushed them out; notices fade out.
  if (kind === 'info') setTimeout(() => node.remove(), TOAST_MS);
  while (area.children.length > 5) area.firstElementChild?.remove();
}

export function toastError(err: unknown) {
  const shown = asShown(err);
  toast(shown.message, 'error', shown.code);
}

// ---------------------------------------------------------------- dialogs

/** Opens a modal dialog built from `content`; returns it (closing removes it from the page). */
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
          title: 'Close',
          'aria-label': 'Close',
          onclick: () => dialog.close(),
        },
        '×',
      ),
    ),
    ...content,
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
