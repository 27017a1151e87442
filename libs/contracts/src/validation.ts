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

/**
 * Property names that are never data. JSON.parse makes `__proto__` an ordinary own property,
 * which class-transformer then skips without a word (so it slipped past "unknown fields are
 * rejected"), and code that copies such input with a plain assignment would set the prototype
 * of its target. None of the three is a field of any request, so they are refused wherever they
 * appear, however deep.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * C0 control characters other than tab, line feed and carriage return. Refused in every string
 * of every request: Postgres cannot store NUL in text (history read it back as U+FFFD while the
 * live event carried U+0000, so a message read differently live and from history), and the
 * others have no use in chat text, names or settings but to confuse whoever displays them.
 */
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

type Problems = Array<{ field: string; problems: string[] }>;

/**
 * One walk over a JSON value, without recursion (so any depth is safe to measure): whether it is
 * nested deeper than `max`, and else the fields with a forbidden name or a control character
 * (their paths as `a.b.3.c`, like the validators' details).
 */
function inspect(input: unknown, max: number): { tooDeep: true } | { tooDeep: false; problems: Problems } {
  const problems: Problems = [];
  const stack: Array<[unknown, number, string]> = [[input, 1, '']];
  while (stack.length) {
    const [value, depth, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (CONTROL_CHARS.test(value))
        problems.push({
          field: path,
          problems: [`${path} must not contain control characters (U+0000-U+001F other than tab, line feed, carriage return)`],
        });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > max) return { tooDeep: true };
    const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (const [key, child] of entries) {
      const field = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) problems.push({ field, problems: [`property ${key} should not exist`] });
      else stack.push([child, depth + 1, field]);
    }
  }
  return { tooDeep: false, problems: problems.reverse() };
}

/**
 * Validates untrusted input (a frame's data, an HTTP body, a NATS request) against a DTO class.
 * Unknown properties are rejected rather than silently dropped, so a client typo is reported;
 * so are `__proto__`, `constructor` and `prototype` anywhere in it, and control characters in
 * any string (see FORBIDDEN_KEYS and CONTROL_CHARS), before the DTO's own rules.
 */
export function validateInput<T extends object>(cls: Ctor<T>, input: unknown): Result<T> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return fail('BAD_REQUEST', 'expected a JSON object');
  }
  const seen = inspect(input, MAX_INPUT_DEPTH);
  if (seen.tooDeep) return fail('BAD_REQUEST', `input is nested more than ${MAX_INPUT_DEPTH} levels deep`);
  if (seen.problems.length) return fail('BAD_REQUEST', seen.problems.map((d) => d.problems.join('; ')).join('; '), seen.problems);
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
