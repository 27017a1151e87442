import { h } from '../dom';

// The page after a server ban (close 4412, or SERVER_BANNED on login, refresh or auth): a screen
// that says so, with the moderators' reason, instead of the chat. The client is closed before
// this is shown, so nothing reconnects; "Back to the login page" is for another account.

let view: HTMLElement | null = null;

export function showBanned(reason: string | null, back: () => void) {
  hideBanned();
  const text = reason?.trim();
  view = h(
    'main',
    { class: 'auth-view banned-view', testid: 'banned-view', role: 'alert' },
    h(
      'div',
      { class: 'card auth-card banned-card' },
      h('h1', { text: 'You are banned from this server' }),
      h('p', { text: 'A moderator banned this account: you cannot read or post, and logging in is refused until they lift the ban.' }),
      text ? h('p', { class: 'banned-reason', testid: 'banned-reason' }, h('strong', { text: 'Reason: ' }), text) : null,
      h('p', { class: 'muted', text: 'If you think this is a mistake, contact the server’s administrators.' }),
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
          'Back to the login page',
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
