import { readRefusal } from './membership.plan';

describe('membership plan - readRefusal', () => {
  it('lets members read, whatever their role', () => {
    for (const role of ['owner', 'admin', 'member'] as const) expect(readRefusal('r', { member: true, role, position: 3 })).toBeNull();
  });

  it('refuses a former member and someone the room never saw with FORBIDDEN, as the gateway does', () => {
    const forbidden = { code: 'FORBIDDEN', message: 'you are not a member of room "r"' };
    expect(readRefusal('r', { member: false, role: null, position: 9 })).toEqual(forbidden);
    expect(readRefusal('r', null)).toEqual(forbidden);
  });
});
