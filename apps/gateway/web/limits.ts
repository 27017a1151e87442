import type { Limits, WsCloseCodes, WsLimits } from '@chat/contracts';

// The contracts' limits and close codes the page uses. The page bundle leaves the contracts'
// runtime out (scripts/build-web.mjs), so they are written again here; `satisfies` against the
// contracts' literal types makes a change there a type error here.

export const LIMITS = {
  statusTextMaxChars: 100,
  presencePageMax: 200,
  presenceListPageMax: 1000,
  passwordMinChars: 8,
  passwordMaxChars: 256,
} as const satisfies Pick<
  typeof Limits,
  'statusTextMaxChars' | 'presencePageMax' | 'presenceListPageMax' | 'passwordMinChars' | 'passwordMaxChars'
>;

export const WS_LIMITS = {
  typingMinIntervalMs: 2000,
  typingExpiresMs: 6000,
} as const satisfies Pick<typeof WsLimits, 'typingMinIntervalMs' | 'typingExpiresMs'>;

export const CLOSE_CODES = {
  sessionRevoked: 4410,
  accountDisabled: 4411,
  serverBanned: 4412,
  serverKicked: 4413,
} as const satisfies Pick<typeof WsCloseCodes, 'sessionRevoked' | 'accountDisabled' | 'serverBanned' | 'serverKicked'>;
