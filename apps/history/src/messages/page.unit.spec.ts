import { Limits } from '@chat/contracts';
import type { MessageRecord } from './messages.plan';
import { pageSize, toPage } from './page';

const row = (position: number): MessageRecord => ({
  messageId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
  roomId: 'general',
  position,
  senderId: '11111111-1111-4111-8111-111111111111',
  senderName: 'ann',
  clientMsgId: `c${position}`,
  body: `m${position}`,
  createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, position)),
});

describe('history page - toPage', () => {
  it('uses the default size when no limit is given', () => {
    expect(pageSize()).toBe(Limits.historyPageDefault);
    expect(pageSize(7)).toBe(7);
  });

  it('returns limit rows and the oldest position as cursor when an extra row was fetched', () => {
    const page = toPage('general', [row(9), row(8), row(7), row(6)], 3);
    expect(page.messages.map((m) => m.position)).toEqual([9, 8, 7]);
    expect(page.nextBefore).toBe(7);
  });

  it('has no cursor on the last page', () => {
    expect(toPage('general', [row(2), row(1)], 3).nextBefore).toBeNull();
    expect(toPage('general', [row(3), row(2), row(1)], 3).nextBefore).toBeNull();
    expect(toPage('general', [], 3)).toEqual({ roomId: 'general', messages: [], nextBefore: null });
  });

  it('maps rows to message views with ISO time and numeric position', () => {
    expect(toPage('general', [row(5)], 1).messages[0]).toEqual({
      messageId: '00000000-0000-4000-8000-000000000005',
      roomId: 'general',
      senderId: '11111111-1111-4111-8111-111111111111',
      senderName: 'ann',
      clientMsgId: 'c5',
      body: 'm5',
      time: '2030-01-01T00:00:05.000Z',
      position: 5,
    });
  });
});
