import { SetFiltersRequest, validateInput, type FilterConfigDto } from '@chat/contracts';
import { filterConfig, words } from '../rules/filter-config.fixture';
import { emptyFilterState, evolveFilters } from './filter-configs';
import { ADMIN, filterConfigSet, filterConfigsByHand } from './testing';
import { storedFilterConfig } from './validate';

/** A configuration as the transport hands it over: validated against the DTO. */
function dto(config: unknown): FilterConfigDto {
  const r = validateInput(SetFiltersRequest, { config });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.data.config;
}
const base = { words: [], allow: [], patterns: [], links: { domains: [] }, spam: {} };

describe('filters - configuration', () => {
  it('stores what was set, absent optional values as null', () => {
    expect(storedFilterConfig(dto({ ...base, words: [{ term: '坏蛋', action: 'block' }] }))).toEqual({
      words: [{ term: '坏蛋', action: 'block' }],
      allow: [],
      patterns: [],
      links: { default: null, domains: [] },
      spam: { repeatedCharsMax: null, capsPercentMax: null, capsMinLetters: null },
    });
  });

  it.each([
    [{ patterns: [{ name: 'p', pattern: '(a+)+$', action: 'block' }] }, 'config.patterns.0.pattern'],
    [{ patterns: [{ name: 'p', pattern: '[oops', action: 'block' }] }, 'config.patterns.0.pattern'],
    [
      {
        patterns: [
          { name: 'p', pattern: 'a', action: 'block' },
          { name: 'p', pattern: 'b', action: 'mask' },
        ],
      },
      'config.patterns.1.name',
    ],
    [{ words: [{ term: '!!!', action: 'block' }] }, 'config.words.0.term'],
    [
      {
        links: {
          domains: [
            { domain: 'a.com', action: 'block' },
            { domain: 'a.com', action: 'allow' },
          ],
        },
      },
      'config.links.domains.1.domain',
    ],
    [{ spam: { repeatedCharsMax: 2 } }, 'config.spam.repeatedCharsMax'],
  ])('refuses %j with BAD_REQUEST naming %s', (parts, field) => {
    let error: unknown;
    try {
      storedFilterConfig(dto({ ...base, ...parts }));
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'BAD_REQUEST', details: [expect.objectContaining({ field })] });
  });

  it('a configuration too big for one stream message is refused (field config)', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({ term: `${'w'.repeat(58)}${String(i).padStart(5, '0')}`, action: 'block' }));
    expect(() => storedFilterConfig(dto({ ...base, words: many }))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    const tenThousand = many.slice(0, 10_000).map((w) => ({ ...w, term: w.term.slice(50) }));
    expect(storedFilterConfig(dto({ ...base, words: tenThousand })).words).toHaveLength(10_000);
  });

  it('repeatedCharsMax 0 is off and accepted', () => {
    expect(storedFilterConfig(dto({ ...base, spam: { repeatedCharsMax: 0 } })).spam.repeatedCharsMax).toBe(0);
  });

  it('the fold: a scope is replaced as a whole; the same events replayed give the same state', () => {
    const events = [
      filterConfigSet(null, filterConfig({ words: words('block', 'a') })),
      filterConfigSet('r1', filterConfig({ allow: ['x'] })),
      filterConfigSet(null, filterConfig({ words: words('mask', 'b') })),
    ];
    const fold = () => events.reduce((s, e, i) => evolveFilters(s, e, i + 1), emptyFilterState());
    const once = fold();
    expect(once.server).toMatchObject({ config: filterConfig({ words: words('mask', 'b') }), position: 3, updatedBy: ADMIN });
    expect(once.rooms.get('r1')).toMatchObject({ config: filterConfig({ allow: ['x'] }), position: 2 });
    expect(fold()).toEqual(once);
  });

  describe('FilterConfigs', () => {
    it('views: never set is the empty configuration at position 0', () => {
      const { configs } = filterConfigsByHand();
      expect(configs.view(null)).toEqual({
        scope: 'server',
        roomId: null,
        config: filterConfig({}),
        updatedAt: null,
        updatedBy: null,
        position: 0,
      });
      expect(configs.view('r1')).toMatchObject({ scope: 'room', roomId: 'r1', position: 0 });
    });

    it('a change applies to the next check: a server change to every room, a room change to that room', () => {
      const { configs, set } = filterConfigsByHand('forbidden');
      expect(configs.chainFor('r1').check('darn forbidden').action).toBe('block');
      expect(configs.chainFor('r1').check('darn').action).toBe('allow');
      set(null, filterConfig({ words: words('block', 'darn') }));
      expect(configs.chainFor('r1').check('darn').action).toBe('block');
      expect(configs.chainFor('r2').check('darn').action).toBe('block');
      set('r1', filterConfig({ words: words('block', 'heck') }));
      expect(configs.chainFor('r1').check('heck').action).toBe('block');
      expect(configs.chainFor('r2').check('heck').action).toBe('allow');
      set(null, filterConfig({}));
      expect(configs.chainFor('r1').check('darn').action).toBe('allow');
      expect(configs.chainFor('r1').check('heck').action).toBe('block');
      // BLOCKED_WORDS from the service's configuration stays whatever the server's configuration says.
      expect(configs.chainFor('r2').check('forbidden').action).toBe('block');
      expect(configs.serverChain().check('heck').action).toBe('allow');
      expect(configs.view(null).position).toBe(3);
    });
  });
});
