import { ChatError, Limits } from '@chat/contracts';
import { roomText } from './room-text';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof ChatError ? { code: err.code, details: err.details } : err;
  }
  return null;
};

describe('roomText - names and topics checked after NFKC', () => {
  it('normalises compatibility characters (full-width Latin) and keeps Chinese as it is', () => {
    expect(roomText('name', 'Ｔｅａｍ 团队')).toBe('Team 团队');
    expect(roomText('topic', '')).toBe('');
  });

  it('counts characters as the request validation does: code points (80 emoji make a valid name)', () => {
    expect(roomText('name', '😀'.repeat(Limits.roomNameMaxChars))).toHaveLength(2 * Limits.roomNameMaxChars);
  });

  it('refuses a name that NFKC lengthens past the limit, or turns into a leading space', () => {
    expect(refusal(() => roomText('name', '\uFDFA'.repeat(Limits.roomNameMaxChars)))).toMatchObject({
      code: 'BAD_REQUEST',
      details: [{ field: 'name' }],
    });
    expect(refusal(() => roomText('name', '\u00A8x'))).toMatchObject({ code: 'BAD_REQUEST', details: [{ field: 'name' }] });
    expect(refusal(() => roomText('topic', '\uFDFA'.repeat(Limits.topicMaxChars)))).toMatchObject({
      code: 'BAD_REQUEST',
      details: [{ field: 'topic' }],
    });
  });
});
