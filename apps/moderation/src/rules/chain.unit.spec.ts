import { chainOf, filterConfig, words } from './filter-config.fixture';

describe('filters - the chain', () => {
  const server = filterConfig({
    words: [...words('mask', 'darn', '该死'), ...words('block', 'scam')],
    patterns: [{ name: 'crypto', pattern: 'crypto', action: 'hold' }],
    links: {
      domains: [
        { domain: 'bad.example', action: 'block' },
        { domain: 'review.example', action: 'hold' },
      ],
    },
    spam: { repeatedCharsMax: 6, capsPercentMax: 80, capsMinLetters: 8 },
  });
  const chain = chainOf(server);

  it('runs words, patterns, links, repeated characters, capitals in that order', async () => {
    expect(chain.rules.map((r) => r.name)).toEqual(['words', 'patterns', 'links', 'repeated-chars', 'caps']);
  });

  it('masks then goes on: later rules see the masked text and the result is the masked text', async () => {
    expect(await chain.run('darn it, 该死的')).toEqual({ action: 'allow', body: '*** it, ***的' });
    // The mask removes the stretched letters before the repeated-characters rule sees them.
    expect(await chainOf(filterConfig({ words: words('mask', 'darn'), spam: { repeatedCharsMax: 3 } })).run('daaaaarn')).toEqual({
      action: 'allow',
      body: '***',
    });
  });

  it('a hold carries the body as it would be posted', async () => {
    expect(await chain.run('darn, crypto!')).toEqual({
      action: 'hold',
      rule: 'pattern:crypto',
      reason: 'the message matches the pattern "crypto"',
      body: '***, crypto!',
    });
    expect(await chain.run('see review.example')).toMatchObject({ action: 'hold', rule: 'links' });
  });

  it('a block after a hold wins (no review of a message that is refused anyway)', async () => {
    expect(await chain.run('crypto at bad.example')).toMatchObject({ action: 'block', rule: 'links' });
    expect(await chain.run('crypto, nooooooooo')).toMatchObject({ action: 'block', rule: 'repeated-chars' });
  });

  it('the first block is the answer', async () => {
    expect(await chain.run('SCAM AT BAD.EXAMPLE')).toMatchObject({ action: 'block', rule: 'words' });
  });

  it('an empty configuration allows anything, NFC-normalised', async () => {
    expect(await chainOf(filterConfig({})).run('Cafe\u0301 FREE MONEY!!!!!!!!!! https://x.example')).toEqual({
      action: 'allow',
      body: 'Café FREE MONEY!!!!!!!!!! https://x.example',
    });
  });
});
