// The pure parts of the suite's XMPP client and target configs (bench/targets/*.mjs): stanza
// builders, the cheap frame parsing, MAM <fin/> reading and the generated server configs.
// The targets are plain ES modules without type declarations: load them through a path in a
// variable so TypeScript types them as any instead of resolving them.
const load = (p: string): Promise<any> => import(p);

describe('bench XMPP client (pure parts)', () => {
  let x: any;
  let ejabberd: any;
  let prosody: any;
  beforeAll(async () => {
    x = await load('../../bench/targets/xmpp-client.mjs');
    ejabberd = await load('../../bench/targets/ejabberd.mjs');
    prosody = await load('../../bench/targets/prosody.mjs');
  });

  it('escapes and unescapes text round trip, numeric references included', () => {
    const s = `a<b>&"c'd`;
    expect(x.xmlEscape(s)).toBe('a&lt;b&gt;&amp;&quot;c&apos;d');
    expect(x.xmlUnescape(x.xmlEscape(s))).toBe(s);
    expect(x.xmlUnescape('&#65;&#x42;')).toBe('AB');
    expect(x.xmlUnescape('plain')).toBe('plain');
  });

  it('reads attributes in either quote style from the opening tag only', () => {
    const frame = `<message from='r@c.h/nick' type="groupchat" id='m&amp;1'><body id='inner'>hi</body></message>`;
    const tag = x.openingTag(frame);
    expect(tag).toBe(`<message from='r@c.h/nick' type="groupchat" id='m&amp;1'>`);
    expect(x.attr(tag, 'from')).toBe('r@c.h/nick');
    expect(x.attr(tag, 'type')).toBe('groupchat');
    expect(x.attr(tag, 'id')).toBe('m&1');
    expect(x.attr(tag, 'to')).toBeNull();
    expect(x.splitJid('r@c.h/ni/ck')).toEqual(['r@c.h', 'ni/ck']);
  });

  it('finds the body of a live message and of a MAM result', () => {
    expect(x.bodyOf(`<message><stanza-id id='1'/><body>t:a:1:2 &lt;x&gt;</body></message>`)).toBe('t:a:1:2 <x>');
    const mam =
      `<message to='u@h/r'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='170'><forwarded xmlns='urn:xmpp:forward:0'>` +
      `<delay xmlns='urn:xmpp:delay' stamp='2026-12-02T00:00:00Z'/><message type='groupchat'><body>old</body></message></forwarded></result></message>`;
    expect(x.bodyOf(mam)).toBe('old');
    expect(x.bodyOf(`<message><subject>s</subject></message>`)).toBeNull();
  });

  it('classifies frames by their first element', () => {
    expect(x.classify(`<message from='a'/>`)).toBe('message');
    expect(x.classify(`<presence/>`)).toBe('presence');
    expect(x.classify(`<iq type='result'/>`)).toBe('iq');
    expect(x.classify(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`)).toBe('open');
    expect(x.classify(`<stream:features><bind/></stream:features>`)).toBe('features');
    expect(x.classify(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`)).toBe('success');
    expect(x.classify(`<failure/>`)).toBe('failure');
    expect(x.classify(`<stream:error><conflict/></stream:error>`)).toBe('error');
    expect(x.classify(`<close/>`)).toBe('close');
  });

  it('builds stanzas qualified with jabber:client (RFC 7395) and escapes what it embeds', () => {
    expect(x.groupchat('r@c.h', 'i1', '<b>')).toBe(
      `<message xmlns='jabber:client' to='r@c.h' type='groupchat' id='i1'><body>&lt;b&gt;</body></message>`,
    );
    expect(x.mucJoin('r@c.h', 'n')).toContain(`<history maxstanzas='0'/>`);
    expect(x.bindIq('b', 'res')).toContain(`<iq xmlns='jabber:client'`);
    const plain = /<auth [^>]*>([^<]*)</.exec(x.saslPlain('u', 'p'))![1];
    expect(Buffer.from(plain, 'base64').toString()).toBe('\0u\0p');
  });

  it('pages MAM: newest (empty <before/>), before a cursor, oldest (no cursor)', () => {
    expect(x.mamQuery('r@c.h', 'i', 'q', { before: null, limit: 50 })).toContain('<max>50</max><before/></set>');
    expect(x.mamQuery('r@c.h', 'i', 'q', { before: '17', limit: 5 })).toContain('<max>5</max><before>17</before></set>');
    expect(x.mamQuery('r@c.h', 'i', 'q', { before: undefined, limit: 5 })).toContain('<max>5</max></set>');
    expect(
      x.parseFin(
        `<iq type='result'><fin xmlns='urn:xmpp:mam:2' complete='true'><set><first index='0'>1</first><last>9</last></set></fin></iq>`,
      ),
    ).toEqual({
      complete: true,
      first: '1',
      last: '9',
    });
    expect(x.parseFin(`<iq><fin xmlns='urn:xmpp:mam:2'><set><first>5</first><last>6</last></set></fin></iq>`).complete).toBe(false);
  });

  it('writes an ejabberd config without throttles, Mnesia or SQL', () => {
    const m = ejabberd.ejabberdConfig({ wsPort: 1234 });
    expect(m).toContain('port: 1234');
    expect(m).toContain('c2s_shaper: none');
    expect(m).toContain('max_fsm_queue: 1000000');
    expect(m).toContain('backlog: 4096');
    expect(m).toContain('default: always');
    expect(m).toContain('history_size: 0');
    expect(m).toMatch(/max_users: 1000000/);
    expect(m).toContain('db_type: mnesia');
    expect(m).not.toContain('sql_type');
    const s = ejabberd.ejabberdConfig({ wsPort: 1, sql: { host: 'h', port: 5, database: 'd', user: 'u' } });
    expect(s).toContain('sql_type: pgsql');
    expect(s).toContain('sql_database: "d"');
    expect(s).toContain('auth_method: sql');
    expect(s).toContain('db_type: sql');
  });

  it('writes a prosody config with only the HTTP (WebSocket) listener and MUC MAM', () => {
    const c = prosody.prosodyConfig({ httpPort: 99, dataDir: '/d', pidFile: '/p', logFile: '/l' });
    expect(c).toContain('http_ports = { 99 }');
    expect(c).toContain('c2s_ports = {}');
    expect(c).toContain('s2s_ports = {}');
    expect(c).toContain('"muc_mam"');
    expect(c).toContain('muc_room_locking = false');
    expect(prosody.encodeNode('bench.local')).toBe('bench%2elocal');
  });
});
