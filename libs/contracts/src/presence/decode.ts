import { checks, createDecoder, upcaster, type EventDecoder, type EventSpecs, type Upcasters } from '../events/decoder';
import type { PresenceChanged, PresenceEvent, PresenceStatus } from './events';

const v1 = {
  userId: checks.uuid,
  username: checks.nonEmpty,
  status: checks.oneOf<PresenceStatus>({ online: true, away: true, busy: true, offline: true }),
  lastSeen: checks.time,
};
type PresenceChangedV1Payload = Omit<PresenceChanged['payload'], 'text'>;

/** Events of `ns.presence.user.<userId>`, current version of each. */
export const presenceEventSpecs: EventSpecs<PresenceEvent> = {
  PresenceChanged: { version: 2, payload: { ...v1, text: checks.nullable(checks.string) } },
};

/** PresenceChanged v1 (before custom status texts) had none. */
export const presenceEventUpcasters: Upcasters<PresenceEvent> = {
  PresenceChanged: { 1: upcaster<PresenceChangedV1Payload, PresenceChanged['payload']>(v1, (p) => ({ ...p, text: null })) },
};

export const presenceDecoder: EventDecoder<PresenceEvent> = createDecoder(presenceEventSpecs, presenceEventUpcasters);
export const decodePresenceEvent = presenceDecoder.decode;
export const presenceEventTypes = presenceDecoder.types;
