/// <reference types="jest" />
import { typingText } from './typing-text';

describe('web typing indicator - wording', () => {
  it('names one or two typists, and says "several" for more', () => {
    expect(typingText([])).toBe('');
    expect(typingText(['alice'])).toBe('alice is typing…');
    expect(typingText(['alice', '小明'])).toBe('alice and 小明 are typing…');
    expect(typingText(['alice', 'bob', 'carol'])).toBe('several people are typing…');
  });
});
