import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { fail, ok, type Result } from './errors';

type Ctor<T> = new () => T;

/**
 * Validates untrusted input (a frame's data, an HTTP body, a NATS request) against a DTO class.
 * Unknown properties are rejected rather than silently dropped, so a client typo is reported.
 */
export function validateInput<T extends object>(cls: Ctor<T>, input: unknown): Result<T> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return fail('BAD_REQUEST', 'expected a JSON object');
  }
  const instance = plainToInstance(cls, input);
  // forbidUnknownValues would reject every instance of a DTO without fields (PresenceListRpc);
  // whitelist + forbidNonWhitelisted already reject any property a DTO does not declare.
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  if (errors.length > 0) {
    const details = flatten(errors);
    return fail('BAD_REQUEST', details.map((d) => d.problems.join('; ')).join('; '), details);
  }
  return ok(instance);
}

function flatten(errors: ValidationError[], prefix = ''): Array<{ field: string; problems: string[] }> {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, problems: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}
