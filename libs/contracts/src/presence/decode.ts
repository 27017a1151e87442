import { checks, createDecoder, type EventDecoder, type EventSpecs, type Upcasters } from '../events/decoder';
import type { PresenceEvent, PresenceStatus } from './events';

/** Events of `ns.presence.user.<userId>`, current version of each. */
export const presenceEventSpecs: EventSpecs<PresenceEvent> = {
  PresenceChanged: {
    version: 1,
    payload: {
      userId: checks.uuid,
      username: checks.nonEmpty,
      status: checks.oneOf<PresenceStatus>({ online: true, away: true, busy: true, offline: true }),
      lastSeen: checks.time,
    },
  },
};

export const presenceEventUpcasters: Upcasters<PresenceEvent> = {};

export const presenceDecoder: EventDecoder<PresenceEvent> = createDecoder(presenceEventSpecs, presenceEventUpcasters);
export const decodePresenceEvent = presenceDecoder.decode;
export const presenceEventTypes = presenceDecoder.types;
