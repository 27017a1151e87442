import { changePassword, deleteAccount, logoutAll, revokeSession, sessions as listSessions } from '@chat/client';
import type { SessionView } from '@chat/contracts';
import { LIMITS as Limits } from '../limits';
import { FormError, act, errorBox, field, fullTime, h, openDialog, showError, toast } from '../dom';
import { me } from '../state';
import { LANGUAGES, language, setLanguage, t, type Language } from '../i18n/i18n';
import { notificationSettings } from '../notifications/notify';
import { freshToken } from './tokens';

// Account settings: change password (revokes every other session), the sessions (devices) with
// revoke, log out here, log out everywhere, and deleting the account (with the password, after
// saying what happens: the messages stay under the name, and the name stays taken).

interface SettingsHooks {
  /** Leaves the chat for the login form, with a notice (null: none). */
  leave(notice: string | null): void;
  /** Logs out this session (the top bar's "log out"). */
  logout(): Promise<void>;
  /** This page itself is ending every session (true; false when that failed): the 4410 that follows is expected. */
  endingAll(on: boolean): void;
}

const device = (ua: string) => {
  const browser = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chromium'
        : /Safari\//.test(ua)
          ? 'Safari'
          : ua.split(/[ /]/)[0] || t('account:sessions.unknownBrowser');
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Mac OS X/.test(ua)
      ? 'macOS'
      : /Android/.test(ua)
        ? 'Android'
        : /Linux/.test(ua)
          ? 'Linux'
          : '';
  return os ? t('account:sessions.device', { browser, os }) : browser;
};

export function openSettingsDialog(hooks: SettingsHooks) {
  const sessionsBox = h('div', { class: 'sessions', testid: 'sessions' }, h('p', { class: 'muted', text: t('account:loading') }));
  const dialog = openDialog(
    'settings-dialog',
    t('account:title', { name: me()?.username ?? '' }),
    section(t('account:language.title'), t('account:language.hint'), languagePicker()),
    section(t('account:notifications.title'), null, notificationSettings()),
    section(t('account:sessions.title'), t('account:sessions.hint'), sessionsBox, signOutButtons(hooks)),
    section(t('account:password.title'), t('account:password.hint'), passwordForm()),
    section(t('account:delete.title'), null, deleteForm(hooks)),
  );
  dialog.classList.add('settings-dialog');
  void loadSessions(sessionsBox);
}

/** The page's language (kept for every tab and later visits; the page is drawn again in it). */
export function languagePicker(testid = 'settings-language'): HTMLSelectElement {
  const select = h(
    'select',
    { testid, 'aria-label': t('common:language.label'), title: t('common:language.label') },
    ...LANGUAGES.map((l) => h('option', { value: l.code, lang: l.code, text: l.name })),
  ) as HTMLSelectElement;
  select.value = language();
  select.addEventListener('change', () => setLanguage(select.value as Language));
  return select;
}

function section(title: string, hint: string | null, ...content: HTMLElement[]) {
  return h(
    'section',
    { class: 'settings-section' },
    h('h3', { text: title }),
    hint ? h('p', { class: 'muted hint', text: hint }) : null,
    ...content,
  );
}

async function loadSessions(box: HTMLElement) {
  const error = errorBox('sessions-error');
  try {
    const sessions = await listSessions(location.origin, await freshToken());
    box.replaceChildren(h('ul', { class: 'session-list', testid: 'session-list' }, ...sessions.map((s) => sessionRow(s, box))), error);
  } catch (err) {
    box.replaceChildren(error);
    showError(error, err);
  }
}

function sessionRow(s: SessionView, box: HTMLElement) {
  const error = errorBox('session-error');
  const revoke = h(
    'button',
    { type: 'button', class: 'small', testid: 'session-revoke' },
    t('account:sessions.revoke'),
  ) as HTMLButtonElement;
  revoke.onclick = async () => {
    const done = await act(revoke, error, async () => {
      await revokeSession(location.origin, await freshToken(), s.sessionId);
      return true;
    });
    if (done) void loadSessions(box);
  };
  return h(
    'li',
    {
      class: `session${s.current ? ' current' : ''}`,
      testid: 'session',
      'data-session-id': s.sessionId,
      'data-current': String(s.current),
    },
    h(
      'div',
      { class: 'session-main' },
      h('span', { class: 'session-device', text: device(s.userAgent) }),
      s.current ? h('span', { class: 'role-badge', testid: 'session-current', text: t('account:sessions.current') }) : null,
      s.remember ? h('span', { class: 'muted small-text', text: t('account:sessions.remembered') }) : null,
    ),
    h('div', {
      class: 'muted small-text',
      text: t('account:sessions.when', { created: fullTime(s.createdAt), used: fullTime(s.lastUsedAt) }),
    }),
    s.current ? null : revoke,
    error,
  );
}

function signOutButtons(hooks: SettingsHooks) {
  const error = errorBox('logout-all-error');
  const here = h('button', { type: 'button', testid: 'settings-logout' }, t('account:logout.here')) as HTMLButtonElement;
  here.onclick = () => void hooks.logout();
  const all = h('button', { type: 'button', class: 'danger', testid: 'logout-all' }, t('account:logout.everywhere')) as HTMLButtonElement;
  all.onclick = async () => {
    const done = await act(all, error, async () => {
      hooks.endingAll(true);
      await logoutAll(location.origin, await freshToken());
      return true;
    });
    if (!done) hooks.endingAll(false);
    else hooks.leave(t('account:logout.everywhereDone'));
  };
  return h('div', { class: 'settings-actions' }, h('div', { class: 'row' }, here, all), error);
}

const password = (testid: string, autocomplete: string) =>
  h('input', { type: 'password', testid, autocomplete, maxlength: Limits.passwordMaxChars, required: true }) as HTMLInputElement;

function passwordForm() {
  const current = password('current-password', 'current-password');
  const next = password('new-password', 'new-password');
  const again = password('new-password-again', 'new-password');
  const error = errorBox('password-error');
  const save = h(
    'button',
    { type: 'submit', class: 'primary', testid: 'change-password' },
    t('account:password.submit'),
  ) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    field(t('account:password.current'), current),
    field(t('account:password.new'), next, t('account:password.newHint', { count: Limits.passwordMinChars })),
    field(t('account:password.again'), again),
    error,
    h('div', { class: 'actions' }, save),
  ) as HTMLFormElement;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const done = await act(save, error, async () => {
      if (next.value !== again.value) throw new FormError(t('account:password.differ'));
      await changePassword(location.origin, await freshToken(), current.value, next.value);
      return true;
    });
    if (done) {
      form.reset();
      toast(t('account:password.done'));
    }
  });
  return form;
}

function deleteForm(hooks: SettingsHooks) {
  const pw = password('delete-password', 'current-password');
  const error = errorBox('delete-error');
  const confirm = h(
    'button',
    { type: 'submit', class: 'danger', testid: 'delete-account' },
    t('account:delete.submit'),
  ) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    h(
      'div',
      { class: 'warning-box', testid: 'delete-warning' },
      h('p', { text: t('account:delete.undone') }),
      h(
        'ul',
        {},
        h('li', { text: t('account:delete.leave') }),
        h('li', { text: t('account:delete.messages') }),
        h('li', { text: t('account:delete.name', { name: me()?.username ?? '' }) }),
      ),
    ),
    field(t('account:delete.password'), pw, t('account:delete.passwordHint')),
    error,
    h('div', { class: 'actions' }, confirm),
  ) as HTMLFormElement;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const done = await act(confirm, error, async () => {
      if (!pw.value) throw new FormError(t('account:delete.needPassword'));
      hooks.endingAll(true);
      await deleteAccount(location.origin, await freshToken(), pw.value);
      return true;
    });
    if (!done) hooks.endingAll(false);
    else hooks.leave(t('account:delete.done'));
  });
  return form;
}
