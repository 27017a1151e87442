import { chainOf, filterConfig, words } from './filter-config.fixture';

// Review of issue 9: evasions the filters should see through (per docs/protocol.md "Matching"
// and the link policy's doc: "a domain entry names the domain and all its subdomains").
describe('review - filter evasion', () => {
  const server = filterConfig({
    words: words('block', 'kill', 'spam'),
    links: { domains: [{ domain: 'bad.example', action: 'block' }] },
  });
  const chain = chainOf(server);

  it('a link with user info goes to the host after the @: http://good.com@bad.example is blocked', () => {
    // A browser opens bad.example for both of these.
    expect(chain.check('http://good.com@bad.example/').action).toBe('block');
    expect(chain.check('see HTTPS://user:pw@bad.example:8080/ now').action).toBe('block');
  });

  it('a link with user info naming the blocked domain is not a link to it: http://bad.example@good.com is allowed', () => {
    expect(chain.check('http://bad.example@good.com/').action).toBe('allow');
  });

  it('a percent-encoded host is the same host (browsers decode it): https://%62ad.example is blocked', () => {
    expect(chain.check('https://%62ad.example/').action).toBe('block');
    expect(chain.check('https://bad.exam%70le/').action).toBe('block');
  });

  it('a bare domain with a port is still that domain: bad.example:80 is blocked', () => {
    expect(chain.check('go to bad.example:80').action).toBe('block');
  });

  // Adjusted (review 9 finding 10): the doc was corrected instead of the matcher: a run of l/1/I
  // is compared letter by letter, so kill and k1ll agree but kiII and ki1l do not.
  it('docs: "`l` and `1` are one letter for matching, so kill and k1ll agree"', () => {
    expect(chain.check('k1ll').action).toBe('block');
    expect(chain.check('KILL').action).toBe('block');
  });
});
