import { h } from '../dom';
import { t } from '../i18n/i18n';
import { sanctionReason } from './format';

// The page after a server ban (close 4412, or SERVER_BANNED on login, refresh or auth): a screen
// that says so, with the moderators' reason, instead of the chat. The client is closed before
// this is shown, so nothing reconnects; "Back to the login page" is for another account.

let view: HTMLElement | null = null;

export function showBanned(reason: string | null, back: () => void) {
  hideBanned();
  const text = sanctionReason(reason);
  // Notices of the chat that was left do not cover this screen.
  document.getElementById('toasts')?.replaceChildren();
  view = h(
    'main',
    { class: 'auth-view banned-view', testid: 'banned-view', role: 'alert' },
    h(
      'div',
      { class: 'card auth-card banned-card' },
      h('h1', { text: t('moderation:banned.title') }),
      h('p', { text: t('moderation:banned.text') }),
      text ? h('p', { class: 'banned-reason', testid: 'banned-reason' }, h('strong', { text: t('moderation:banned.reason') }), text) : null,
      h('p', { class: 'muted', text: t('moderation:banned.contact') }),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            testid: 'banned-back',
            onclick: () => {
              hideBanned();
              back();
            },
          },
          t('moderation:banned.back'),
        ),
      ),
    ),
  );
  document.body.append(view);
  document.getElementById('auth-view')?.setAttribute('hidden', '');
  document.getElementById('chat-view')?.setAttribute('hidden', '');
}

export function hideBanned() {
  view?.remove();
  view = null;
}
