import { createHash } from 'node:crypto';

/**
 * Usernames are compared after Unicode NFKC normalisation and full case folding, so "Ａlice",
 * "alice" and "ALICE" are one name. Chinese, Japanese and other scripts pass through NFKC
 * unchanged (full-width Latin letters and digits become ASCII).
 */
export function displayUsername(input: string): string {
  return input.normalize('NFKC').trim();
}

export function canonicalUsername(input: string): string {
  // toLowerCase after toUpperCase approximates full case folding (e.g. German sharp s -> ss).
  return displayUsername(input).toUpperCase().toLowerCase().normalize('NFKC');
}

/** KV keys allow only [-/_=.a-zA-Z0-9]; the canonical name is hashed into one. */
export function usernameKey(input: string): string {
  return 'u_' + createHash('sha256').update(canonicalUsername(input), 'utf8').digest('hex');
}
