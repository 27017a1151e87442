/// <reference types="jest" />
import { avatarFor } from './avatar';

describe('web members - generated avatar', () => {
  it('takes the first letter of the name, upper-cased, skipping leading punctuation', () => {
    expect(avatarFor('u1', 'ann').initial).toBe('A');
    expect(avatarFor('u1', '  @bob ').initial).toBe('B');
    expect(avatarFor('u1', '_éva').initial).toBe('É');
    expect(avatarFor('u1', '王小明').initial).toBe('王');
  });

  it('keeps a whole emoji or surrogate pair, and falls back to the id, then to ?', () => {
    expect(avatarFor('u1', '👍🏽 fan').initial).toBe('👍🏽');
    expect(avatarFor('u1', '𠮷野家').initial).toBe('𠮷');
    expect(avatarFor('zed-42', '').initial).toBe('Z');
    expect(avatarFor('', ' ').initial).toBe('?');
  });

  it('derives the hue from the id only: stable, in range, and different for different ids', () => {
    const a = avatarFor('0b6c1f3e-1111-4a4a-8a8a-000000000001', 'Ann');
    expect(avatarFor('0b6c1f3e-1111-4a4a-8a8a-000000000001', 'Renamed').hue).toBe(a.hue);
    const hues = new Set(Array.from({ length: 50 }, (_, i) => avatarFor(`user-${i}`, 'x').hue));
    for (const hue of hues) expect(hue >= 0 && hue < 360 && Number.isInteger(hue)).toBe(true);
    expect(hues.size).toBeGreaterThan(30);
  });
});
