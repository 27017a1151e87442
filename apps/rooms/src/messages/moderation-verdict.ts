import { ChatError, type MemberRole, type ModerationCheckRequest, type ModerationVerdict } from '@chat/contracts';
import type { Room } from '../room/room';

/** The sender's role for moderation's rate limits (owners and admins skip them); `member` when not (yet) known here. */
export const senderRoleIn = (room: Room | null, userId: string): MemberRole => room?.members.get(userId)?.role ?? 'member';

/** The moderation question for one text, as every send path (post, first private message, edit) asks it. */
export function checkRequest(
  room: Room | null,
  req: { roomId: string; userId: string; username: string; body: string; clientMsgId?: string | null; heldReportId?: string | null },
  kind: ModerationCheckRequest['kind'],
): ModerationCheckRequest {
  return {
    roomId: req.roomId,
    senderId: req.userId,
    senderName: req.username,
    senderRole: senderRoleIn(room, req.userId),
    kind,
    clientMsgId: req.clientMsgId ?? null,
    body: req.body,
    heldReportId: req.heldReportId ?? null,
  };
}

/**
 * The body to store when moderation allows the text, else the refusal the client gets: the
 * verdict's code (CONTENT_BLOCKED, MUTED, RATE_LIMITED, SERVER_BANNED) with `retryAfterMs=<n>`
 * at the end of the message when moderation says when to retry, or HELD_FOR_REVIEW with the
 * report's id when the text waits for a moderator.
 */
export function acceptedBody(verdict: ModerationVerdict): string {
  switch (verdict.verdict) {
    case 'allow':
      return verdict.body;
    case 'reject':
      throw new ChatError(
        verdict.code,
        verdict.retryAfterMs === null ? verdict.reason : `${verdict.reason}; retryAfterMs=${verdict.retryAfterMs}`,
      );
    case 'hold':
      throw new ChatError('HELD_FOR_REVIEW', `${verdict.reason}; a moderator will review it (report ${verdict.reportId})`);
  }
}
