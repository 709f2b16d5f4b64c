// Validation of requests against the schemas of engine/contracts/schema: one compiled checker per schema, and one
// message per failure in the project's form: which field, what it must be (read off the schema, so the valid values
// are always listed), what it got, and a "did you mean" for misspelt names and keywords.
import { closest, distance } from 'fastest-levenshtein';
import type { Static, TObject, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { InvalidOptionError } from '../contracts/errors.js';
import { preview } from './preview.js';

/** How a field is named in messages: `options.preset` (library), `--preset` (CLI), `body.preset` (HTTP). */
export type FieldNamer = (field: string) => string;

/** Names fields as `${prefix}.${field}`. */
export function dotted(prefix: string): FieldNamer {
  return (field) => `${prefix}.${field}`;
}

type Checker = ReturnType<typeof Compile>;
const compiled = new WeakMap<TSchema, Checker>();

function checkerOf(schema: TSchema): Checker {
  let checker = compiled.get(schema);
  if (!checker) {
    checker = Compile(schema);
    compiled.set(schema, checker);
  }
  return checker;
}

/** The closest of `candidates` to `word`, when it is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || word.length === 0) return undefined;
  const best = closest(word, candidates as string[]);
  const limit = Math.max(2, Math.floor(word.length / 3));
  return distance(word.toLowerCase(), best.toLowerCase()) <= limit ? best : undefined;
}

/**
 * The first key of `raw` that is a likely typo of a field `raw` lacks, and that field: the same name in another case,
 * or (from 4 letters) one close to a field of 4 letters or more. Other keys are the caller's to keep (metadata, a run's
 * accuracies), and a key close to a field that is present ("time" beside "name") is not a typo.
 * @param fields - the fields the object is read for
 */
export function misspelledKey(raw: Record<string, unknown>, fields: readonly string[]): { key: string; field: string } | undefined {
  for (const key of Object.keys(raw)) {
    if (fields.includes(key)) continue;
    const field = fields.find((f) => f.toLowerCase() === key.toLowerCase()) ?? (key.length >= 4 ? suggest(key, fields.filter((f) => f.length >= 4)) : undefined);
    if (field !== undefined && (raw[field] === undefined || raw[field] === null)) return { key, field };
  }
  return undefined;
}

/** " Did you mean "x"?" when a likely intended value exists, else "". */
export function didYouMean(word: unknown, candidates: readonly string[], render: (s: string) => string = (s) => `"${s}"`): string {
  if (typeof word !== 'string') return '';
  const hit = suggest(word, candidates);
  return hit === undefined ? '' : ` Did you mean ${render(hit)}?`;
}

type Json = Record<string, unknown>;

function range(s: Json, noun: string): string {
  const low = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum !== undefined ? `≥ ${s.minimum}` : undefined;
  const high = s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : s.maximum !== undefined ? `≤ ${s.maximum}` : undefined;
  if (noun === 'an integer' && s.minimum !== undefined && s.maximum !== undefined) return `an integer in ${s.minimum}..${s.maximum}`;
  if (low && high) return `${noun} ${low} and ${high}`;
  return low || high ? `${noun} ${low ?? high}` : noun;
}

/**
 * What a value of `schema` must be, in words, read off the schema: "one of: a, b", "an integer in 1..64",
 * "a string like "RxC" or a list of 2 integers ≥ 1". Library-only alternatives are named by their description.
 */
export function describeSchema(schema: TSchema): string {
  const s = schema as unknown as Json;
  if (Array.isArray(s.enum)) return `one of: ${(s.enum as unknown[]).join(', ')}`;
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.anyOf)) {
    const parts = (s.anyOf as TSchema[]).map(describeSchema);
    return [...new Set(parts)].join(', or ');
  }
  if (s['x-library-only']) return String(s.description ?? 'a JavaScript value');
  switch (s.type) {
    case 'integer':
      return range(s, 'an integer');
    case 'number':
      return range(s, 'a finite number');
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'string':
      // x-example: what a value looks like, where the placeholder of the flag (x-arg: ROWS, URL) does not show it
      if (s.pattern !== undefined && s['x-example'] !== undefined) return String(s['x-example']);
      return s.pattern !== undefined && s['x-arg'] !== undefined ? `a string like "${s['x-arg']}"` : s.minLength ? 'a non-empty string' : 'a string';
    case 'array':
      // a tuple: prefixItems (JSON Schema 2020-12), or items as a list (TypeBox's Type.Tuple)
      for (const tuple of [s.prefixItems, s.items]) if (Array.isArray(tuple)) return `a list of ${tuple.length} items (${(tuple as TSchema[]).map(describeSchema).join(', ')})`;
    {
      // an empty list where one item is the least is refused with that said, not only the items' kind
      const list = typeof s.minItems === 'number' && s.minItems >= 1 ? 'a non-empty list' : 'a list';
      // the most items, said: 20 000 samples for a batch of at most 10 000 were told only what a sample is (an
      // adversarial sweep, stop 43)
      const most = typeof s.maxItems === 'number' ? ` (at most ${s.maxItems} items)` : '';
      const item = s.items ? describeSchema(s.items as TSchema) : 'any value';
      if (item === 'any value') return `${list}${most}`;
      // items of several kinds: each item is one of them ("a list of lists, or an object" read as one list)
      return item.includes(', or ') ? `${list}${most}, each item ${item}` : `${list} of ${plural(item)}${most}`;
    }
    case 'object':
      return 'an object';
    default:
      return 'any value';
  }
}

function plural(phrase: string): string {
  return phrase.replace(/^an? (integer|finite number|string|non-empty string|object|list)/, (_m, noun: string) => `${noun}s`).replace(/^one of: /, 'values from: ');
}

/** The enum values of a field (also inside anyOf), for "did you mean". */
function keywordsOf(schema: TSchema): string[] {
  const s = schema as unknown as Json;
  if (Array.isArray(s.enum)) return s.enum.filter((x): x is string => typeof x === 'string');
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).flatMap(keywordsOf);
  return [];
}

/**
 * Checks a request object against an object schema and throws the project's message for the first problem.
 * @param schema - a TypeBox object schema (unknown keys refused)
 * @param value - the request
 * @param name - how fields are named in messages (default `options.<field>`)
 * @returns value, typed by the schema
 * @throws InvalidOptionError: an unknown field (with the valid ones and a likely intended one), a missing field, or
 *   a value outside the field's schema (with what it must be and what it got)
 */
export function assertValid<T extends TObject>(schema: T, value: unknown, name: FieldNamer = dotted('options')): Static<T> {
  const top = name('').replace(/[.]$/, '').replace(/^--$/, 'the options') || 'options';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidOptionError(`${top} must be an object (got ${preview(value)}).`);
  const checker = checkerOf(schema);
  if (checker.Check(value)) return value as Static<T>;
  const properties = schema.properties as Record<string, TSchema>;
  const known = Object.keys(properties);
  const record = value as Record<string, unknown>;
  // own keys only: `in` also finds Object.prototype's ("options.constructor must be any value"; an adversarial sweep,
  // stop 45)
  const unknown = Object.keys(record).filter((k) => !Object.hasOwn(properties, k));
  if (unknown.length > 0 && (schema as unknown as Json).additionalProperties === false) {
    const key = unknown[0];
    const listed = known.map((k) => name(k)).join(', ');
    throw new InvalidOptionError(`Unknown option ${name(key)}.${didYouMean(key, known, (k) => name(k))} Expected one of: ${listed}.`);
  }
  const missing = (schema.required ?? []).find((k) => record[k] === undefined);
  if (missing !== undefined) {
    const field = properties[missing] as unknown as Json;
    throw new InvalidOptionError(`${name(missing)} is required${field.description ? `: ${field.description}` : ''}.`);
  }
  // the first failing top-level field, described as a whole (a union lists all its forms)
  for (const error of checker.Errors(value)) {
    const field = error.instancePath.split('/')[1];
    if (field === undefined || !Object.hasOwn(properties, field)) continue;
    const fieldSchema = properties[field];
    const got = record[field];
    const at = error.instancePath.split('/').slice(2);
    // a fault inside an object field is named where it is: "matching.relativeError must be a finite number (got
    // null)", not "matching must be an object (got an object {…})" (an adversarial sweep, stop 34)
    const nested = error.keyword === 'anyOf' ? undefined : nestedAt(fieldSchema, got, at);
    if (nested && error.keyword === 'required') {
      const missing = ((error.params as { requiredProperties?: string[] }).requiredProperties ?? [])[0];
      const child = missing === undefined ? undefined : nestedAt(fieldSchema, got, [...at, missing]);
      if (child) throw new InvalidOptionError(`${[name(field), ...at, missing].join('.')} is required: ${describeSchema(child.schema as TSchema)}.`);
    } else if (nested && at.length > 0) {
      throw new InvalidOptionError(`${[name(field), ...at].join('.')} must be ${describeSchema(nested.schema as TSchema)} (got ${preview(nested.value)}).${didYouMean(nested.value, keywordsOf(nested.schema as TSchema))}`);
    }
    const where = at.length > 0 && error.keyword !== 'anyOf' ? ` (at ${at.map((p) => `[${p}]`).join('')}: ${error.message})` : '';
    // a union of structures says little by its types alone: add what the field is
    const about = Array.isArray((fieldSchema as unknown as Json).anyOf) && keywordsOf(fieldSchema).length === 0 && (fieldSchema as unknown as Json).description;
    const what = about ? `${describeSchema(fieldSchema)} (${String(about)})` : describeSchema(fieldSchema);
    throw new InvalidOptionError(`${name(field)} must be ${what} (got ${preview(got)}).${didYouMean(got, keywordsOf(fieldSchema))}${where}`);
  }
  throw new InvalidOptionError(`${top} do not match the schema: ${[...checker.Errors(value)].map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}.`);
}

/** The schema and value at `path` below a field, when every step is a property of a plain object (else undefined:
 *  a list's item or a union's form is described as part of its field). */
function nestedAt(schema: TSchema, value: unknown, path: readonly string[]): { schema: Json; value: unknown } | undefined {
  let [s, v] = [schema as unknown as Json, value];
  for (const key of path) {
    const properties = s.properties as Record<string, unknown> | undefined;
    if (s.type !== 'object' || !properties || !Object.hasOwn(properties, key) || v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    [s, v] = [properties[key] as Json, (v as Record<string, unknown>)[key]];
  }
  return { schema: s, value: v };
}

/** A caller's onProgress as a run calls it (watchProgress). */
export interface WatchedProgress {
  /** Calls it; what it throws is thrown here, as before. */
  readonly report: (done: number, total: number) => void;
  /** The rejection of a promise it returned, said as its own, once one has come. */
  readonly failure: () => InvalidOptionError | undefined;
}

/**
 * A caller's onProgress whose returned promise is watched: an async onProgress that rejected was an unhandled
 * rejection, which ended the process (an adversarial sweep, stop 43). The rejection stops the run through `stop` and
 * is the error the run ends with (the caller throws `failure()` where the run ends cancelled).
 * @param onProgress - the caller's callback, if any
 * @param stop - aborted on a rejection
 */
export function watchProgress(onProgress: ((done: number, total: number) => unknown) | undefined, stop: AbortController): WatchedProgress {
  let failure: InvalidOptionError | undefined;
  return {
    report: (done, total) => {
      const returned: unknown = onProgress?.(done, total);
      if (typeof (returned as PromiseLike<unknown> | null)?.then !== 'function') return;
      (returned as PromiseLike<unknown>).then(undefined, (error: unknown) => {
        failure ??= new InvalidOptionError(`options.onProgress rejected: ${error instanceof Error ? error.message : String(error)}. It must be a function (done, total) => void that does not throw.`, { cause: error });
        stop.abort(failure);
      });
    },
    failure: () => failure,
  };
}

/**
 * Checks a request's callbacks, which no JSON schema describes: signal is an AbortSignal, onProgress a function.
 * @param request - the request
 * @throws InvalidOptionError naming the field
 */
export function assertCallbacks(request: { readonly signal?: unknown; readonly onProgress?: unknown }): void {
  if (request.signal !== undefined && !(request.signal instanceof AbortSignal)) throw new InvalidOptionError(`options.signal must be an AbortSignal (e.g. new AbortController().signal; got ${preview(request.signal)}).`);
  if (request.onProgress !== undefined && typeof request.onProgress !== 'function') throw new InvalidOptionError(`options.onProgress must be a function (done, total) => void (got ${preview(request.onProgress)}).`);
}
