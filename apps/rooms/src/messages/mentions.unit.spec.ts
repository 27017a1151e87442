import { Limits, type EventContext } from '@chat/contracts';
import { evolveInPlace, type Room } from '../room/room';
import { decide, type RoomCommand } from '../room/room.decide';
import { findMentions, mentionIndexOf } from './mentions';

const u = (n: number, username: string) => ({ userId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, username });
const alice = u(1, 'alice');
const ann = u(2, 'ann');
const anna = u(3, 'Anna');
const zhang = u(4, '张三');
const zhangFeng = u(5, '张三丰');
const strasse = u(6, 'Straße');
const spaced = u(7, 'Mary Jane');
const dotted = u(8, 'bob.smith');
const members = [alice, ann, anna, zhang, zhangFeng, strasse, spaced, dotted];

const names = (body: string, who = members) => findMentions(body, who).map((m) => m.username);

describe('mentions - which @names in a body name members', () => {
  it('Latin names at the start, in the middle, at the end', () => {
    expect(names('@alice hi')).toEqual(['alice']);
    expect(names('hi @alice how are you')).toEqual(['alice']);
    expect(names('thanks @alice')).toEqual(['alice']);
  });

  it('punctuation after a name ends it', () => {
    for (const body of ['@alice, look', '@alice.', '@alice!', '(@alice)', '@alice:', '"@alice"', '@alice，你好', '@alice…'])
      expect({ body, names: names(body) }).toEqual({ body, names: ['alice'] });
  });

  it('a letter, digit or underscore after the name continues it: a longer name is not a shorter one', () => {
    expect(names('@alice2 @alice_b @alicex')).toEqual([]);
    expect(names('@ann')).toEqual(['ann']);
    expect(names('@anna')).toEqual(['Anna']);
    expect(names('@annabel')).toEqual([]);
    // A combining mark changes the letter: "anné" is not "ann".
    expect(names('@anne\u0301')).toEqual([]);
  });

  it('the longest member name wins (names may hold spaces and dots)', () => {
    expect(names('@Mary Jane said so')).toEqual(['Mary Jane']);
    expect(names('@Mary and @bob.smith.')).toEqual(['bob.smith']);
    expect(names('@bob.smith2')).toEqual([]);
  });

  it('case and width are folded as at login; the member is listed with their own spelling', () => {
    expect(names('@ALICE @Ａｌｉｃｅ')).toEqual(['alice']);
    expect(names('@ANNA')).toEqual(['Anna']);
    expect(names('@STRASSE and @strasse')).toEqual(['Straße']);
    expect(findMentions('@ALICE', members)).toEqual([{ userId: alice.userId, username: 'alice' }]);
  });

  it('Chinese names: no space needed around them; the longest member name wins', () => {
    expect(names('@张三 你好')).toEqual(['张三']);
    expect(names('@张三你好')).toEqual(['张三']);
    expect(names('你好@张三')).toEqual(['张三']);
    expect(names('@张三丰来了')).toEqual(['张三丰']);
    expect(names('@张三丰', [zhang])).toEqual(['张三']);
    expect(names('@alice你好')).toEqual(['alice']);
  });

  it('the full-width ＠ is a mention sign too', () => {
    expect(names('＠张三 好')).toEqual(['张三']);
    expect(names('＠alice')).toEqual(['alice']);
  });

  it('an @ inside an address or a word is not a mention', () => {
    expect(names('write to bob@alice.com')).toEqual([]);
    expect(names('x@ann y2@ann')).toEqual([]);
    expect(names('mail: <bob@alice.com>, or @alice')).toEqual(['alice']);
  });

  it('a space after @ or a name nobody in the room has mentions nobody', () => {
    expect(names('@ alice')).toEqual([]);
    expect(names('@@alice')).toEqual(['alice']);
    expect(names('@nobody @')).toEqual([]);
    expect(names('@alice', [])).toEqual([]);
  });

  it('each user once, in order of first mention', () => {
    expect(names('@ann @alice @ANN @张三 @alice')).toEqual(['ann', 'alice', '张三']);
  });

  it(`at most ${Limits.mentionsPerMessageMax} users`, () => {
    const many = Array.from({ length: Limits.mentionsPerMessageMax + 5 }, (_, i) => u(100 + i, `user${i}`));
    const body = many.map((m) => `@${m.username}`).join(' ');
    const got = findMentions(body, many);
    expect(got).toHaveLength(Limits.mentionsPerMessageMax);
    expect(got.map((m) => m.username)).toEqual(many.slice(0, Limits.mentionsPerMessageMax).map((m) => m.username));
  });

  it('a long body full of @ signs stays quick', () => {
    const body = '@a'.repeat(2000);
    const started = Date.now();
    expect(findMentions(body, members)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe("mentions - the index of a room's names", () => {
  const ctx: EventContext = {
    now: () => new Date('2026-01-01T00:00:00Z'),
    newId: () => 'e',
    actor: { kind: 'system', id: 't' },
    correlationId: 'c',
  };
  let position = 0;
  const apply = (room: Room | null, cmd: RoomCommand) => {
    for (const e of decide(room, cmd, ctx)) room = evolveInPlace(room, e, ++position);
    return room!;
  };
  const create: RoomCommand = {
    type: 'CreateRoom',
    roomId: 'big',
    name: 'Big',
    topic: '',
    visibility: 'public',
    postPolicy: 'members',
    memberLimit: Limits.memberLimitMax,
    slowModeSeconds: 0,
    owner: alice,
  };

  it('kept while the room does not change; rebuilt when it does (a join, in place as the store applies it)', () => {
    let room = apply(null, create);
    const first = mentionIndexOf(room);
    expect(mentionIndexOf(room)).toBe(first);
    expect(findMentions('@ann', first)).toEqual([]);
    room = apply(room, { type: 'JoinRoom', roomId: 'big', user: ann });
    expect(mentionIndexOf(room)).not.toBe(first);
    expect(findMentions('@ann', mentionIndexOf(room))).toEqual([{ userId: ann.userId, username: 'ann' }]);
  });

  it('a room of 100,000 members (the most there can be): names are folded once, later posts are quick', () => {
    let room = apply(null, create);
    for (let i = 0; i < Limits.memberLimitMax - 1; i++)
      room = apply(room, { type: 'JoinRoom', roomId: 'big', user: u(0x100000 + i, `member-${i}`) });
    findMentions('@member-1', mentionIndexOf(room));
    const started = Date.now();
    for (let i = 0; i < 100; i++) expect(findMentions(`hi @MEMBER-${i * 7}!`, mentionIndexOf(room))).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('a body without @ costs nothing, whatever the room', () => {
    expect(findMentions('no signs here', [alice])).toEqual([]);
  });
});
