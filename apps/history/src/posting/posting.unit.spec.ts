import { postRefusal, type PostRights } from './posting';

describe('posting rule - postRefusal (the stream decides)', () => {
  const rights = (over: Partial<PostRights> = {}): PostRights => ({
    roomCreated: true,
    roomDeleted: false,
    postPolicy: 'members',
    member: true,
    role: 'member',
    blocked: false,
    expired: false,
    ...over,
  });

  it('a member of an existing room posts', () => {
    expect(postRefusal(rights())).toBeNull();
  });

  it('refuses a post by a non-member (never joined, left, kicked or banned before it)', () => {
    expect(postRefusal(rights({ member: false, role: null }))).toBe('not_member');
  });

  it('in an admins room only the owner and admins post', () => {
    expect(postRefusal(rights({ postPolicy: 'admins' }))).toBe('admins_only');
    expect(postRefusal(rights({ postPolicy: 'admins', role: 'admin' }))).toBeNull();
    expect(postRefusal(rights({ postPolicy: 'admins', role: 'owner' }))).toBeNull();
  });

  it('refuses a private message while either side blocks the other', () => {
    expect(postRefusal(rights({ blocked: true }))).toBe('blocked');
  });

  it('refuses a post before its room exists, and drops every post of a deleted room, members or not', () => {
    expect(postRefusal(rights({ roomCreated: false }))).toBe('no_room');
    expect(postRefusal(rights({ roomDeleted: true }))).toBe('room_deleted');
    expect(postRefusal(rights({ roomDeleted: true, member: false }))).toBe('room_deleted');
  });

  it('refuses a post already past its retention period when applied (a redelivery or a rebuild after the cleanup)', () => {
    expect(postRefusal(rights({ expired: true }))).toBe('expired');
    expect(postRefusal(rights({ expired: true, member: false }))).toBe('not_member');
  });
});
