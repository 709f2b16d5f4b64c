// A short, never-throwing description of any value for error messages ("got …"). It must not recurse into the
// value (a 5000-deep array overflows JSON.stringify) nor print megabytes of it, and it must accept BigInt and symbols.

const MAX_CHARS = 60;
const MAX_ITEMS = 8;

/**
 * Describes a value for a message: strings quoted and cut at 60 characters, numbers as written (NaN, Infinity, -0),
 * short flat arrays in full, anything larger by its kind and size.
 * @param value - anything
 * @returns a one-line description, at most about 80 characters
 */
export function preview(value: unknown): string {
  if (Array.isArray(value)) {
    const flat = value.length <= MAX_ITEMS && value.every((v) => v === null || (typeof v !== 'object' && typeof v !== 'function'));
    if (flat) {
      const text = `[${value.map(scalar).join(', ')}]`;
      if (text.length <= MAX_CHARS) return text;
    }
    return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  }
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${(value as unknown as ArrayLike<unknown>).length ?? value.byteLength}`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const shown = keys.slice(0, 5).map((k) => (k.length > 20 ? `${k.slice(0, 20)}…` : k));
    return `an object {${shown.join(', ')}${keys.length > 5 ? ', …' : ''}}`;
  }
  return scalar(value);
}

function scalar(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_CHARS ? `${JSON.stringify(value.slice(0, MAX_CHARS)).slice(0, -1)}…"` : JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    case 'object':
      return value === null ? 'null' : 'an object';
    default:
      return String(value);
  }
}

/**
 * A value's JSON cut at `max` characters when it has one (plain data, as parsed from a file), else preview(value)
 * (BigInt, cycles, a throwing toJSON).
 * @param value - anything
 * @param max - most characters
 */
export function previewJson(value: unknown, max = 120): string {
  try {
    const text = JSON.stringify(value);
    if (typeof text === 'string') return text.length > max ? `${text.slice(0, max)}…` : text;
  } catch {
    // no JSON: described instead
  }
  return preview(value);
}
