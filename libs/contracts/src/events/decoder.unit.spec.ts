import { makeEvent, type Event, type EventContext } from '../envelope';
import { checks, createDecoder, upcaster, type EventSpecs, type Upcasters } from './decoder';

/**
 * The mechanism on a fictitious stream: `Greeted` is at version 2 and was once stored as
 * version 0 (`{ name }`) and version 1 (`{ first, last }`); both older shapes stay frozen here
 * beside their upcasters, as a real stream would keep them beside its events.
 */
type Greeted = Event<'Greeted', { fullName: string; loud: boolean }, 2>;
type Waved = Event<'Waved', { times: number }>;
type TestEvent = Greeted | Waved;

type GreetedV0Payload = { name: string };
type GreetedV1Payload = { first: string; last: string };

const specs: EventSpecs<TestEvent> = {
  Greeted: {
    version: 2,
    payload: { fullName: checks.nonEmpty, loud: { expects: 'a boolean', is: (v): v is boolean => typeof v === 'boolean' } },
  },
  Waved: { version: 1, payload: { times: checks.positiveInt } },
};

const upcasters: Upcasters<TestEvent> = {
  Greeted: {
    0: upcaster<GreetedV0Payload, GreetedV1Payload>({ name: checks.nonEmpty }, ({ name }) => {
      const [first, ...rest] = name.split(' ');
      return { first, last: rest.join(' ') };
    }),
    1: upcaster<GreetedV1Payload, Greeted['payload']>({ first: checks.nonEmpty, last: checks.string }, ({ first, last }, meta) => ({
      fullName: last ? `${first} ${last}` : first,
      // Proves the upcaster sees the envelope: services never shouted.
      loud: meta.actor.kind === 'user',
    })),
  },
};

const ctx: EventContext = {
  now: () => new Date('2030-01-02T03:04:05.678Z'),
  newId: () => 'e-1',
  actor: { kind: 'user', id: '11111111-1111-4111-8111-111111111111' },
  correlationId: 'c-1',
};
const stored = (type: string, version: number, payload: unknown) => makeEvent<Event<string, unknown, number>>(ctx, type, version, payload);

describe('event decoder - mechanism', () => {
  const withUpcasters = createDecoder(specs, upcasters);
  const withoutUpcasters = createDecoder(specs);

  it('reads the current version as it is, keeping only the declared fields', () => {
    const e = stored('Greeted', 2, { fullName: 'Ann Lee', loud: false, extra: 1 });
    expect(withUpcasters.decode({ ...e, extra: 'x' })).toEqual({
      ok: true,
      event: { ...e, payload: { fullName: 'Ann Lee', loud: false } },
    });
  });

  it('reads an older version as the current shape, one upcaster after the other', () => {
    const v0 = stored('Greeted', 0, { name: 'Ann Mary Lee' });
    expect(withUpcasters.decode(v0)).toEqual({ ok: true, event: { ...v0, version: 2, payload: { fullName: 'Ann Mary Lee', loud: true } } });
    const v1 = stored('Greeted', 1, { first: 'Bo', last: '' });
    expect(withUpcasters.decode(v1)).toEqual({ ok: true, event: { ...v1, version: 2, payload: { fullName: 'Bo', loud: true } } });
  });

  it('checks an older version against its own frozen shape before upcasting it', () => {
    expect(withUpcasters.decode(stored('Greeted', 0, { name: 42 }))).toMatchObject({
      ok: false,
      kind: 'malformed',
      type: 'Greeted',
      reason: 'Greeted v0: payload.name must be a non-empty string',
    });
  });

  it('a version without an upcaster, or newer than the current one, is unsupported', () => {
    expect(withoutUpcasters.decode(stored('Greeted', 1, { first: 'Bo', last: 'Lee' }))).toEqual({
      ok: false,
      kind: 'unsupported-version',
      type: 'Greeted',
      version: 1,
      reason: 'unsupported Greeted version 1',
    });
    expect(withUpcasters.decode(stored('Greeted', 3, { fullName: 'x', loud: true }))).toMatchObject({
      kind: 'unsupported-version',
      version: 3,
    });
    expect(withUpcasters.decode(stored('Waved', 0, { times: 1 }))).toMatchObject({ kind: 'unsupported-version', type: 'Waved' });
  });

  it('reads bytes as well as parsed JSON', () => {
    const e = stored('Waved', 1, { times: 3 });
    expect(withUpcasters.decode(new TextEncoder().encode(JSON.stringify(e)))).toEqual({ ok: true, event: e });
    expect(withUpcasters.decode(new TextEncoder().encode('{not json'))).toEqual({
      ok: false,
      kind: 'malformed',
      type: null,
      reason: 'not JSON',
    });
  });

  it('lists the types of its specs', () => {
    expect([...withUpcasters.types].sort()).toEqual(['Greeted', 'Waved']);
    expect(withUpcasters.isType('Waved')).toBe(true);
    expect(withUpcasters.isType('toString')).toBe(false);
  });
});
