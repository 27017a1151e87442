import { statsRefusal } from '../stats/stats.plan';

// Review of issue 7: docs/protocol.md (room.stats) says a conversation's statistics are for its
// participants; server administrators are listed for rooms and for "all rooms" only.
describe('review of issue 7 - stats authorisation', () => {
  const dm = { kind: 'direct' as const, visibility: 'private' as const, deleted: false };

  it("a server administrator who is not a participant does not get a conversation's statistics", () => {
    expect(statsRefusal('dm-x', dm, null, true)?.code).toBe('NOT_FOUND'); // fails: null (who messages whom, how often, at what hours)
  });
});
