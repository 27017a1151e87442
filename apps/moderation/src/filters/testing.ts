import { makeEvent, type FilterConfig, type FilterConfigSet } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import type { ModerationListener, ModerationLog } from '../log/moderation-log';
import { FilterConfigs } from './filter-configs';

export const ADMIN = { userId: '00000000-0000-4000-8000-0000000000ad', username: 'admin' };

/** For tests: a FilterConfigSet of a scope (`roomId` null: the server). */
export function filterConfigSet(roomId: string | null, config: FilterConfig): FilterConfigSet {
  return makeEvent<FilterConfigSet>(
    { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: ADMIN.userId }, correlationId: 'test' },
    'FilterConfigSet',
    1,
    { scope: roomId === null ? 'server' : 'room', roomId, config, byUserId: ADMIN.userId, byUsername: ADMIN.username },
  );
}

/** For tests: FilterConfigs fed by hand instead of by the stream (`set` plays the event at the next position). */
export function filterConfigsByHand(blockedWords = ''): {
  configs: FilterConfigs;
  set: (roomId: string | null, config: FilterConfig) => void;
} {
  const listeners: ModerationListener[] = [];
  const log = { onEvent: (l: ModerationListener) => listeners.push(l), isCaughtUp: () => false } as unknown as ModerationLog;
  const configs = new FilterConfigs(log, { BLOCKED_WORDS: blockedWords });
  let position = 0;
  const set = (roomId: string | null, config: FilterConfig) => {
    const event = filterConfigSet(roomId, config);
    position++;
    for (const l of listeners) l({ event, position, subject: roomId === null ? 'ns.mod.filters.server' : `ns.mod.filters.room.${roomId}` });
  };
  return { configs, set };
}
