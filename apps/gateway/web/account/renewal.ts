// When to renew an access token (pure, unit-tested): early enough that a throttled background
// tab or a slow network still makes it, late enough not to renew all the time.

/** Renew at most this long before the access token expires. */
export const RENEW_LEAD_MAX_MS = 60_000;
/** Renew at least this long before expiry (very short tokens, tests). */
export const RENEW_LEAD_MIN_MS = 3_000;

/**
 * How long before `expiresAtMs` to renew a token that was valid for `lifetimeMs`: a quarter of
 * its life, between RENEW_LEAD_MIN_MS and RENEW_LEAD_MAX_MS (15 min tokens: 1 min before).
 */
export function renewLeadMs(lifetimeMs: number): number {
  return Math.min(RENEW_LEAD_MAX_MS, Math.max(RENEW_LEAD_MIN_MS, lifetimeMs / 4));
}

/** Milliseconds from `nowMs` until the token should be renewed (0: now). */
export function renewDelayMs(expiresAtMs: number, lifetimeMs: number, nowMs: number): number {
  return Math.max(0, expiresAtMs - renewLeadMs(lifetimeMs) - nowMs);
}

/** How early a renewal may be asked for and still count as due. */
export const DUE_SLACK_MS = 1000;

/**
 * Whether a token is due for renewal: within a second of its renewal time, so that the
 * connection's own timer, set for the same lead (ChatClient renewBeforeMs), finds it due even
 * when it fires a little early.
 */
export const isDue = (expiresAtMs: number, lifetimeMs: number, nowMs: number) =>
  renewDelayMs(expiresAtMs, lifetimeMs, nowMs) <= DUE_SLACK_MS;

/**
 * Whether a token another tab stored is good enough to use instead of renewing ours: it
 * differs from ours and is not itself due for renewal.
 */
export function usableStored(stored: { accessToken: string; expiresAtMs: number } | null, ours: string, lifetimeMs: number, nowMs: number) {
  return !!stored && stored.accessToken !== ours && !isDue(stored.expiresAtMs, lifetimeMs, nowMs);
}

/** Access-token lifetime, assumed from what is known (the login's answer), never below a second. */
export const lifetimeOf = (issuedAtMs: number, expiresAtMs: number) => Math.max(1000, expiresAtMs - issuedAtMs);

/** The wait before renewing again after a failure that may pass (server unreachable): 5 s, doubling, up to 1 min. */
export const retryDelayMs = (failures: number) => Math.min(60_000, 5000 * 2 ** Math.max(0, failures - 1));
