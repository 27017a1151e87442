import type { ServerBanView, UserServerBanned, UserServerUnbanned } from '@chat/contracts';

/** Server bans in force, by user id: UserServerBanned adds (or replaces) one, UserServerUnbanned removes it. */
export type Bans = Map<string, ServerBanView>;

export function evolveBans(bans: Bans, e: UserServerBanned | UserServerUnbanned): void {
  if (e.type === 'UserServerUnbanned') {
    bans.delete(e.payload.userId);
    return;
  }
  const p = e.payload;
  bans.set(p.userId, {
    userId: p.userId,
    username: p.username,
    reason: p.reason,
    review: p.review,
    by: p.byUserId && p.byUsername ? { userId: p.byUserId, username: p.byUsername } : null,
    rule: p.rule,
    time: e.time,
  });
}

/** Newest ban first. */
export const banViews = (bans: Bans): ServerBanView[] => [...bans.values()].sort((a, b) => b.time.localeCompare(a.time));
