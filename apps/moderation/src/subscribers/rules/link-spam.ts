import { Limits, type MessageEvent } from '@chat/contracts';
import type { ModerationSubscriber, Verdict } from '../subscriber';

export interface LinkSpamOptions {
  /** Links one user may post within the window; the message that reaches this count is redacted. */
  links: number;
  /** Distinct rooms one user may post the same link to within the window; the message that reaches this count is redacted. */
  rooms: number;
  windowMs: number;
}

/** Top-level domains a bare domain (no scheme, no `www.`) is recognised with: the common ones of spam. */
const BARE_TLDS =
  'com|net|org|info|biz|io|co|me|ly|gg|app|dev|xyz|top|site|online|shop|store|link|click|live|club|vip|win|bet|cn|ru|uk|de|fr|in|tk|ml|ga|cf';
/**
 * A link: a scheme (http, https), or `www.`, or a bare domain with one of BARE_TLDS, then the
 * rest up to a space or a Chinese, Japanese or Korean character (text without spaces goes on
 * right after a link). Applied to the text after NFKC (full-width letters and dots become
 * ASCII) with the evasions `example . com` and `example[.]com` closed up.
 */
const URL_CHAR = String.raw`[^\s<>"'\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\u3000-\u303f]`;
const LINK = new RegExp(
  String.raw`\b(?:https?://${URL_CHAR}+|www\.${URL_CHAR}+|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:${BARE_TLDS})\b(?:[/?#]${URL_CHAR}*)?)`,
  'giu',
);

/**
 * The links of a text (pure), each as `host/path` lower-cased, without scheme, `www.`, query,
 * fragment, trailing slash or trailing punctuation: the same link however it is dressed.
 */
export function linksIn(text: string): string[] {
  const folded = text
    .normalize('NFKC')
    .replace(/[\u3002\uff0e\uff61]/g, '.') // ideographic and half-width full stops
    .replace(/\s*(?:\[\.\]|\(\.\)|\{\.\})\s*|\s+\.\s+/g, '.')
    .toLowerCase();
  const out: string[] = [];
  for (const m of folded.matchAll(LINK)) {
    const link = m[0]
      .replace(/^https?:\/\//, '')
      .replace(/^www\./, '')
      .replace(/[?#].*$/, '')
      .replace(/[.,;:!?)\]}'"]+$/, '')
      .replace(/\/+$/, '');
    if (link) out.push(link);
  }
  return out;
}

interface Posting {
  messageId: string;
  roomId: string;
  at: number;
  links: string[];
}

/** Users remembered at once; the one quiet the longest is forgotten first. */
const USERS_MAX = 50_000;

/**
 * Link spam: one user posting `links` or more links within the window, or the same link to
 * `rooms` or more distinct rooms within it. Links edited into a message count as if posted
 * at the edit (MessageEdited): the message's links become the edited text's, so a spammer
 * cannot post harmless text and edit the links in afterwards, and editing a message again
 * does not count its links twice. The message that crosses the line (and each one after it
 * while the window still counts over) is redacted; the first crossing of a burst also files a
 * report for moderators and records a strike (escalation: warn, mute, ban for review).
 * Windows follow the events' stored times, so a backlog is judged as it happened.
 * Idempotent: a message already counted (a redelivery) is not counted again.
 */
export class LinkSpamSubscriber implements ModerationSubscriber<'messages'> {
  readonly name = 'link-spam';
  readonly source = 'messages' as const;
  private readonly users = new Map<string, { postings: Posting[]; flaggedUntil: number }>();
  /**
   * Authors' names by user id, from their MessagePosted (a MessageEdited carries only the id),
   * bounded like `users`; an edit by an author not seen posting since start-up is judged under
   * the user id as name.
   */
  private readonly names = new Map<string, string>();

  constructor(private readonly opts: LinkSpamOptions) {}

  handle(event: MessageEvent): Verdict[] {
    if (event.type === 'MessagePosted') {
      const p = event.payload;
      this.remember(p.senderId, p.senderName);
      return this.judge({ ...p, edit: false }, Date.parse(event.time));
    }
    if (event.type === 'MessageEdited') {
      const p = event.payload;
      return this.judge({ ...p, senderName: this.names.get(p.senderId) ?? p.senderId, edit: true }, Date.parse(event.time));
    }
    return [];
  }

  private judge(
    p: { messageId: string; roomId: string; senderId: string; senderName: string; body: string; edit: boolean },
    at: number,
  ): Verdict[] {
    const links = linksIn(p.body);
    const known = this.users.get(p.senderId);
    // An edit that leaves no link still takes the message's earlier links out of the count.
    if (!links.length && !(p.edit && known)) return [];
    const user = known ?? { postings: [], flaggedUntil: 0 };
    this.users.delete(p.senderId);
    this.users.set(p.senderId, user);
    if (this.users.size > USERS_MAX) this.users.delete(this.users.keys().next().value as string);
    user.postings = user.postings.filter((x) => x.at > at - this.opts.windowMs);
    if (p.edit) {
      // The message's links are now the edited text's, counted from the edit (a redelivered
      // edit replaces the entry with the same one).
      user.postings = user.postings.filter((x) => x.messageId !== p.messageId);
      if (links.length) user.postings.push({ messageId: p.messageId, roomId: p.roomId, at, links });
    } else if (!user.postings.some((x) => x.messageId === p.messageId)) {
      user.postings.push({ messageId: p.messageId, roomId: p.roomId, at, links });
    }
    if (!links.length) return [];

    const total = user.postings.reduce((n, x) => n + x.links.length, 0);
    // The most rooms any link of this message went to within the window.
    const spread = Math.max(...links.map((l) => new Set(user.postings.filter((x) => x.links.includes(l)).map((x) => x.roomId)).size));
    const why =
      total >= this.opts.links
        ? `${total} links within ${this.opts.windowMs / 1000} s`
        : spread >= this.opts.rooms
          ? `the same link in ${spread} rooms within ${this.opts.windowMs / 1000} s`
          : null;
    if (!why) return [];

    const author = { userId: p.senderId, username: p.senderName };
    const verdicts: Verdict[] = [{ kind: 'redact', roomId: p.roomId, messageId: p.messageId, ...author, reason: `link spam: ${why}` }];
    // One report and one strike per burst: a bot posting on does not collect a strike per message.
    if (at >= user.flaggedUntil) {
      verdicts.push(
        {
          kind: 'report',
          roomId: p.roomId,
          messageId: p.messageId,
          targetUserId: p.senderId,
          targetUsername: p.senderName,
          excerpt: [...p.body].slice(0, Limits.replyExcerptChars).join(''),
          reason: `link spam: ${why}`,
        },
        { kind: 'strike', ...author, roomId: p.roomId, detail: `link spam: ${why}` },
      );
    }
    user.flaggedUntil = at + this.opts.windowMs;
    return verdicts;
  }

  private remember(userId: string, username: string): void {
    this.names.delete(userId);
    this.names.set(userId, username);
    if (this.names.size > USERS_MAX) this.names.delete(this.names.keys().next().value as string);
  }
}
