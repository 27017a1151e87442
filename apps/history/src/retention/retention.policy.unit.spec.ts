import { longestPolicyDays, moreToDelete, roomCutoffs, trimBelow } from './retention.policy';

const now = new Date('2026-03-10T12:00:00Z');

describe('retention - policies', () => {
  it("a room's own period wins over the default; rooms that keep everything have no cutoff", () => {
    const rooms = [
      { roomId: 'own', retentionDays: 7 },
      { roomId: 'default', retentionDays: null },
    ];
    expect(roomCutoffs(rooms, 0, now)).toEqual([{ roomId: 'own', cutoff: new Date('2026-03-03T12:00:00Z') }]);
    expect(roomCutoffs(rooms, 30, now)).toEqual([
      { roomId: 'own', cutoff: new Date('2026-03-03T12:00:00Z') },
      { roomId: 'default', cutoff: new Date('2026-02-08T12:00:00Z') },
    ]);
  });

  it('the longest period in force, or none when a room keeps everything', () => {
    expect(
      longestPolicyDays(
        [
          { roomId: 'a', retentionDays: 7 },
          { roomId: 'b', retentionDays: null },
        ],
        0,
      ),
    ).toBeNull();
    expect(
      longestPolicyDays(
        [
          { roomId: 'a', retentionDays: 7 },
          { roomId: 'b', retentionDays: null },
        ],
        30,
      ),
    ).toBe(30);
    expect(
      longestPolicyDays(
        [
          { roomId: 'a', retentionDays: 90 },
          { roomId: 'b', retentionDays: null },
        ],
        30,
      ),
    ).toBe(90);
    expect(longestPolicyDays([{ roomId: 'a', retentionDays: 7 }], 0)).toBe(7);
    expect(longestPolicyDays([], 0)).toBeNull();
    expect(longestPolicyDays([], 5)).toBe(5);
    // A deleted room (only dropped messages left) keeping everything does not stop the trim.
    expect(
      longestPolicyDays(
        [
          { roomId: 'a', retentionDays: 7 },
          { roomId: 'gone', retentionDays: 0, deleted: true },
        ],
        0,
      ),
    ).toBe(7);
  });
});

describe('retention - stream trim and batches', () => {
  it('keeps the oldest message kept, and never trims above what the projection applied', () => {
    expect(trimBelow(100, 500)).toBe(100);
    expect(trimBelow(100, 40)).toBe(41);
    expect(trimBelow(null, 40)).toBe(41);
    expect(trimBelow(1, 40)).toBeNull();
    expect(trimBelow(null, 0)).toBeNull();
  });

  it('deletes again only after a full batch that was all expired', () => {
    expect(moreToDelete(1000, 1000, 1000)).toBe(true);
    expect(moreToDelete(1000, 999, 1000)).toBe(false);
    expect(moreToDelete(12, 12, 1000)).toBe(false);
    expect(moreToDelete(0, 0, 1000)).toBe(false);
  });
});
