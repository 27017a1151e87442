import { length } from 'class-validator';
import { Limits, displayUsername, fail, ok, usernameKey, type AccountRecord, type Result, type UserView } from '@chat/contracts';
import { decodeJson } from '@chat/messaging';

/**
 * Pure account rules: how a typed username becomes a display name and a uniqueness key, and
 * what an account record looks like. The service around it does the I/O (KV, hashing, events).
 */

export interface NormalisedUsername {
  /** NFKC-normalised and trimmed, as shown to other users. */
  display: string;
  /** KV key of the NFKC + case-folded name: equal keys = the same name. */
  key: string;
}

/**
 * Checks a username that already passed RegisterRequest validation once more after NFKC, since
 * normalisation can change its length (ligatures and some CJK compatibility characters expand)
 * or turn a compatibility space into a plain one.
 */
export function normaliseUsername(input: string): Result<NormalisedUsername> {
  const display = displayUsername(input);
  const problems: string[] = [];
  if (!length(display, 1, Limits.usernameMaxChars))
    problems.push(`username must be 1-${Limits.usernameMaxChars} characters after Unicode NFKC normalisation`);
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(display)) problems.push('username must not contain control or format characters');
  if (problems.length) return fail('BAD_REQUEST', problems.join('; '), [{ field: 'username', problems }]);
  return ok({ display, key: usernameKey(input) });
}

export function newAccountRecord(
  username: NormalisedUsername,
  passwordHash: string,
  ctx: { now: () => Date; newId: () => string },
): AccountRecord {
  return { userId: ctx.newId(), username: username.display, passwordHash, createdAt: ctx.now().toISOString() };
}

/** Reads an account record back from KV bytes; null for anything that is not one (never throws). */
export function parseAccountRecord(bytes: Uint8Array): AccountRecord | null {
  const v = decodeJson(bytes);
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (
    typeof r.userId !== 'string' ||
    typeof r.username !== 'string' ||
    typeof r.passwordHash !== 'string' ||
    typeof r.createdAt !== 'string'
  )
    return null;
  if ((r.disabled !== undefined && typeof r.disabled !== 'boolean') || (r.deleted !== undefined && typeof r.deleted !== 'boolean'))
    return null;
  const record: AccountRecord = { userId: r.userId, username: r.username, passwordHash: r.passwordHash, createdAt: r.createdAt };
  if (r.disabled) record.disabled = true;
  if (r.deleted) record.deleted = true;
  return record;
}

export const userView = (r: Pick<AccountRecord, 'userId' | 'username'>): UserView => ({ userId: r.userId, username: r.username });
