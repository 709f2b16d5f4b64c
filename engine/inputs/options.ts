// Up-front validation of every option object andor accepts: unknown keys, types and ranges, each message naming
// the field, what it got, and the valid values. Validated options are frozen.
import { InvalidOptionError } from '../contracts/errors.js';

/** Throws when `options` has keys outside `known`, listing the valid ones. */
export function assertKnownKeys(options: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(`Unknown option ${where}.${key}. Expected one of: ${known.join(', ')}.`);
    }
  }
}

/** Returns value when it is one of `allowed`, else throws listing them. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidOptionError(`${field} must be one of: ${allowed.join(', ')} (got ${JSON.stringify(value)}).`);
  }
  return value as T;
}

/** An integer in [min, max]. */
export function integerIn(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `an integer ≥ ${min}` : `an integer in ${min}..${max}`;
    throw new InvalidOptionError(`${field} must be ${range} (got ${JSON.stringify(value)}).`);
  }
  return value;
}

/** A finite number in [min, max] (exclusive of min when minExclusive). */
export function numberIn(value: unknown, min: number, max: number, field: string, minExclusive = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (minExclusive ? value > min : value >= min) && value <= max;
  if (!ok) {
    const low = minExclusive ? `> ${min}` : `≥ ${min}`;
    const range = max === Infinity ? `a finite number ${low}` : `a number ${low} and ≤ ${max}`;
    throw new InvalidOptionError(`${field} must be ${range} (got ${JSON.stringify(value)}).`);
  }
  return value;
}

/** A boolean. */
export function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(`${field} must be true or false (got ${JSON.stringify(value)}).`);
  return value;
}

/**
 * Parses an index list such as "0-9", "1,3,5-7" or a number array into distinct non-negative integers, in order.
 * @param value - the list
 * @param field - option name for messages
 * @param limit - indices must be < limit (the count of available units); undefined = unchecked
 * @param unit - what an index counts ("feature column", "grid cell", …)
 */
export function indexList(value: unknown, field: string, limit?: number, unit = 'index'): number[] {
  let list: number[];
  if (Array.isArray(value)) list = value.map(Number);
  else if (typeof value === 'string' && value.trim() !== '') {
    list = [];
    for (const part of value.split(',')) {
      const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
      if (range) {
        const [from, to] = [Number(range[1]), Number(range[2])];
        if (to < from) throw new InvalidOptionError(`${field}: range "${part.trim()}" runs backwards; write it low-high.`);
        for (let i = from; i <= to; i++) list.push(i);
      } else if (/^\s*\d+\s*$/.test(part)) list.push(Number(part));
      else throw new InvalidOptionError(`${field}: "${part.trim()}" is not an index or a range like 0-9 (got ${JSON.stringify(value)}).`);
    }
  } else throw new InvalidOptionError(`${field} must be a list of indices like "0-9" or "1,3,5" (got ${JSON.stringify(value)}).`);
  const seen = new Set<number>();
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0) throw new InvalidOptionError(`${field} must hold non-negative integers (got ${i}).`);
    if (limit !== undefined && i >= limit) {
      throw new InvalidOptionError(`${field}: ${unit} ${i} is out of range; valid ${unit}s are 0..${limit - 1}.`);
    }
    if (seen.has(i)) throw new InvalidOptionError(`${field}: ${unit} ${i} is listed twice.`);
    seen.add(i);
  }
  if (list.length === 0) throw new InvalidOptionError(`${field} is empty; give at least one ${unit}.`);
  return list;
}
