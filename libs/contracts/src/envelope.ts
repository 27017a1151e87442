/**
 * The event envelope. Every event appended to JetStream is one of these, serialised as JSON.
 * The stream position (JetStream sequence) is not part of the envelope: the server assigns it
 * on append, and consumers read it from the message metadata (or the republish headers).
 */
export interface Actor {
  kind: 'user' | 'service' | 'system';
  /** A user id for `user`, a service name for `service`/`system`. */
  id: string;
}

export interface EventMeta {
  /** Unique event id (UUID). Also the JetStream `Nats-Msg-Id` unless the command sets its own. */
  id: string;
  /** ISO-8601 time at which the deciding service accepted the command. */
  time: string;
  actor: Actor;
  /** Id that ties together everything caused by one client request. */
  correlationId: string;
  /** Id of the command or event that directly caused this event, if any. */
  causationId: string | null;
}

/**
 * An event is plain data: `type` discriminates the union, `version` selects the payload shape
 * (older versions are kept frozen beside an upcaster when a payload changes).
 */
export interface Event<Type extends string, Payload, Version extends number = 1> extends EventMeta {
  type: Type;
  version: Version;
  payload: Payload;
}

/** What a deciding service needs to stamp metadata on new events; passed in so `decide` stays pure. */
export interface EventContext {
  now: () => Date;
  newId: () => string;
  actor: Actor;
  correlationId: string;
  causationId?: string | null;
}

export function makeEvent<E extends Event<string, unknown, number>>(
  ctx: EventContext,
  type: E['type'],
  version: E['version'],
  payload: E['payload'],
): E {
  return {
    id: ctx.newId(),
    type,
    version,
    time: ctx.now().toISOString(),
    actor: ctx.actor,
    correlationId: ctx.correlationId,
    causationId: ctx.causationId ?? null,
    payload,
  } as E;
}

/** An event together with where it sits in its stream. */
export interface Positioned<E> {
  event: E;
  /** JetStream stream sequence: unique and increasing within the stream. */
  position: number;
}

/** Used at the end of switches over a union so that an unhandled variant fails to compile. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
