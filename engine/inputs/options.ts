// Up-front validation of every option object andor accepts: unknown keys, types and ranges, each message naming
// the field, what it got, and the valid values. Validated options are frozen. Index lists are bounded before they
// are expanded (MAX_INDEX_COUNT), so no list can exhaust memory.
import { InvalidOptionError } from '../contracts/errors.js';
import { MAX_INDEX_COUNT } from './limits.js';
import { preview } from './preview.js';

/**
 * Throws when `options` is not an object or has keys outside `known`, listing the valid ones.
 * @param options - the option object
 * @param known - the valid keys
 * @param where - its name in messages ("options")
 * @throws InvalidOptionError naming the first unknown key and every known one
 */
export function assertKnownKeys(options: object, known: readonly string[], where: string): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError(`${where} must be an object of options (got ${preview(options)}).`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(`Unknown option ${where}.${key}. Expected one of: ${known.join(', ')}.`);
    }
  }
}

/**
 * Returns value when it is one of `allowed`, else throws listing them.
 * @throws InvalidOptionError listing the allowed values and what it got
 */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidOptionError(`${field} must be one of: ${allowed.join(', ')} (got ${preview(value)}).`);
  }
  return value as T;
}

/**
 * An integer in [min, max]; it must also be a safe integer (|value| ≤ 2^53 − 1), so max = Infinity is safe to pass.
 * @throws InvalidOptionError naming the range and what it got
 */
export function integerIn(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `an integer ≥ ${min}` : `an integer in ${min}..${max}`;
    const unsafe = typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) ? `, at most ${Number.MAX_SAFE_INTEGER}` : '';
    throw new InvalidOptionError(`${field} must be ${range}${unsafe} (got ${preview(value)}).`);
  }
  return value;
}

/**
 * A finite number in [min, max] (exclusive of min when minExclusive).
 * @throws InvalidOptionError naming the range and what it got
 */
export function numberIn(value: unknown, min: number, max: number, field: string, minExclusive = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (minExclusive ? value > min : value >= min) && value <= max;
  if (!ok) {
    const low = minExclusive ? `> ${min}` : `≥ ${min}`;
    const range = max === Infinity ? `a finite number ${low}` : `a number ${low} and ≤ ${max}`;
    throw new InvalidOptionError(`${field} must be ${range} (got ${preview(value)}).`);
  }
  return value;
}

/**
 * A boolean.
 * @throws InvalidOptionError when value is not true or false
 */
export function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(`${field} must be true or false (got ${preview(value)}).`);
  return value;
}

/** One entry of an index list: a single index (from = to) or an inclusive range, as written. */
interface Span {
  readonly from: number;
  readonly to: number;
  readonly text: string;
}

const SPAN = /^[ \t]*(\d+)[ \t]*(?:-[ \t]*(\d+)[ \t]*)?$/;

/**
 * Parses an index list such as "0-9", "1,3,5-7" or a number array into distinct non-negative integers, in the
 * order given. The list is checked against its bounds BEFORE any range is expanded: every index must be < limit
 * (or < MAX_INDEX_COUNT = 1,000,000 when no limit is given), and the list may name at most MAX_INDEX_COUNT indices.
 * Strings hold decimal digits, "-" for ranges, "," between entries and spaces or tabs around them; nothing else
 * (no signs, exponents, hex, decimal points or other whitespace).
 * @param value - the list: a string, or an array of integers
 * @param field - option name for messages
 * @param limit - indices must be < limit (the count of available units); undefined = at most MAX_INDEX_COUNT
 * @param unit - what an index counts ("feature column", "grid cell", …)
 * @returns the indices, in the order given
 * @throws InvalidOptionError for a malformed, empty, out-of-range, oversized or repeating list
 */
export function indexList(value: unknown, field: string, limit?: number, unit = 'index'): number[] {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new InvalidOptionError(`${field}: the count of ${unit}s must be a non-negative integer (got ${preview(limit)}); this is a bug in the caller.`);
  }
  const spans = spansOf(value, field);
  const bound = limit ?? MAX_INDEX_COUNT;
  let total = 0;
  for (const { from, to, text } of spans) {
    if (to < from) throw new InvalidOptionError(`${field}: range "${text}" runs backwards; write it low-high.`);
    if (to >= bound) {
      const bad = Math.max(from, bound);
      const within = from === to ? '' : ` (in the range "${text}")`;
      if (limit === undefined) throw new InvalidOptionError(`${field}: ${unit} ${bad}${within} is beyond the cap; indices must be below ${MAX_INDEX_COUNT}.`);
      if (limit === 0) throw new InvalidOptionError(`${field}: ${unit} ${bad}${within} is out of range; there are no ${unit}s to choose from.`);
      throw new InvalidOptionError(`${field}: ${unit} ${bad} is out of range; valid ${unit}s are 0..${limit - 1}${within}.`);
    }
    total += to - from + 1;
    if (total > MAX_INDEX_COUNT) throw new InvalidOptionError(`${field} names more than ${MAX_INDEX_COUNT} ${unit}s; list fewer.`);
  }
  if (total === 0) throw new InvalidOptionError(`${field} is empty; give at least one ${unit}.`);
  // repeats: sort the spans by start; a span starting at or before the end of an earlier one repeats its start
  const sorted = [...spans].sort((a, b) => a.from - b.from);
  let end = -1;
  for (const { from, to } of sorted) {
    if (from <= end) throw new InvalidOptionError(`${field}: ${unit} ${from} is listed twice.`);
    end = Math.max(end, to);
  }
  const list = new Array<number>(total);
  let k = 0;
  for (const { from, to } of spans) for (let i = from; i <= to; i++) list[k++] = i;
  return list;
}

/** The entries of an index list, parsed but not expanded. */
function spansOf(value: unknown, field: string): Span[] {
  if (Array.isArray(value)) {
    if (value.length > MAX_INDEX_COUNT) throw new InvalidOptionError(`${field} names more than ${MAX_INDEX_COUNT} indices (${value.length}); list fewer.`);
    const spans: Span[] = [];
    for (let k = 0; k < value.length; k++) {
      const item: unknown = value[k]; // a plain loop: map() would skip the holes of a sparse array
      if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0) {
        throw new InvalidOptionError(`${field}[${k}] must be a non-negative integer (got ${preview(item)}).`);
      }
      spans.push({ from: item, to: item, text: String(item) });
    }
    return spans;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidOptionError(`${field} must be a list of indices like "0-9" or "1,3,5" (got ${preview(value)}).`);
  }
  const parts = value.split(',');
  if (parts.length > MAX_INDEX_COUNT) throw new InvalidOptionError(`${field} has more than ${MAX_INDEX_COUNT} entries; list fewer.`);
  return parts.map((part) => {
    const match = SPAN.exec(part);
    const shown = preview(part.trim());
    if (!match) {
      let why = 'is not an index or a range like 0-9';
      if (part.trim() === '') why = 'is an empty entry (two commas in a row, or a comma at an end)';
      else if (/\d\s+\d|[^\S \t]/.test(part)) why = 'holds whitespace that is not allowed (only spaces or tabs around entries)';
      else if (/^\s*-\s*\d/.test(part)) why = 'is negative; indices count from 0';
      else if (/^\s*[+-]?(\d|\.\d)[\d.]*(e[+-]?\d+)?\s*$/i.test(part) || /^\s*0[xob]/i.test(part)) why = 'is not a plain decimal integer';
      throw new InvalidOptionError(`${field}: ${shown} ${why} (got ${preview(value)}).`);
    }
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    for (const [digits, n] of [[match[1], from], [match[2], to]] as const) {
      if (digits !== undefined && !Number.isSafeInteger(n)) {
        throw new InvalidOptionError(`${field}: ${preview(digits.length > 20 ? `${digits.slice(0, 20)}…` : digits)} is too large to be an index; indices are below ${MAX_INDEX_COUNT} at most.`);
      }
    }
    return { from, to, text: part.trim() };
  });
}
