import type { MessageView, PostAck } from '@chat/contracts';
import { me } from '../state';

/** Code points of a reply's quote (Limits.replyExcerptChars; the page bundle leaves the contracts' runtime out). */
const REPLY_EXCERPT_CHARS = 200;

/**
 * The caller's own message as the tab shows it once `message.send` / `dm.send` acknowledged it,
 * until the `message.posted` event (or a page) brings the stored copy: the quote as sent, no
 * mentions and no html (the server works them out).
 */
export function ownMessage(ack: PostAck, body: string, replyTo?: MessageView | null): MessageView {
  const user = me()!;
  return {
    messageId: ack.messageId,
    roomId: ack.roomId,
    senderId: user.userId,
    senderName: user.username,
    clientMsgId: ack.clientMsgId,
    body,
    replyTo: replyTo
      ? {
          messageId: replyTo.messageId,
          position: replyTo.position,
          senderId: replyTo.senderId,
          senderName: replyTo.senderName,
          excerpt: [...replyTo.body].slice(0, REPLY_EXCERPT_CHARS).join(''),
        }
      : null,
    mentions: [],
    // The page has no markdown renderer (the server makes html): shown as plain text until the copy arrives.
    html: '',
    time: ack.time,
    position: ack.position,
    editedAt: null,
    deleted: null,
    reactions: [],
  };
}
