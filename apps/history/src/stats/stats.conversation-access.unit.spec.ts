import { statsRefusal } from './stats.plan';

// docs/protocol.md (room.stats) says a conversation's statistics are for its
// participants; server administrators are listed for rooms and for "all rooms" only.
describe('stats - who may read a conversation', () => {
  const dm = { kind: 'direct' as const, visibility: 'private' as const, deleted: false };

  it("a server administrator who is not a participant does not get a conversation's statistics", () => {
    expect(statsRefusal('dm-x', dm, null, true)?.code).toBe('NOT_FOUND');
  });
});
