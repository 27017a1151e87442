import type { Mention } from '@chat/contracts';
import { mentionNames, mentionRanges as rangesIn, type MentionRange } from '@chat/format/mentions';

// Where the mentions of a message are in its text. The server decides who is mentioned (the
// message's `mentions`); this finds those users' `@name`s in the body by the server's own rule
// (docs/protocol.md, message.send; apps/rooms/src/messages/mentions.ts), with the matcher the
// server's HTML rendering uses (libs/format/src/mentions.ts, imported alone: the bundle takes
// no markdown-it).

export type { MentionRange };

/** The `@username` occurrences of the listed users in `body`, in text order. */
export function mentionRanges(body: string, mentions: readonly Mention[] | null | undefined): MentionRange[] {
  if (!mentions?.length) return [];
  return rangesIn(body, mentionNames(mentions));
}
