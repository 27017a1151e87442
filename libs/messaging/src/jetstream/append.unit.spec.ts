import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, TimeoutError } from '@nats-io/nats-core';
import { AppendOutcomeUnknown, AppendRefused, classifyAppendFailure } from './append';

const subject = 'ns.chat.room.r1.meta';
const apiError = (err_code: number, description: string) => new JetStreamApiError({ code: 400, err_code, description });

describe('classifyAppendFailure', () => {
  it('a wrong expected last sequence is refused, with that reason', () => {
    const f = classifyAppendFailure(subject, apiError(10071, 'wrong last sequence: 7'));
    expect(f).toBeInstanceOf(AppendRefused);
    expect(f).toMatchObject({ outcome: 'refused', reason: 'wrong-last-sequence', code: 10071, subject });
  });

  it('any other answer from the stream is refused as rejected, keeping its code and text', () => {
    const f = classifyAppendFailure(subject, apiError(10054, 'message size exceeds maximum allowed'));
    expect(f).toMatchObject({ outcome: 'refused', reason: 'rejected', code: 10054, message: 'message size exceeds maximum allowed' });
  });

  it.each([
    ['a timeout', new TimeoutError()],
    ['a closed connection', new ClosedConnectionError()],
    ['anything else (e.g. no responders: nats.js says "jetstream is not enabled")', new Error('jetstream is not enabled')],
  ])('%s is outcome unknown, with the underlying message', (_what, err) => {
    const f = classifyAppendFailure(subject, err);
    expect(f).toBeInstanceOf(AppendOutcomeUnknown);
    expect(f).toMatchObject({ outcome: 'unknown', subject, message: err.message, cause: err });
  });

  it('an already classified failure is kept as it is', () => {
    const refused = new AppendRefused(subject, 'rejected', 1, 'x');
    expect(classifyAppendFailure(subject, refused)).toBe(refused);
  });
});
