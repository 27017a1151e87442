import { decodePresenceEvent } from '@chat/contracts';
import { presenceChangedEvent, presenceMsgId } from './presence.events';
import type { PresenceChange } from './presence.state';

const change: PresenceChange = {
  userId: '00000000-0000-4000-8000-00000000000a',
  username: 'alice',
  status: 'busy',
  text: 'in a meeting',
  previous: 'online',
  at: '2024-05-01T10:00:00.000Z',
  causeId: 'choice:12',
};

describe('presence events - PresenceChanged', () => {
  it('builds the event from a change, stamped by the presence service', () => {
    expect(presenceChangedEvent(change, () => 'id-1')).toEqual({
      id: 'id-1',
      type: 'PresenceChanged',
      version: 2,
      time: change.at,
      actor: { kind: 'service', id: 'presence' },
      correlationId: change.causeId,
      causationId: change.causeId,
      payload: { userId: change.userId, username: 'alice', status: 'busy', text: 'in a meeting', lastSeen: change.at },
    });
  });

  it('what presence stores is what the presence stream decoder reads back', () => {
    const event = presenceChangedEvent(change, () => 'id-1');
    expect(decodePresenceEvent(new TextEncoder().encode(JSON.stringify(event)))).toEqual({ ok: true, event });
  });

  it('the msgId depends on user, status, text and cause only, and holds no line break whatever the text', () => {
    expect(presenceMsgId(change)).toMatch(new RegExp(`^${change.userId}:busy:[A-Za-z0-9_-]{12}:${change.causeId}$`));
    expect(presenceMsgId({ ...change, at: '2030-01-01T00:00:00.000Z', previous: 'away' })).toBe(presenceMsgId(change));
    expect(presenceMsgId({ ...change, status: 'away' })).not.toBe(presenceMsgId(change));
    expect(presenceMsgId({ ...change, text: 'lunch' })).not.toBe(presenceMsgId(change));
    expect(presenceMsgId({ ...change, text: null })).toBe(`${change.userId}:busy:-:${change.causeId}`);
  });
});
