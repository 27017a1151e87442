import { checks, createDecoder, type EventDecoder, type EventSpecs, type Upcasters } from '../events/decoder';
import type { AccountEvent } from './events';

/** Events of `ns.account.<userId>`, current version of each. */
export const accountEventSpecs: EventSpecs<AccountEvent> = {
  UserRegistered: { version: 1, payload: { userId: checks.uuid, username: checks.nonEmpty } },
  UserPasswordChanged: { version: 1, payload: { userId: checks.uuid, keptSessionId: checks.nullable(checks.nonEmpty) } },
  UserDisabled: { version: 1, payload: { userId: checks.uuid, byUserId: checks.uuid, reason: checks.string } },
  UserEnabled: { version: 1, payload: { userId: checks.uuid, byUserId: checks.uuid } },
  UserDeleted: { version: 1, payload: { userId: checks.uuid, username: checks.nonEmpty } },
};

export const accountEventUpcasters: Upcasters<AccountEvent> = {};

export const accountDecoder: EventDecoder<AccountEvent> = createDecoder(accountEventSpecs, accountEventUpcasters);
export const decodeAccountEvent = accountDecoder.decode;
export const accountEventTypes = accountDecoder.types;
