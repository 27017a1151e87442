import type { DomainEntry, LinkAction } from '@chat/contracts';
import { chainOf, filterConfig } from './filter-config.fixture';
import { compileLinkPolicy, LinkFinder, linkAction, linkDecision, LinksRule } from './links';

const policy = (domains: Array<[string, LinkAction]>, def: LinkAction | null = null) => ({
  default: def,
  domains: domains.map(([domain, action]): DomainEntry => ({ domain, action })),
});
const hosts = (text: string, tlds: string[] = []) => new LinkFinder(tlds).find(text).map((l) => l.host);

describe('filters - links', () => {
  describe('finding links', () => {
    it.each([
      ['see https://Sub.Example.com/path?q=1', ['sub.example.com']],
      ['see example.com, ok?', ['example.com']],
      ['www.example.org/x and http://1.2.3.4/y', ['www.example.org', '1.2.3.4']],
      ['visit evil.xyz now', ['evil.xyz']],
      ['去evil.com看看', ['evil.com']],
      ['请访问 https://例子.com/路径 谢谢', ['xn--fsqu00a.com']],
      ['ｅｘａｍｐｌｅ．ｃｏｍ', ['example.com']],
      ['example。com', ['example.com']],
      ['exa\u200Bmple.com', ['example.com']],
      ['example . com', ['example.com']],
      ['example[.]com and example(dot)org', ['example.com', 'example.org']],
      ['(http://good.com@bad.example/x), then', ['bad.example']],
      ['HTTPS://user:pw@Bad.Example:8080 and http://bad.example@good.com', ['bad.example', 'good.com']],
      ['https:\\\\bad.example\\x and https:bad.example', ['bad.example', 'bad.example']],
      ['https://%62ad.exam%70le/ or bad%2Eexample.com', ['bad.example', 'bad.example.com']],
      ['go to bad.example.com:80 or www.example.org:8080/x', ['bad.example.com', 'www.example.org']],
      ['去https://evil.com看看', ['evil.com']],
    ])('%s -> %s', (text, expected) => {
      expect(hosts(text)).toEqual(expected);
    });

    it.each([
      ['mail me at ann@example.com'],
      ['node.js v1.2.3, e.g. this'],
      ['End of a sentence.Next one'],
      ['你好。今天天气很好。'],
      ['just text'],
    ])('%s has no link', (text) => {
      expect(hosts(text)).toEqual([]);
    });

    it('a configured domain is found whatever its TLD', () => {
      expect(hosts('go to shop.example.unusualtld today', ['unusualtld'])).toEqual(['shop.example.unusualtld']);
    });
  });

  describe('policy', () => {
    const server = policy(
      [
        ['example.com', 'block'],
        ['ok.example.com', 'allow'],
        ['review.net', 'hold'],
      ],
      'allow',
    );
    it('a domain entry covers its subdomains; the most specific entry wins', () => {
      const p = compileLinkPolicy(server, null);
      expect(linkAction(p, 'example.com')).toBe('block');
      expect(linkAction(p, 'a.b.example.com')).toBe('block');
      expect(linkAction(p, 'ok.example.com')).toBe('allow');
      expect(linkAction(p, 'x.ok.example.com')).toBe('allow');
      expect(linkAction(p, 'notexample.com')).toBe('allow');
      expect(linkAction(p, 'review.net')).toBe('hold');
    });

    it("each scope answers; the more restrictive answer wins (a room adds restrictions, never lifts the server's)", () => {
      const p = compileLinkPolicy(
        server,
        policy(
          [
            ['example.com', 'allow'],
            ['fine.org', 'block'],
          ],
          'hold',
        ),
      );
      expect(linkDecision(p, 'a.example.com')).toEqual({ action: 'block', scope: 'server' }); // the room's allow does not lift it
      expect(linkDecision(p, 'ok.example.com')).toEqual({ action: 'allow', scope: 'server' });
      expect(linkDecision(p, 'review.net')).toEqual({ action: 'hold', scope: 'server' });
      expect(linkDecision(p, 'other.org')).toEqual({ action: 'hold', scope: 'room' }); // the room's default
      expect(linkDecision(p, 'x.fine.org')).toEqual({ action: 'block', scope: 'room' });
      const lenient = compileLinkPolicy(policy([], 'hold'), policy([['shop.example', 'allow']], 'allow'));
      expect(linkAction(lenient, 'shop.example')).toBe('hold'); // the server's default holds
      expect(linkAction(compileLinkPolicy(policy([], null), policy([], null)), 'any.example')).toBe('allow');
    });

    it('a link only the room blocks is refused with scope room; one the server blocks is named first', () => {
      const rule = new LinksRule(compileLinkPolicy(server, policy([['fine.org', 'block']], null)));
      expect(rule.check('fine.org and example.com')).toEqual({ action: 'block', reason: 'links to example.com are not allowed' });
      expect(rule.check('see fine.org')).toEqual({ action: 'block', reason: 'links to fine.org are not allowed', scope: 'room' });
    });

    it('one blocked link refuses; else one held link holds', () => {
      const rule = new LinksRule(compileLinkPolicy(server, null));
      expect(rule.check('see review.net and https://www.example.com/x')).toEqual({
        action: 'block',
        reason: 'links to www.example.com are not allowed',
      });
      expect(rule.check('see review.net')).toEqual({ action: 'hold', reason: 'a link to review.net waits for a moderator' });
      expect(rule.check('see ok.example.com')).toEqual({ action: 'allow', body: 'see ok.example.com' });
    });

    it.each([
      ['ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ', 'full-width'],
      ['看看example.com吧', 'inside Chinese text'],
      ['example . com', 'spaces around the dot'],
      ['example[.]com', 'a bracketed dot'],
      ['exam\u200Dple.com', 'a zero-width joiner'],
      ['EXAMPLE.COM', 'upper case'],
    ])('a blocked domain written %s (%s) is refused', (text) => {
      expect(chainOf(filterConfig({ links: { domains: [{ domain: 'example.com', action: 'block' }] } })).check(text).action).toBe('block');
    });

    it('default block: every link is refused, text without links passes', () => {
      const chain = chainOf(filterConfig({ links: { default: 'block' } }));
      expect(chain.check('https://anything.org')).toMatchObject({ action: 'block', rule: 'links' });
      expect(chain.check('no links here. None at all')).toEqual({ action: 'allow', body: 'no links here. None at all' });
    });
  });
});
