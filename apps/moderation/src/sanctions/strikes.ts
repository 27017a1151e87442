import { ChatError } from '@chat/contracts';

/** The escalation thresholds (ModerationConfig MOD_STRIKES_*), in strikes within the window. */
export interface StrikePolicy {
  windowMs: number;
  warnAt: number;
  muteAt: number;
  banAt: number;
  muteSeconds: number;
}

/** Refuses thresholds out of order (warn < mute < ban), so a bad configuration stops start-up. */
export function validateStrikePolicy(p: StrikePolicy): StrikePolicy {
  if (!(p.warnAt < p.muteAt && p.muteAt < p.banAt))
    throw new ChatError('BAD_REQUEST', `strike thresholds must rise: warn ${p.warnAt} < mute ${p.muteAt} < ban ${p.banAt}`);
  return p;
}

/** Strike times (ms) by user, oldest first; older than the window they no longer count. */
export type StrikeLog = Map<string, number[]>;

export function recordStrike(log: StrikeLog, userId: string, at: number): void {
  const times = log.get(userId) ?? [];
  times.push(at);
  log.set(userId, times);
}

/** Strikes of the user within the window ending at `now`; drops older ones from the log as it goes. */
export function strikesWithin(log: StrikeLog, userId: string, now: number, windowMs: number): number {
  const times = log.get(userId);
  if (!times) return 0;
  const from = now - windowMs;
  let i = 0;
  while (i < times.length && times[i] <= from) i++;
  if (i > 0) times.splice(0, i);
  if (times.length === 0) log.delete(userId);
  return times.length;
}

export type Escalation = 'warn' | 'mute' | 'ban' | null;

/**
 * What a strike that brings the user to `count` strikes in the window triggers: from `banAt`
 * a server ban for review (unless already banned), from `muteAt` a timed server mute (unless
 * one is in force), from `warnAt` a warning (each strike on the way to the mute threshold warns
 * again). A user already banned or muted gets nothing more at that level.
 */
export function escalate(count: number, p: StrikePolicy, user: { banned: boolean; serverMuted: boolean }): Escalation {
  if (count >= p.banAt) return user.banned ? null : 'ban';
  if (count >= p.muteAt) return user.serverMuted ? null : 'mute';
  if (count >= p.warnAt) return 'warn';
  return null;
}
