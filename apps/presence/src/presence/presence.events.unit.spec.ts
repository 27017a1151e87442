import { decodePresenceEvent } from '@chat/contracts';
import { presenceChangedEvent, presenceMsgId } from './presence.events';
import type { PresenceChange } from './presence.state';

const change: PresenceChange = {
  userId: '00000000-0000-4000-8000-00000000000a',
  username: 'alice',
  status: 'busy',
  previous: 'online',
  at: '2024-05-01T10:00:00.000Z',
  causeId: 'g1:c1:status:2024-05-01T09:59:59.000Z',
};

describe('presence events - PresenceChanged', () => {
  it('builds the event from a change, stamped by the presence service', () => {
    expect(presenceChangedEvent(change, () => 'id-1')).toEqual({
      id: 'id-1',
      type: 'PresenceChanged',
      version: 1,
      time: change.at,
      actor: { kind: 'service', id: 'presence' },
      correlationId: change.causeId,
      causationId: change.causeId,
      payload: { userId: change.userId, username: 'alice', status: 'busy', lastSeen: change.at },
    });
  });

  it('what presence stores is what the presence stream decoder reads back', () => {
    const event = presenceChangedEvent(change, () => 'id-1');
    expect(decodePresenceEvent(new TextEncoder().encode(JSON.stringify(event)))).toEqual({ ok: true, event });
  });

  it('the msgId depends on user, status and cause only', () => {
    expect(presenceMsgId(change)).toBe(`${change.userId}:busy:${change.causeId}`);
    expect(presenceMsgId({ ...change, at: '2030-01-01T00:00:00.000Z', previous: 'away' })).toBe(presenceMsgId(change));
    expect(presenceMsgId({ ...change, status: 'away' })).not.toBe(presenceMsgId(change));
  });
});
