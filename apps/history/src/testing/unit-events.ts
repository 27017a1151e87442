import { createSubjects, type EventContext } from '@chat/contracts';

/** The subjects of tests without NATS: only the names events are routed by. */
export const unitSubjects = createSubjects('unit');

/** Users of the plan unit tests, by fixed ids, so expected rows can be written out. */
export const ann = '11111111-1111-4111-8111-111111111111';
export const bob = '33333333-3333-4333-8333-333333333333';
export const cid = '44444444-4444-4444-8444-444444444444';

/** The time of every event made with `fixedCtx`. */
export const fixedTime = new Date('2030-01-02T03:04:05.678Z');

/** An event context of fixed time, id and actor (ann): the same events, and rows, on every run. */
export const fixedCtx: EventContext = {
  now: () => fixedTime,
  newId: () => '00000000-0000-4000-8000-000000000001',
  actor: { kind: 'user', id: ann },
  correlationId: 'c1',
};
