import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
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

/** The properties marked `@Nullable()`, per class prototype (a subclass inherits its bases'). */
const NULLABLE = new WeakMap<object, Set<string>>();

/**
 * Marks a request field on which `null` means something (e.g. "the default", "clear it"), as
 * docs/protocol.md documents it. `@IsOptional()` lets `null` through every optional field, while
 * the services only test for `undefined`; so validateInput refuses a `null` on any DTO property
 * without this mark (`<field> must not be null`). The field's TS type should include `null`.
 */
export function Nullable(): PropertyDecorator {
  return (target, key) => {
    let names = NULLABLE.get(target);
    if (!names) NULLABLE.set(target, (names = new Set()));
    names.add(String(key));
  };
}

/** The marks of a prototype and of every class it extends. */
function* marksOf(proto: object): Generator<Set<string>> {
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const names = NULLABLE.get(p);
    if (names) yield names;
  }
}

/** The fields of a DTO class (its bases' included) marked `@Nullable()`, sorted. */
export function nullableFields(cls: Ctor<object>): string[] {
  return [...new Set([...marksOf(cls.prototype)].flatMap((names) => [...names]))].sort();
}

const isNullable = (proto: object, key: string): boolean => [...marksOf(proto)].some((names) => names.has(key));

/**
 * The `null`s on properties of DTO instances not marked `@Nullable()`, anywhere in a transformed
 * request (class-transformer gives each nested DTO its class; arrays are walked for them). Plain
 * objects, without a DTO class, are left alone: they carry no marks. Recursive: the input was
 * already bounded to MAX_INPUT_DEPTH.
 */
function nullProblems(value: unknown, path = '', out: Problems = []): Problems {
  if (value === null || typeof value !== 'object') return out;
  const isArray = Array.isArray(value);
  const proto = Object.getPrototypeOf(value) as object | null;
  if (!isArray && (proto === null || proto === Object.prototype)) return out;
  const entries: Array<[string, unknown]> = isArray ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const field = path ? `${path}.${key}` : key;
    // A null element of an array is the array validators' business (IsString each, ValidateNested).
    if (child === null) {
      if (!isArray && !isNullable(proto!, key)) out.push({ field, problems: [`${field} must not be null`] });
    } else nullProblems(child, field, out);
  }
  return out;
}

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
 * class-validator (0.15) works out a class's rules again on every validation, nested objects
 * included: it filters the class's metadata and walks every class it knows (hundreds of DTOs
 * here) for parents. That was 3-6 % of the gateway's, rooms' and moderation's CPU on the send
 * path (profiled under the fan-out benchmark). The rules of a class only change when a
 * decorator runs, i.e. while modules load, so the answer is kept per class and options and the
 * whole memo is dropped whenever a rule is added. Callers only read the arrays.
 */
function memoizeRuleLookup(): void {
  type Storage = {
    getTargetValidationMetadatas: (...args: [unknown, string, boolean, boolean, string[]?]) => unknown[];
    addValidationMetadata: (m: unknown) => void;
    [MEMOIZED]?: true;
  };
  const storage = getMetadataStorage() as unknown as Storage;
  if (
    storage[MEMOIZED] ||
    typeof storage.getTargetValidationMetadatas !== 'function' ||
    typeof storage.addValidationMetadata !== 'function'
  )
    return;
  storage[MEMOIZED] = true;
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  const memo = new Map<unknown, Map<string, unknown[]>>();
  storage.addValidationMetadata = (m) => {
    memo.clear();
    add(m);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups ? groups.join('\u0000') : ''}`;
    let perClass = memo.get(target);
    if (!perClass) memo.set(target, (perClass = new Map()));
    let rules = perClass.get(key);
    if (!rules) perClass.set(key, (rules = lookup(target, schema, always, strictGroups, groups)));
    return rules;
  };
}
const MEMOIZED = Symbol.for('chat.classValidatorRulesMemoized');
memoizeRuleLookup();

/**
 * Validates untrusted input (a frame's data, an HTTP body, a NATS request) against a DTO class.
 * Unknown properties are rejected rather than silently dropped, so a client typo is reported;
 * so are `__proto__`, `constructor` and `prototype` anywhere in it, and control characters in
 * any string (see FORBIDDEN_KEYS and CONTROL_CHARS), before the DTO's own rules. A `null` is
 * refused on every DTO property not marked `@Nullable()`, nested DTOs included (a field the DTO's
 * own rules already refused is reported once, with their problems).
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
  const invalid = flatten(errors);
  const reported = new Set(invalid.map((d) => d.field));
  const details = [...invalid, ...nullProblems(instance).filter((d) => !reported.has(d.field))];
  if (details.length > 0) {
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
