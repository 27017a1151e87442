import { escalate, recordStrike, strikesWithin, validateStrikePolicy, type StrikeLog, type StrikePolicy } from './strikes';

const policy: StrikePolicy = { windowMs: 24 * 3_600_000, warnAt: 3, muteAt: 5, banAt: 8, muteSeconds: 3600 };
const clean = { banned: false, serverMuted: false };

describe('strikes - counting and escalation', () => {
  it('counts strikes within the window only', () => {
    const log: StrikeLog = new Map();
    const h = 3_600_000;
    for (const t of [0, 1 * h, 20 * h, 30 * h]) recordStrike(log, 'u', t);
    expect(strikesWithin(log, 'u', 30 * h, policy.windowMs)).toBe(2);
    expect(strikesWithin(log, 'u', 100 * h, policy.windowMs)).toBe(0);
    expect(strikesWithin(log, 'other', 0, policy.windowMs)).toBe(0);
  });

  it('escalates by the thresholds: nothing, warn, mute, ban', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => escalate(n, policy, clean))).toEqual([
      null,
      null,
      'warn',
      'warn',
      'mute',
      'mute',
      'mute',
      'ban',
      'ban',
    ]);
  });

  it('does not mute a user already muted server-wide, nor ban a banned one', () => {
    expect(escalate(5, policy, { banned: false, serverMuted: true })).toBeNull();
    expect(escalate(8, policy, { banned: true, serverMuted: false })).toBeNull();
    expect(escalate(8, policy, { banned: false, serverMuted: true })).toBe('ban');
  });

  it('refuses thresholds that do not rise', () => {
    expect(() => validateStrikePolicy({ ...policy, muteAt: 3 })).toThrow(/must rise/);
    expect(() => validateStrikePolicy({ ...policy, banAt: 5 })).toThrow(/must rise/);
    expect(validateStrikePolicy(policy)).toBe(policy);
  });
});
