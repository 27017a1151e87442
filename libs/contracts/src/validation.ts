import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { fail, ok, type Result } from './errors';

type Ctor<T> = new () => T;

/**
 * Deepest nesting any request may have (objects and arrays). The DTOs are at most a couple of
 * levels deep; class-transformer walks input recursively, so without this bound a 16 KB frame
 * of nested arrays overflows the stack.
 */
export const MAX_INPUT_DEPTH = 8;

/** Nesting depth of a JSON value, measured without recursion (so any depth is safe to measure). */
function depthExceeds(input: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[input, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Validates untrusted input (a frame's data, an HTTP body, a NATS request) against a DTO class.
 * Unknown properties are rejected rather than silently dropped, so a client typo is reported.
 */
export function validateInput<T extends object>(cls: Ctor<T>, input: unknown): Result<T> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return fail('BAD_REQUEST', 'expected a JSON object');
  }
  if (depthExceeds(input, MAX_INPUT_DEPTH)) return fail('BAD_REQUEST', `input is nested more than ${MAX_INPUT_DEPTH} levels deep`);
  let instance: T;
  let errors: ValidationError[];
  try {
    instance = plainToInstance(cls, input);
    // forbidUnknownValues would reject every instance of a DTO without fields (PresenceListRpc);
    // whitelist + forbidNonWhitelisted already reject any property a DTO does not declare.
    errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  } catch {
    // Input the validators cannot even walk (whatever the cause) is bad input, never a crash.
    return fail('BAD_REQUEST', 'input could not be validated');
  }
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
