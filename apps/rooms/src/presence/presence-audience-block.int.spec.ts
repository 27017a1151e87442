import { directRoomId, type UserView } from '@chat/contracts';
import { register as registerUser, roomsForSuite } from '../testing/rooms-fixture';

/**
 * Presence reaches only those who can see it (issue 8: co-members of rooms, private-conversation
 * contacts). Blocking someone records the block in the pair's conversation, opening it when the
 * two never talked; that must not make the blocker's status visible to the blocked user (it
 * would be the block itself that starts showing them the blocker's presence and custom text).
 */
describe('rooms service - rooms.presenceAudience and a conversation opened only by a block', () => {
  const rooms = roomsForSuite('forbidden');
  const rpc = () => rooms().deps.rpc;
  const actor = (u: UserView) => ({ actorId: u.userId, actorName: u.username });

  it("a block does not make the blocker's presence reach the blocked user (no shared room, never talked)", async () => {
    const [ann, eve] = await Promise.all(['pb-ann', 'pb-eve'].map((n) => registerUser(rooms(), n)));
    await rpc().callOrThrow('rooms.block', { ...actor(ann), userId: eve.userId });
    const dm = directRoomId(ann.userId, eve.userId);

    // Ann's status changes are pushed to these rooms: not to the conversation her block opened.
    const annAudience = await rpc().callOrThrow('rooms.presenceAudience', { userId: ann.userId, maxMembers: 1000 });
    // Eve's presence.contacts lists these users: not Ann.
    const eveAudience = await rpc().callOrThrow('rooms.presenceAudience', { userId: eve.userId, maxMembers: 1000, contactsLimit: 1000 });
    expect({ annPushesTo: annAudience.roomIds.includes(dm), eveSeesAnn: eveAudience.contactIds?.includes(ann.userId) }).toEqual({
      annPushesTo: false,
      eveSeesAnn: false,
    });
  });
});
