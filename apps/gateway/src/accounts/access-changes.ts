import { WsCloseCodes, type ModerationEvent } from '@chat/contracts';

/** A standing server ban as the gateways know it (from UserServerBanned until UserServerUnbanned). */
export interface ServerBan {
  username: string;
  reason: string;
  /** An automatic ban waiting for a moderator's review. */
  review: boolean;
}

/** What one event of the moderation stream's access subjects (`ns.mod.access.<userId>`) changes at a gateway. */
export type AccessChange =
  | { kind: 'banned'; userId: string; ban: ServerBan }
  | { kind: 'unbanned'; userId: string }
  | { kind: 'kicked'; userId: string; reason: string };

/** The access change an event makes; null for any other moderation event (not on these subjects). */
export function accessChangeOf(event: ModerationEvent): AccessChange | null {
  switch (event.type) {
    case 'UserServerBanned': {
      const { userId, username, reason, review } = event.payload;
      return { kind: 'banned', userId, ban: { username, reason, review } };
    }
    case 'UserServerUnbanned':
      return { kind: 'unbanned', userId: event.payload.userId };
    case 'UserServerKicked':
      return { kind: 'kicked', userId: event.payload.userId, reason: event.payload.reason };
    default:
      return null;
  }
}

/** Folds a change into the banned set (a kick leaves it as it is: the kicked may come back). */
export function applyAccessChange(bans: Map<string, ServerBan>, change: AccessChange): void {
  if (change.kind === 'banned') bans.set(change.userId, change.ban);
  else if (change.kind === 'unbanned') bans.delete(change.userId);
}

/** A WebSocket close reason is at most 123 bytes of UTF-8 (the socket refuses longer ones). */
const CLOSE_REASON_MAX_BYTES = 123;

/** `prefix: reason`, cut at a character boundary to fit a close frame. */
export function closeReason(prefix: string, reason: string): string {
  const full = reason.trim() ? `${prefix}: ${reason.trim()}` : prefix;
  if (Buffer.byteLength(full, 'utf8') <= CLOSE_REASON_MAX_BYTES) return full;
  let out = '';
  for (const ch of full) {
    if (Buffer.byteLength(out + ch + '…', 'utf8') > CLOSE_REASON_MAX_BYTES) break;
    out += ch;
  }
  return `${out}…`;
}

/** How the change ends the user's connections: 4412 for a ban, 4413 for a kick; null for an unban. */
export function closeOf(change: AccessChange): { code: number; reason: string } | null {
  switch (change.kind) {
    case 'banned':
      return { code: WsCloseCodes.serverBanned, reason: closeReason('banned from this server', change.ban.reason) };
    case 'kicked':
      return { code: WsCloseCodes.serverKicked, reason: closeReason('disconnected by a moderator', change.reason) };
    case 'unbanned':
      return null;
  }
}
