import type { Event } from '../envelope';

export type UserRegistered = Event<'UserRegistered', { userId: string; username: string }>;
export type AccountEvent = UserRegistered;

/** The account record kept in the accounts KV bucket, keyed by the normalised username. */
export interface AccountRecord {
  userId: string;
  /** As the user typed it (NFKC-normalised), for display. */
  username: string;
  /** argon2id PHC string. */
  passwordHash: string;
  createdAt: string;
}

/** Claims inside the signed access token. */
export interface AccessTokenClaims {
  sub: string;
  name: string;
}
