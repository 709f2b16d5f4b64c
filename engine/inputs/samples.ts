// Reading samples, sample sets, baselines and game values from JSON (inline or file), CSV and NumPy .npy files.
// Everything becomes flat Float64Arrays here; dtype conversion for the model happens in plan.ts.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InvalidInputError, ShapeMismatchError } from '../contracts/errors.js';

/** One sample: flat row-major values for the masked input (or one array per input name), plus metadata. */
export interface Sample {
  readonly values: Float64Array | Readonly<Record<string, Float64Array>>;
  readonly shape?: readonly number[];
  readonly label?: number;
  readonly id?: string;
  /** 'train', 'test' or 'ood' in sample sets for dynamics. */
  readonly split?: string;
  /** Token strings, for text samples (index = position). */
  readonly tokens?: readonly string[];
}

/** A set of samples that share shape and feature names. */
export interface SampleSet {
  readonly samples: readonly Sample[];
  readonly features?: readonly string[];
  readonly classes?: readonly string[];
  readonly shape?: readonly number[];
  readonly source: string;
}

/** Flattens a nested numeric array (row-major) and checks every entry is a finite number. */
export function flattenNumbers(value: unknown, what: string): Float64Array {
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
    else if (typeof v === 'boolean') out.push(v ? 1 : 0);
    else throw new InvalidInputError(`${what} must hold only finite numbers (found ${JSON.stringify(v)}).`);
  };
  walk(value);
  return Float64Array.from(out);
}

function shapeOf(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

function sampleFromJson(raw: unknown, what: string, defaults: { shape?: number[] }): Sample {
  if (Array.isArray(raw)) return { values: flattenNumbers(raw, what), shape: defaults.shape ?? shapeOf(raw) };
  if (raw && typeof raw === 'object' && 'x' in raw) {
    const o = raw as Record<string, unknown>;
    const x = o.x;
    let values: Sample['values'];
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      values = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, flattenNumbers(v, `${what}.x.${k}`)]));
    } else values = flattenNumbers(x, `${what}.x`);
    const label = o.label === undefined ? undefined : Number(o.label);
    if (label !== undefined && !Number.isInteger(label)) throw new InvalidInputError(`${what}.label must be an integer class index (got ${JSON.stringify(o.label)}).`);
    return {
      values,
      shape: defaults.shape ?? (Array.isArray(x) ? shapeOf(x) : undefined),
      label,
      id: o.id === undefined ? undefined : String(o.id),
      split: o.split === undefined ? undefined : String(o.split),
      tokens: Array.isArray(o.tokens) ? o.tokens.map(String) : undefined,
    };
  }
  throw new InvalidInputError(`${what} must be a numeric array or an object with an "x" array (got ${JSON.stringify(raw)?.slice(0, 80)}).`);
}

function setFromJson(raw: unknown, source: string): SampleSet {
  if (Array.isArray(raw)) {
    // an array of numbers is one sample; an array of arrays (or of {"x": ...} objects) is one sample per row
    const isRows = raw.length > 0 && raw.every((r) => Array.isArray(r) || (r !== null && typeof r === 'object'));
    if (!isRows) return { samples: [sampleFromJson(raw, source, {})], source };
    return { samples: raw.map((r, i) => sampleFromJson(r, `${source}[${i}]`, {})), source };
  }
  if (raw && typeof raw === 'object') {
    const o = raw as Record<string, unknown>;
    if (Array.isArray(o.samples)) {
      const shape = Array.isArray(o.shape) ? o.shape.map(Number) : undefined;
      return {
        samples: o.samples.map((s, i) => sampleFromJson(s, `${source}.samples[${i}]`, { shape })),
        features: Array.isArray(o.features) ? o.features.map(String) : undefined,
        classes: Array.isArray(o.classes) ? o.classes.map(String) : undefined,
        shape,
        source,
      };
    }
    if ('x' in o) return { samples: [sampleFromJson(o, source, {})], source };
  }
  throw new InvalidInputError(`${source} is not a sample: expected a numeric array, an array of rows, or {"samples": [...]}.`);
}

/** Parses CSV text; a first row with any non-numeric cell is the header (feature names). */
export function parseCsv(text: string, source: string): SampleSet {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new InvalidInputError(`${source} is empty; expected CSV rows of numbers.`);
  const cells = lines.map((l) => l.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1')));
  const isHeader = cells[0].some((c) => c === '' || !Number.isFinite(Number(c)));
  const rows = isHeader ? cells.slice(1) : cells;
  const width = cells[0].length;
  const samples = rows.map((row, i) => {
    if (row.length !== width) throw new ShapeMismatchError(`${source} row ${i} has ${row.length} columns; the first row has ${width}.`);
    const values = Float64Array.from(row, (c, j) => {
      const v = Number(c);
      if (c === '' || !Number.isFinite(v)) throw new InvalidInputError(`${source} row ${i}, column ${j} is not a finite number ("${c}").`);
      return v;
    });
    return { values, shape: [width] };
  });
  return { samples, features: isHeader ? cells[0] : undefined, shape: [width], source };
}

/** Parses a NumPy .npy file (format 1.0–3.0, little-endian f8/f4/i8/i4/u1/b1, C order). */
export function parseNpy(bytes: Uint8Array, source: string): { data: Float64Array; shape: number[] } {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (magic !== '\x93NUMPY') throw new InvalidInputError(`${source} is not a .npy file (bad magic number).`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new InvalidInputError(`${source}: cannot read the .npy header (${header.trim()}).`);
  if (fortran) throw new InvalidInputError(`${source} is in Fortran order; save it with np.save(path, np.ascontiguousarray(a)).`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLength;
  const body = new Uint8Array(bytes.subarray(start)); // a copy at offset 0 (Buffer.slice would be a view)
  const readers: Record<string, () => ArrayLike<number | bigint>> = {
    '<f8': () => new Float64Array(body.buffer, 0, count),
    '<f4': () => new Float32Array(body.buffer, 0, count),
    '<i8': () => new BigInt64Array(body.buffer, 0, count),
    '<i4': () => new Int32Array(body.buffer, 0, count),
    '|u1': () => new Uint8Array(body.buffer, 0, count),
    '|b1': () => new Uint8Array(body.buffer, 0, count),
  };
  const read = readers[descr];
  if (!read) throw new InvalidInputError(`${source}: dtype ${descr} is not supported. Expected one of: ${Object.keys(readers).join(', ')}.`);
  if (body.byteLength < count * Number(descr.slice(2))) throw new ShapeMismatchError(`${source} is truncated: shape (${shape.join(', ')}) needs more data.`);
  const data = Float64Array.from(read() as ArrayLike<number>, Number);
  return { data, shape };
}

function setFromNpy(bytes: Uint8Array, source: string): SampleSet {
  const { data, shape } = parseNpy(bytes, source);
  if (data.some((v) => !Number.isFinite(v))) throw new InvalidInputError(`${source} holds NaN or infinite values.`);
  if (shape.length <= 1) return { samples: [{ values: data, shape }], shape, source };
  const rowShape = shape.slice(1);
  const size = rowShape.reduce((a, b) => a * b, 1);
  const samples = Array.from({ length: shape[0] }, (_, i) => ({ values: data.slice(i * size, (i + 1) * size), shape: rowShape }));
  return { samples, shape: rowShape, source };
}

async function readSource(source: string): Promise<Uint8Array> {
  try {
    return await readFile(source);
  } catch (cause) {
    throw new InvalidInputError(`Cannot read ${source}: ${(cause as NodeJS.ErrnoException).code ?? cause}. Give a JSON array inline or the path of a .json, .csv or .npy file.`, { cause });
  }
}

/**
 * Loads samples from inline JSON (a string starting with "[" or "{") or a .json, .csv or .npy file.
 * @param source - the inline JSON or the path
 * @returns the samples with their metadata
 * @throws InvalidInputError for unreadable or non-numeric data
 */
export async function loadSampleSet(source: string): Promise<SampleSet> {
  const trimmed = source.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return setFromJson(parseJson(trimmed, 'the inline sample'), 'the inline sample');
  const bytes = await readSource(source);
  const ext = extname(source).toLowerCase();
  if (ext === '.npy') return setFromNpy(bytes, source);
  const text = new TextDecoder().decode(bytes);
  if (ext === '.csv') return parseCsv(text, source);
  return setFromJson(parseJson(text, source), source);
}

/**
 * Picks row `row` of a sample set.
 * @throws InvalidInputError listing the valid rows
 */
export function pickSample(set: SampleSet, row: number): Sample {
  if (!Number.isInteger(row) || row < 0 || row >= set.samples.length) {
    throw new InvalidInputError(`Row ${row} does not exist in ${set.source}: it has ${set.samples.length} sample(s), rows 0..${set.samples.length - 1}.`);
  }
  return set.samples[row];
}

/** JSON.parse with an InvalidInputError that names the source. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${source} is not valid JSON: ${(cause as Error).message}.`, { cause });
  }
}

/**
 * Loads a game: v on all 2^n masks, from a JSON array (inline or file) or a raw little-endian float64 file.
 * @param source - inline JSON, a .json file, or any other file read as raw float64
 * @returns the values (length must be a power of two; checked by the caller with the player count)
 */
export async function loadValues(source: string): Promise<Float64Array> {
  const trimmed = source.trim();
  if (trimmed.startsWith('[')) return flattenNumbersAllowingNonFinite(parseJson(trimmed, 'the inline values'), 'the inline values');
  const bytes = await readSource(source);
  const ext = extname(source).toLowerCase();
  if (ext === '.json') return flattenNumbersAllowingNonFinite(parseJson(new TextDecoder().decode(bytes), source), source);
  if (ext === '.npy') return parseNpy(bytes, source).data;
  if (bytes.byteLength % 8 !== 0) {
    throw new ShapeMismatchError(`${source} has ${bytes.byteLength} bytes, not a whole number of little-endian float64 values (8 bytes each).`);
  }
  const copy = new Uint8Array(bytes); // aligned, offset 0
  return new Float64Array(copy.buffer, 0, copy.byteLength / 8);
}

/** Values files may hold NaN as null or strings; they are kept so the caller reports them as NonFiniteError. */
function flattenNumbersAllowingNonFinite(raw: unknown, what: string): Float64Array {
  if (!Array.isArray(raw)) throw new InvalidInputError(`${what} must be a JSON array of 2^n numbers.`);
  return Float64Array.from(raw.flat(Infinity) as unknown[], (v) => {
    if (typeof v === 'number') return v;
    if (v === null || v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    throw new InvalidInputError(`${what} must hold only numbers (found ${JSON.stringify(v)}).`);
  });
}
