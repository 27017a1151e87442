import type { Actor, Event, EventMeta } from '../envelope';
import { isRoomId, isUserId } from '../ids';

/**
 * One decoder per stream turns a stored message (its bytes, or the JSON already parsed from
 * them) into an event of the current shape, or a typed failure the caller handles on purpose
 * (skip, log, dead-letter). Nothing reaches `decide`/`evolve` or a projection unchecked.
 *
 * A stream is described by one spec per event type (`EventSpecs`): its current version and a
 * check for every payload field. The spec object is keyed by the union's types, so a type
 * added to the union without a spec, or a payload field without a check, does not compile,
 * and the list of a stream's types is read off the spec instead of being written out again.
 */

type AnyEvent = Event<string, object, number>;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A check of one value: a type guard, and what it expects (for the failure's reason). */
export interface Check<T> {
  readonly expects: string;
  is(v: unknown): v is T;
}

const check = <T>(expects: string, is: (v: unknown) => v is T): Check<T> => ({ expects, is });

/** The form `Date.toISOString` writes (what `makeEvent` stores); times end up in headers and rows. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export const checks = {
  string: check('a string', (v): v is string => typeof v === 'string'),
  boolean: check('a boolean', (v): v is boolean => typeof v === 'boolean'),
  nonEmpty: check('a non-empty string', (v): v is string => typeof v === 'string' && v.length > 0),
  uuid: check('a UUID', isUserId),
  roomId: check('a room id', isRoomId),
  time: check('an ISO-8601 UTC time', (v): v is string => typeof v === 'string' && ISO_UTC.test(v) && !Number.isNaN(Date.parse(v))),
  positiveInt: check('a positive integer', (v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0),
  intInRange: (min: number, max: number): Check<number> =>
    check(`an integer ${min}-${max}`, (v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max),
  nullable: <T>(c: Check<T>): Check<T | null> => check(`${c.expects} or null`, (v): v is T | null => v === null || c.is(v)),
  /** An object with exactly the checked fields (extra fields are dropped when read). */
  shape: <T>(spec: PayloadSpec<T>): Check<T> =>
    check(`an object { ${Object.keys(spec).join(', ')} }`, (v): v is T => isObj(v) && readPayload(spec, v).ok),
  /** An array of at most `max` items, each passing `c`. */
  arrayOf: <T>(c: Check<T>, max: number): Check<T[]> =>
    check(`an array of at most ${max} of ${c.expects}`, (v): v is T[] => Array.isArray(v) && v.length <= max && v.every((x) => c.is(x))),
  /** One of a string union; the record makes a value missing from it a compile error. */
  oneOf: <T extends string>(values: Record<T, true>): Check<T> => {
    const allowed = Object.keys(values);
    return check(`one of ${allowed.join(', ')}`, (v): v is T => typeof v === 'string' && allowed.includes(v));
  },
};

/** A check for every field of a payload (and no other). */
export type PayloadSpec<P> = { readonly [K in keyof P]-?: Check<P[K]> };

export interface EventSpec<E extends AnyEvent> {
  /** The version the code reads and writes; older ones are read through upcasters. */
  readonly version: E['version'];
  readonly payload: PayloadSpec<E['payload']>;
}

/** One spec per type of the union `E`: a missing or extra type is a compile error. */
export type EventSpecs<E extends AnyEvent> = { readonly [T in E['type']]: EventSpec<Extract<E, { type: T }>> };

type Read<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Reads a payload against its spec: a fresh object with exactly the spec's fields, or every problem. */
export function readPayload<P>(spec: PayloadSpec<P>, raw: Obj): Read<P> {
  const value: Obj = {};
  const problems: string[] = [];
  for (const [field, c] of Object.entries(spec) as Array<[string, Check<unknown>]>) {
    if (c.is(raw[field])) value[field] = raw[field];
    else problems.push(`payload.${field} must be ${c.expects}`);
  }
  return problems.length ? { ok: false, problems } : { ok: true, value: value as P };
}

/**
 * Reads one older version of a type as the next one (version n as n + 1). The older payload
 * is kept frozen as a type beside the upcaster and checked with its own spec before `up`.
 */
export interface Upcaster {
  up(raw: Obj, meta: EventMeta): Read<unknown>;
}

export function upcaster<Old, Next>(old: PayloadSpec<Old>, up: (payload: Old, meta: EventMeta) => Next): Upcaster {
  return {
    up(raw, meta) {
      const r = readPayload(old, raw);
      return r.ok ? { ok: true, value: up(r.value, meta) } : r;
    },
  };
}

/** Per type, the upcaster from each older version (keyed by the version it reads). */
export type Upcasters<E extends AnyEvent> = { readonly [T in E['type']]?: Readonly<Record<number, Upcaster>> };

export type DecodeFailure =
  /** Not JSON, not an envelope, or a payload that does not fit its type. */
  | { kind: 'malformed'; type: string | null; reason: string }
  /** A type this stream's union does not have (yet): e.g. written by a newer version. */
  | { kind: 'unknown-type'; type: string; reason: string }
  /** A version that is neither current nor readable through upcasters. */
  | { kind: 'unsupported-version'; type: string; version: number; reason: string };

export type Decoded<E> = { ok: true; event: E } | ({ ok: false } & DecodeFailure);

export interface EventDecoder<E extends AnyEvent> {
  /** Every type of the stream, read off its specs. */
  readonly types: readonly E['type'][];
  isType(type: unknown): type is E['type'];
  /**
   * A stored message: its bytes, or the JSON parsed from them (`undefined` standing for bytes
   * that were not JSON, as `decodeJson` returns). Never throws.
   */
  decode(stored: unknown): Decoded<E>;
}

const ACTOR_KINDS = checks.oneOf<Actor['kind']>({ user: true, service: true, system: true });
const CAUSATION = checks.nullable(checks.nonEmpty);
const textDecoder = new TextDecoder();

function parse(stored: unknown): unknown {
  if (!(stored instanceof Uint8Array)) return stored;
  try {
    return JSON.parse(textDecoder.decode(stored));
  } catch {
    return undefined;
  }
}

function envelopeProblems(e: Obj): string[] {
  const problems: string[] = [];
  if (!checks.nonEmpty.is(e.id)) problems.push('id must be a non-empty string');
  if (!checks.time.is(e.time)) problems.push(`time must be ${checks.time.expects}`);
  if (!isObj(e.actor) || !ACTOR_KINDS.is(e.actor.kind) || !checks.nonEmpty.is(e.actor.id))
    problems.push(`actor must be { kind: ${ACTOR_KINDS.expects}, id: a non-empty string }`);
  if (!checks.nonEmpty.is(e.correlationId)) problems.push('correlationId must be a non-empty string');
  if (!CAUSATION.is(e.causationId)) problems.push('causationId must be a non-empty string or null');
  if (!isObj(e.payload)) problems.push('payload must be an object');
  return problems;
}

/** A stream's decoder from its specs and (optionally) the upcasters of older versions. */
export function createDecoder<E extends AnyEvent>(specs: EventSpecs<E>, upcasters: Upcasters<E> = {}): EventDecoder<E> {
  const types = Object.keys(specs) as E['type'][];
  const isType = (type: unknown): type is E['type'] => typeof type === 'string' && Object.hasOwn(specs, type);
  const malformed = (type: string | null, reason: string): Decoded<E> => ({ ok: false, kind: 'malformed', type, reason });

  function decode(stored: unknown): Decoded<E> {
    const data = parse(stored);
    if (data === undefined) return malformed(null, 'not JSON');
    if (!isObj(data) || typeof data.type !== 'string') return malformed(null, 'not an event envelope (no type)');
    const type = data.type;
    if (!isType(type)) return { ok: false, kind: 'unknown-type', type, reason: `unknown event type "${type}"` };
    const { version } = data;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 0)
      return malformed(type, `${type}: version must be a non-negative integer`);
    const problems = envelopeProblems(data);
    if (problems.length) return malformed(type, `${type}: ${problems.join('; ')}`);

    const spec: EventSpec<AnyEvent> = specs[type];
    const unsupported: Decoded<E> = {
      ok: false,
      kind: 'unsupported-version',
      type,
      version,
      reason: `unsupported ${type} version ${version}`,
    };
    const meta: EventMeta = {
      id: data.id as string,
      time: data.time as string,
      actor: { kind: (data.actor as Obj).kind as Actor['kind'], id: (data.actor as Obj).id as string },
      correlationId: data.correlationId as string,
      causationId: data.causationId as string | null,
    };
    let payload = data.payload as Obj;
    // Each step reads version v as v + 1, so the chain ends at the current version or fails.
    for (let v = version; v !== spec.version; v++) {
      const step = v < spec.version ? upcasters[type]?.[v] : undefined;
      if (!step) return unsupported;
      const r = step.up(payload, meta);
      if (!r.ok) return malformed(type, `${type} v${v}: ${r.problems.join('; ')}`);
      if (!isObj(r.value)) return malformed(type, `${type} v${v}: the upcaster returned no payload object`);
      payload = r.value;
    }
    const read = readPayload(spec.payload, payload);
    if (!read.ok) return malformed(type, `${type}: ${read.problems.join('; ')}`);
    return { ok: true, event: { ...meta, type, version: spec.version, payload: read.value } as E };
  }

  return { types, isType, decode };
}
