import { chainOf, filterConfig, words } from './filter-config.fixture';

// Review of issue 9: a room's configuration is set by the room's owner and admins (any user who
// creates a room), yet it can switch off what the server's moderators (and the operator's
// BLOCKED_WORDS) refuse everywhere. FilterConfig says a room's config "adds to" the server's.
describe("review - a room's filters cannot undo the server's", () => {
  const server = filterConfig({
    words: words('block', 'scam'),
    links: { domains: [{ domain: 'malware.example', action: 'block' }] },
    spam: { repeatedCharsMax: 5 },
  });

  it("a room's allow-list entry does not lift a server block word", () => {
    const room = filterConfig({ allow: ['scam'] });
    expect(chainOf(server, room).check('total scam').action).toBe('block');
  });

  it("a room's allow-list entry does not lift the operator's BLOCKED_WORDS", () => {
    const room = filterConfig({ allow: ['forbidden'] });
    expect(chainOf(filterConfig({}), room, ['forbidden']).check('forbidden').action).toBe('block');
  });

  it("a room's domain entry `allow` does not lift a server `block` of that domain", () => {
    const room = filterConfig({ links: { domains: [{ domain: 'malware.example', action: 'allow' }] } });
    expect(chainOf(server, room).check('get it at https://malware.example/x').action).toBe('block');
  });
});
