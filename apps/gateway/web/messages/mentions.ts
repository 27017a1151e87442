import type { UserView } from '@chat/contracts';
import { h } from '../dom';
import { client, el, me, state } from '../state';
import { autoGrow } from './outbox';

// `@` in the composer suggests the room's members (the other participant, in a conversation):
// typing narrows the list, Up/Down move, Enter or Tab picks (inserting `@name `), Esc closes.
// The server decides who is mentioned (members named by `@name` when the message is accepted);
// this only helps to type the names right.

/** Members read again after this long, so newcomers appear. */
const MEMBERS_TTL_MS = 30_000;
const SHOWN = 8;
/** `@` at the start or after a character that cannot end a name, then what is typed of it. */
const TYPING = /(^|[^\p{L}\p{N}_.-])@([\p{L}\p{N}_.-]{0,32})$/u;

const members = new Map<string, { at: number; users: UserView[] }>();
let options: UserView[] = [];
let selected = 0;
/** Where the `@` being completed starts in the composer's text. */
let start = -1;

async function membersOf(roomId: string): Promise<UserView[]> {
  const conversation = state.conversations.get(roomId);
  if (conversation) return [conversation.peer];
  const cached = members.get(roomId);
  if (cached && Date.now() - cached.at < MEMBERS_TTL_MS) return cached.users;
  const page = await client().request('room.members', { roomId, limit: 200 });
  const users = page.members.map((m) => ({ userId: m.userId, username: m.username }));
  members.set(roomId, { at: Date.now(), users });
  return users;
}

export function closeMentions() {
  options = [];
  start = -1;
  el.mentionList.hidden = true;
  el.mentionList.replaceChildren();
  el.input.removeAttribute('aria-activedescendant');
}

/** The composer's text changed: suggest members when an `@name` is being typed. */
export async function onComposerInput() {
  const roomId = state.currentRoomId;
  const caret = el.input.selectionStart ?? el.input.value.length;
  const match = TYPING.exec(el.input.value.slice(0, caret));
  if (!roomId || !match) return closeMentions();
  const typed = match[2].toLocaleLowerCase();
  let users: UserView[];
  try {
    users = await membersOf(roomId);
  } catch {
    return closeMentions();
  }
  // The text may have changed while the members were read.
  if (roomId !== state.currentRoomId || TYPING.exec(el.input.value.slice(0, el.input.selectionStart ?? 0))?.[2] !== match[2]) return;
  const name = (u: UserView) => u.username.toLocaleLowerCase();
  const others = users.filter((u) => u.userId !== me()?.userId);
  options = [
    ...others.filter((u) => name(u).startsWith(typed)),
    ...others.filter((u) => !name(u).startsWith(typed) && name(u).includes(typed)),
  ].slice(0, SHOWN);
  start = caret - match[2].length - 1;
  selected = 0;
  render();
}

function render() {
  if (!options.length) return closeMentions();
  el.mentionList.replaceChildren(
    ...options.map((u, i) =>
      h(
        'li',
        {
          id: `mention-option-${i}`,
          class: `mention-option${i === selected ? ' selected' : ''}`,
          testid: 'mention-option',
          role: 'option',
          'aria-selected': String(i === selected),
          'data-username': u.username,
          // mousedown, not click: the composer keeps the focus.
          onmousedown: (e) => {
            e.preventDefault();
            pick(i);
          },
        },
        `@${u.username}`,
      ),
    ),
  );
  el.mentionList.hidden = false;
  el.input.setAttribute('aria-activedescendant', `mention-option-${selected}`);
}

function pick(i: number) {
  const u = options[i];
  if (!u || start < 0) return closeMentions();
  const caret = el.input.selectionStart ?? el.input.value.length;
  const before = el.input.value.slice(0, start);
  const after = el.input.value.slice(caret);
  const inserted = `@${u.username} `;
  el.input.value = before + inserted + after;
  const at = before.length + inserted.length;
  el.input.setSelectionRange(at, at);
  closeMentions();
  autoGrow();
  el.input.focus();
}

/** Keys while suggestions are shown; true when the key was theirs. */
export function onMentionKey(e: KeyboardEvent): boolean {
  if (el.mentionList.hidden || !options.length) return false;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    selected = (selected + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
    render();
  } else if ((e.key === 'Enter' || e.key === 'Tab') && !e.isComposing) pick(selected);
  else if (e.key === 'Escape') closeMentions();
  else return false;
  e.preventDefault();
  return true;
}
