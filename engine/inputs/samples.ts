// Reading samples, sample sets, baselines and game values from inline JSON, JSON / CSV / .npy files and raw float64.
// Everything becomes flat Float64Arrays here, and every defect of the input is a typed error; dtype conversion for the
// model happens in plan.ts. Format parsers live beside it: csv.ts, npy.ts, nested.ts; reading and sniffing in read.ts.
import { extname } from 'node:path';
import { InvalidInputError, NonFiniteError, ShapeMismatchError } from '../contracts/errors.js';
import { readCsv } from './csv.js';
import { MAX_BINARY_BYTES, MAX_SAMPLES, MAX_TEXT_BYTES } from './limits.js';
import { duplicateKey } from './json-keys.js';
import { flattenNested, type FlatArray } from './nested.js';
import { assertNpySize, parseNpy as parseNpyArray } from './npy.js';
import { preview } from './preview.js';
import { decodeUtf8, firstSignificantChar, hasNpyMagic, isText, readCapped } from './read.js';
import { misspelledKey } from './validate.js';

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
  /** Where the label was given, as messages name it, when not in the sample itself (the service's "body.labels[3]"). */
  readonly labelSource?: string;
}

/** A set of samples that share shape and feature names. */
export interface SampleSet {
  readonly samples: readonly Sample[];
  readonly features?: readonly string[];
  readonly classes?: readonly string[];
  readonly shape?: readonly number[];
  readonly source: string;
}

/** The splits a sample may belong to (dynamics reads train, test and ood). */
const SPLITS = ['train', 'test', 'ood'] as const;
const SAMPLE_KINDS = 'inline JSON, or the path of a .json, .csv or .npy file';
const VALUE_KINDS = 'a JSON array inline, or the path of a .json, .npy or raw little-endian float64 file';

/** Leaf rule of samples: finite numbers, and booleans as 1 / 0. */
function sampleLeaf(value: unknown, path: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new NonFiniteError(`${path} is ${value}; samples must hold only finite numbers (a number beyond ±1.8e308 overflows to Infinity).`);
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') throw new InvalidInputError(`${path} is the string ${preview(value)}; samples must hold only finite numbers, written without quotes.`);
  throw new InvalidInputError(`${path} is ${preview(value)}; samples must hold only finite numbers (or booleans).`);
}

/**
 * Checks that values given as a Float64Array (a library caller's sample, sample set or baseline) are finite, as the
 * readers check every leaf of a file or a JSON array: a NaN fed to the model is not always NaN at its output (a max
 * pool over points can drop it), and would give interactions in silence.
 * @param values - the values
 * @param what - their name, for the message (`options.baseline`)
 * @returns values
 * @throws NonFiniteError naming the first element that is NaN or ±Infinity
 */
export function assertFiniteValues(values: Float64Array, what: string): Float64Array {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new NonFiniteError(`${what}[${i}] is ${values[i]}; samples and baselines must hold only finite numbers. Replace it with a number.`);
  }
  return values;
}

function flattenSample(value: unknown, what: string): FlatArray {
  const flat = flattenNested(value, what, sampleLeaf);
  if (flat.values.length === 0) throw new InvalidInputError(`${what} holds no numbers (shape [${flat.shape.join(', ')}]); a sample needs at least one value.`);
  return flat;
}

/**
 * Flattens a nested numeric array (row-major), checking it is a proper tensor of finite numbers (booleans read as
 * 1 / 0). Iterative: any width, nesting up to MAX_NESTING_DEPTH (32) and at most MAX_ELEMENTS (2^26) numbers.
 * @param value - a number or a nested array of numbers
 * @param what - what the value is, for messages ("options.baseline")
 * @returns the values
 * @throws ShapeMismatchError for ragged or mixed nestings; NonFiniteError for NaN / ±Infinity; InvalidInputError
 *   for any other leaf, an empty array, nesting deeper than 32 or more than 2^26 numbers
 */
export function flattenNumbers(value: unknown, what: string): Float64Array {
  return flattenSample(value, what).values;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const absent = (value: unknown) => value === undefined || value === null;

/** Dims other than 1: [1, 8, 8] and [8, 8] hold one layout, [3, 64] and [64, 3] two. */
const squeezedDims = (shape: readonly number[]): number[] => shape.filter((d) => d !== 1);

/**
 * Refuses values nested as one tensor that are to be read as another of the same size (a [3, 64] point cloud read as
 * [64, 3], an H×W×C image as C×H×W, [2, 15] as [30]): the count alone would let every value land in another place in
 * silence. A flat array (or dims that differ only by 1s) is read row-major as the target, on purpose.
 * @throws ShapeMismatchError naming both shapes
 */
export function assertSameLayout(given: readonly number[], expected: readonly number[], what: string, target: string): void {
  // a nested sample against a flat target is refused too: a 2 × 15 sample for an input of 30 (an adversarial sweep,
  // stop 43)
  const [a, b] = [squeezedDims(given), squeezedDims(expected)];
  if (a.length < 2 || String(a) === String(b)) return;
  throw new ShapeMismatchError(
    `${what} has shape [${given.join(', ')}] but ${target} is [${expected.join(', ')}]: the same number of values in another layout, which would be read as [${expected.join(', ')}] in silence. ` +
      'Transpose it to that layout (e.g. np.transpose, x.T), or give it flat to have it read row-major on purpose.',
  );
}

/**
 * Refuses a key of a sample object that is a likely typo of a field the object lacks: the same name in another case,
 * or (from 4 letters) one close to label, split or tokens ("lable": the label would be ignored in silence, and the
 * predicted class explained). Other keys are kept as metadata (the bundled files' "relevant", "formulaMobius").
 * @param fields - the fields a sample reads (x or values, label, id, split, tokens)
 */
function assertNoMisspelledField(raw: Record<string, unknown>, fields: readonly string[], what: string): void {
  const typo = misspelledKey(raw, fields);
  if (typo) throw new InvalidInputError(`${what} has the key "${typo.key}", which no sample field is (${fields.join(', ')}; other keys are kept as metadata), and no "${typo.field}": did you mean "${typo.field}"? As it is, it would be ignored in silence.`);
}

function sampleFromJson(raw: unknown, what: string, setShape: readonly number[] | undefined): Sample {
  if (Array.isArray(raw)) {
    const { values, shape } = flattenSample(raw, what);
    if (setShape) assertSameLayout(shape, setShape, what, "the set's shape");
    return { values, shape: setShape ?? shape };
  }
  if (!isObject(raw)) throw new InvalidInputError(`${what} is ${preview(raw)}; a sample is a numeric array or an object {"x": [...], "label"?, "id"?, "split"?, "tokens"?}.`);
  assertNoMisspelledField(raw, ['x', 'label', 'id', 'split', 'tokens'], what);
  if (absent(raw.x)) throw new InvalidInputError(`${what} has no "x"; a sample object holds its values in "x" (got the keys ${preview(raw)}).`);
  let values: Sample['values'];
  let shape: readonly number[] | undefined = setShape;
  if (isObject(raw.x)) {
    values = perInput(raw.x, `${what}.x`);
  } else {
    const flat = flattenSample(raw.x, `${what}.x`);
    values = flat.values;
    if (setShape) assertSameLayout(flat.shape, setShape, `${what}.x`, "the set's shape");
    shape ??= flat.shape;
  }
  return { values, shape, label: labelOf(raw.label, what), id: idOf(raw.id, what), split: splitOf(raw.split, what), tokens: tokensOf(raw.tokens, what) };
}

/** A sample's values of several inputs ({"input_ids": [...], ...}), each flattened (a Float64Array kept as it is). */
function perInput(given: Record<string, unknown>, what: string): Readonly<Record<string, Float64Array>> {
  const entries = Object.entries(given);
  if (entries.length === 0) throw new InvalidInputError(`${what} is an empty object; give one array per model input, e.g. {"input_ids": [...]}.`);
  return Object.fromEntries(entries.map(([name, v]) => [name, arrayValues(v, `${what}.${name}`)]));
}

/** A Float64Array kept as it is (checked finite), another typed array or a nested numeric array flattened, as values;
 *  anything else refused by flattenSample. A Float32Array per input was refused as not numbers (an adversarial
 *  sweep, stop 43), though one for the whole sample was taken. */
function arrayValues(given: unknown, what: string): Float64Array {
  if (given instanceof Float64Array) return assertFiniteValues(given, what);
  return flattenSample(ArrayBuffer.isView(given) && !(given instanceof DataView) ? Array.from(given as unknown as ArrayLike<number>) : given, what).values;
}

function labelOf(label: unknown, what: string): number | undefined {
  if (absent(label)) return undefined;
  if (typeof label !== 'number' || !Number.isSafeInteger(label) || label < 0) {
    throw new InvalidInputError(`${what}.label must be a non-negative integer class index (got ${preview(label)}).`);
  }
  return label;
}

function idOf(id: unknown, what: string): string | undefined {
  if (absent(id)) return undefined;
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  throw new InvalidInputError(`${what}.id must be a string or a number (got ${preview(id)}).`);
}

function splitOf(split: unknown, what: string): string | undefined {
  if (absent(split)) return undefined;
  if (typeof split !== 'string' || !(SPLITS as readonly string[]).includes(split)) {
    throw new InvalidInputError(`${what}.split must be one of: ${SPLITS.join(', ')} (got ${preview(split)}).`);
  }
  return split;
}

function tokensOf(tokens: unknown, what: string): string[] | undefined {
  if (absent(tokens)) return undefined;
  if (!Array.isArray(tokens)) throw new InvalidInputError(`${what}.tokens must be an array of strings, one per position (got ${preview(tokens)}).`);
  tokens.forEach((t, i) => {
    if (typeof t !== 'string') throw new InvalidInputError(`${what}.tokens[${i}] must be a string (got ${preview(t)}).`);
  });
  return tokens as string[];
}

function namesOf(value: unknown, what: string, allowNumbers: boolean): string[] | undefined {
  if (absent(value)) return undefined;
  if (!Array.isArray(value)) throw new InvalidInputError(`${what} must be an array of names (got ${preview(value)}).`);
  const names = value.map((v, i) => {
    // an empty name reads as no name in a term or a label ("{a · }"), as a CSV header's empty column is refused
    if (typeof v === 'string' && v.trim() === '') throw new InvalidInputError(`${what}[${i}] is ${preview(v)}, an empty name; give each one a name.`);
    if (typeof v === 'string' || (allowNumbers && typeof v === 'number' && Number.isFinite(v))) return String(v);
    throw new InvalidInputError(`${what}[${i}] must be a ${allowNumbers ? 'string or a number' : 'string'} (got ${preview(v)}).`);
  });
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (seen.has(name)) throw new InvalidInputError(`${what}[${seen.get(name)}] and ${what}[${i}] are both ${preview(name)}; names must be distinct.`);
    seen.set(name, i);
  });
  return names;
}

function shapeOfSet(value: unknown, what: string): number[] | undefined {
  if (absent(value)) return undefined;
  const ok = Array.isArray(value) && value.length <= 32 && value.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1);
  if (!ok) throw new InvalidInputError(`${what} must be an array of positive integers, the dims of one sample (got ${preview(value)}).`);
  return value as number[];
}

function setFromJson(raw: unknown, source: string): SampleSet {
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new InvalidInputError(`${source} is an empty array; give one sample (an array of numbers) or rows of samples.`);
    // an array of numbers is one sample; an array of arrays (or of {"x": ...} objects) is one sample per row
    const isRows = raw.every((r) => Array.isArray(r) || isObject(r));
    if (!isRows) return finishSet({ samples: [sampleFromJson(raw, source, undefined)], source });
    assertSampleCount(raw.length, source);
    return finishSet({ samples: raw.map((r, i) => sampleFromJson(r, `${source}[${i}]`, undefined)), source });
  }
  if (isObject(raw)) {
    if ('samples' in raw) {
      if (!Array.isArray(raw.samples)) throw new InvalidInputError(`${source}.samples must be an array of samples (got ${preview(raw.samples)}).`);
      if (raw.samples.length === 0) throw new InvalidInputError(`${source}.samples is empty; a sample set needs at least one sample.`);
      assertSampleCount(raw.samples.length, `${source}.samples`);
      const shape = shapeOfSet(raw.shape, `${source}.shape`);
      return finishSet({
        samples: raw.samples.map((s, i) => sampleFromJson(s, `${source}.samples[${i}]`, shape)),
        features: namesOf(raw.features, `${source}.features`, false),
        classes: namesOf(raw.classes, `${source}.classes`, true),
        shape,
        source,
      });
    }
    if ('x' in raw) return finishSet({ samples: [sampleFromJson(raw, source, undefined)], source });
  }
  throw new InvalidInputError(`${source} is not a sample (got ${preview(raw)}): expected a numeric array, an array of rows, {"x": [...]} or {"samples": [...]}.`);
}

function assertSampleCount(count: number, what: string): void {
  if (count > MAX_SAMPLES) throw new InvalidInputError(`${what} holds ${count} samples; andor reads at most ${MAX_SAMPLES} samples from one source.`);
}

/** Checks what holds across the samples of a set: one kind of values, one shape, names and labels that fit. */
function finishSet(set: SampleSet): SampleSet {
  const { samples, source } = set;
  const first = samples[0];
  const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  samples.forEach((sample, i) => {
    const where = samples.length === 1 ? source : `${source}: sample ${i}`;
    if (sample.values instanceof Float64Array) {
      if (!(first.values instanceof Float64Array)) throw new InvalidInputError(`${where} is one array but sample 0 names its inputs; give every sample the same form.`);
      if (set.shape && sample.values.length !== sizeOf(set.shape)) {
        throw new ShapeMismatchError(`${where} has ${sample.values.length} values but the set's shape [${set.shape.join(', ')}] needs ${sizeOf(set.shape)}.`);
      }
      if (!set.shape && String(sample.shape) !== String(first.shape)) {
        throw new ShapeMismatchError(`${source} is ragged: sample ${i} has shape [${sample.shape?.join(', ')}] but sample 0 has [${first.shape?.join(', ')}]; every sample of a set must have the same shape.`);
      }
      if (set.features && set.features.length !== sample.values.length) {
        throw new ShapeMismatchError(`${source} names ${set.features.length} features but ${samples.length === 1 ? 'its sample' : `sample ${i}`} has ${sample.values.length} values; give one name per value.`);
      }
    } else {
      const keys = Object.keys(sample.values).sort().join(', ');
      if (first.values instanceof Float64Array) throw new InvalidInputError(`${where} names its inputs but sample 0 is one array; give every sample the same form.`);
      if (keys !== Object.keys(first.values).sort().join(', ')) {
        throw new InvalidInputError(`${where} names the inputs {${keys}}, unlike sample 0; give every sample the same inputs.`);
      }
    }
    if (set.classes && sample.label !== undefined && sample.label >= set.classes.length) {
      throw new InvalidInputError(`${where} has label ${sample.label} but the set lists ${set.classes.length} classes (labels 0..${set.classes.length - 1}).`);
    }
  });
  return set;
}

/**
 * Parses CSV text into one sample per data row (see readCsv in csv.ts for the header rule).
 * @param text - the CSV text
 * @param source - the path, for messages
 * @returns the rows as samples of shape [columns], with the header as feature names
 * @throws InvalidInputError, NonFiniteError or ShapeMismatchError naming the row, column and line
 */
export function parseCsv(text: string, source: string): SampleSet {
  const { header, rows, width } = readCsv(text, source);
  return { samples: rows.map((values) => ({ values, shape: [width] })), features: header, shape: [width], source };
}

/**
 * Parses a NumPy .npy file (format 1.0–3.0; little- or big-endian f8/f4/i8/i4/i2/i1/u8/u4/u2/u1/b1; C order).
 * @param bytes - the whole file
 * @param source - the path, for messages
 * @returns the data as float64 (NaN and ±Inf kept) and the shape
 * @throws InvalidInputError or ShapeMismatchError for every defect of the file
 */
export function parseNpy(bytes: Uint8Array, source: string): { data: Float64Array; shape: number[] } {
  const { data, shape } = parseNpyArray(bytes, source);
  return { data, shape };
}

function setFromNpy(bytes: Uint8Array, source: string): SampleSet {
  const { data, shape } = parseNpy(bytes, source);
  if (data.length === 0) throw new InvalidInputError(`${source} holds no values (shape (${shape.join(', ')})); a sample set needs at least one value.`);
  const rowShape = shape.length <= 1 ? shape : shape.slice(1);
  const size = shape.length <= 1 ? data.length : data.length / shape[0];
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const where = shape.length <= 1 ? `element ${bad}` : `row ${Math.floor(bad / size)}, element ${bad % size}`;
    throw new NonFiniteError(`${source} ${where} is ${data[bad]}; samples must hold only finite numbers.`);
  }
  if (shape.length <= 1) return { samples: [{ values: data, shape }], shape, source };
  assertSampleCount(shape[0], source);
  const samples = Array.from({ length: shape[0] }, (_, i) => ({ values: data.slice(i * size, (i + 1) * size), shape: rowShape }));
  return { samples, shape: rowShape, source };
}

function checkInline(source: unknown, what: string, kinds: string): string {
  if (typeof source !== 'string') throw new InvalidInputError(`${what} must be a string: ${kinds} (got ${preview(source)}).`);
  if (source.trim() === '') throw new InvalidInputError(`${what} is empty; give ${kinds}.`);
  if (source.length > MAX_TEXT_BYTES) throw new InvalidInputError(`${what} is longer than ${MAX_TEXT_BYTES / 2 ** 20} MiB; put the data in a .npy file.`);
  return source.trim();
}

/**
 * A sample given as an object (the library's Sample): its values a Float64Array or a numeric array (nested as the
 * input is), or one such per input name; its label, id, split and tokens as a sample file's.
 * @param value - the object
 * @param what - the option's name, for messages
 * @returns the sample, its values as Float64Arrays
 * @throws InvalidInputError naming the field for anything else; NonFiniteError for NaN / ±Infinity
 */
export function checkSample(value: unknown, what: string): Sample {
  if (!isObject(value)) throw new InvalidInputError(`${what} must be a sample object {values, label?, id?, tokens?} (got ${preview(value)}).`);
  assertNoMisspelledField(value, ['values', 'label', 'id', 'split', 'tokens'], what);
  const given = value.values;
  let values: Sample['values'];
  if (Array.isArray(given) || (ArrayBuffer.isView(given) && !(given instanceof DataView))) values = arrayValues(given, `${what}.values`);
  else if (isObject(given)) {
    values = perInput(given, `${what}.values`);
  } else {
    throw new InvalidInputError(`${what}.values must be a Float64Array, a numeric array, or one per model input ({"input_ids": [...]}; got ${preview(given)}).`);
  }
  // a shape beside the values is their layout: it holds as many elements as they do (shape [31] was taken with 30
  // values, an adversarial sweep, stop 48)
  if (value.shape !== undefined) {
    const shape = value.shape;
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) throw new InvalidInputError(`${what}.shape must be a list of sizes, positive integers (got ${preview(shape)}).`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (values instanceof Float64Array && count !== values.length) throw new InvalidInputError(`${what}.shape [${shape.join(', ')}] holds ${count} elements, but ${what}.values has ${values.length}; give the shape of the values, or leave it out.`);
  }
  const tokens = tokensOf(value.tokens, what);
  return { ...(value as unknown as Sample), values, label: labelOf(value.label, what), id: idOf(value.id, what), split: splitOf(value.split, what), ...(tokens ? { tokens } : {}) };
}

/** Whether a value is a SampleSet as loadSampleSet builds it: samples whose values are Float64Arrays (one, or one
 *  per input name). */
function isSampleSet(value: unknown): value is SampleSet {
  if (!isObject(value) || !Array.isArray(value.samples)) return false;
  return value.samples.every((s: unknown) => isObject(s) && (s.values instanceof Float64Array || (isObject(s.values) && Object.values(s.values).every((v) => v instanceof Float64Array))));
}

/**
 * A sample set given as a source (loadSampleSet's) or as an object: a SampleSet, or the parsed JSON of a sample file
 * ({"samples": [{"x": ...}, ...]}), read as that file would be.
 * @param given - the source or the object
 * @param what - the option's name, for messages
 * @throws InvalidInputError (with the option's name) for anything else, as for a bad file
 */
export async function resolveSampleSet(given: string | SampleSet | unknown, what: string): Promise<SampleSet> {
  if (typeof given === 'string') return loadSampleSet(given, `the inline ${what}`);
  if (isSampleSet(given)) {
    // built by loadSampleSet, whose readers checked every value, or by the caller, who may hold NaN in a Float64Array
    given.samples.forEach(({ values }, i) => {
      const at = `${what}.samples[${i}].values`;
      if (values instanceof Float64Array) assertFiniteValues(values, at);
      else for (const [name, input] of Object.entries(values)) assertFiniteValues(input, `${at}.${name}`);
    });
    return given;
  }
  // a SampleSet whose samples hold plain arrays (the library's Sample, as options.sample takes it): each read as
  // options.sample is; it was read as a file's JSON, and told it had no "x" (an adversarial sweep, stop 43)
  if (isObject(given) && Array.isArray(given.samples) && given.samples.length > 0 && given.samples.every((s: unknown) => isObject(s) && 'values' in s && !('x' in s))) {
    const samples = (given.samples as unknown[]).map((sample, i) => checkSample(sample, `${what}.samples[${i}]`));
    return { ...(given as unknown as SampleSet), source: typeof given.source === 'string' ? given.source : what, samples };
  }
  if (isObject(given) || Array.isArray(given)) return setFromJson(given, what);
  throw new InvalidInputError(`${what} must be a sample source (${SAMPLE_KINDS}), a SampleSet from loadSampleSet, or a sample file's parsed JSON (got ${given === null ? 'null' : typeof given}).`);
}

/**
 * Loads samples from inline JSON (a string starting with "[" or "{") or a file. What a file holds is decided by its
 * bytes first, then its extension: the .npy magic → .npy (any extension); a .npy extension without it → error;
 * a .json extension → JSON; UTF-8 text whose first non-blank character is "[" or "{" and that parses → JSON (under
 * any extension; under one other than .csv it must parse); other UTF-8 text → CSV.
 * Every set has at least one sample, and its samples share one shape.
 * @param source - the inline JSON or the path
 * @param inline - what inline JSON is called in messages (a baseline's or a reference set's is not "the inline sample")
 * @returns the samples with their metadata
 * @throws InvalidInputError for unreadable, empty, oversized (MAX_TEXT_BYTES for text, MAX_BINARY_BYTES for .npy) or
 *   non-numeric data; ShapeMismatchError for ragged data; NonFiniteError for NaN / ±Infinity
 */
export async function loadSampleSet(source: string, inline = 'the inline sample'): Promise<SampleSet> {
  const trimmed = checkInline(source, 'the sample source', SAMPLE_KINDS);
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return setFromJson(parseJson(trimmed, inline), inline);
  const ext = extname(source).toLowerCase();
  // a pipe or a device is text unless it starts as a .npy file (what a sample may be besides)
  const bytes = await readCapped(source, ext === '.json' || ext === '.csv' ? MAX_TEXT_BYTES : MAX_BINARY_BYTES, SAMPLE_KINDS, npySizeCheck(source), (start) => (hasNpyMagic(start) ? MAX_BINARY_BYTES : MAX_TEXT_BYTES));
  if (hasNpyMagic(bytes)) return setFromNpy(bytes, source);
  if (ext === '.npy') return setFromNpy(bytes, source); // reports the bad magic number
  if (bytes.length > MAX_TEXT_BYTES) throw new InvalidInputError(`${source} is text larger than ${MAX_TEXT_BYTES / 2 ** 20} MiB; split it, or save the samples as .npy.`);
  const text = decodeUtf8(bytes, source);
  if (ext === '.json') return setFromJson(parseJson(text, source), source);
  if (/^\s*[[{]/.test(text)) {
    // JSON content wins over any extension; a .csv whose first name starts with "[" or "{" stays CSV
    const json = tryJson(text);
    if (json.ok) {
      assertDistinctKeys(text, source);
      return setFromJson(json.value, source);
    }
    if (ext !== '.csv') {
      throw new InvalidInputError(`${source} is not valid JSON: ${json.error.message}.${nonFiniteHint(text) || ' It starts with "[" or "{", so andor read it as JSON; name a CSV file .csv.'}`, { cause: json.error });
    }
  }
  return parseCsv(text, source);
}

/**
 * Picks row `row` of a sample set.
 * @param set - the set
 * @param row - the row, from 0
 * @returns the sample
 * @throws InvalidInputError listing the valid rows
 */
export function pickSample(set: SampleSet, row: number): Sample {
  if (!Number.isInteger(row) || row < 0 || row >= set.samples.length) {
    throw new InvalidInputError(`Row ${preview(row)} does not exist in ${set.source}: it has ${set.samples.length} sample(s), rows 0..${set.samples.length - 1}.`);
  }
  return set.samples[row];
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false; error: Error } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

/**
 * Throws when an object of the text gives a key twice (JSON.parse keeps the last in silence).
 * @throws InvalidInputError naming the key and where it is
 */
export function assertDistinctKeys(text: string, source: string): void {
  const twice = duplicateKey(text);
  if (!twice) return;
  const where = twice.path === '' ? 'its top-level object' : `the object at ${twice.path.replace(/^\./, '')}`;
  throw new InvalidInputError(`${source} gives the key "${twice.key}" twice in ${where}; JSON keeps only the last one, so the other would be ignored in silence. Give each key once.`);
}

/**
 * JSON.parse with an InvalidInputError that names the source.
 * @param text - the JSON text (a BOM is dropped)
 * @param source - where it came from, for messages
 * @returns the parsed value
 * @throws InvalidInputError when the text is not JSON, or an object gives a key twice
 */
/** NaN or Infinity as a bare word, as Python's json.dump writes them (JSON has neither). */
const NON_FINITE_WORD = /(^|[\s,[:])-?(NaN|Infinity)(?=[\s,\]}]|$)/;

/** What to do about a bare NaN or Infinity, when the text that did not parse has one ("Unexpected token 'N'" alone
 *  did not say; a sweep, stop 47). */
function nonFiniteHint(text: string): string {
  return NON_FINITE_WORD.test(text) ? " It holds NaN or Infinity, which JSON does not have (Python's json.dump writes them): andor takes only finite numbers, so replace them (json.dump(..., allow_nan=False) finds them)." : '';
}

export function parseJson(text: string, source: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new InvalidInputError(`${source} is not valid JSON: ${(cause as Error).message}.${nonFiniteHint(body)}`, { cause });
  }
  assertDistinctKeys(body, source);
  return value;
}

/**
 * Loads a game: v on all 2^n masks. The format is decided by the content, then the extension:
 *   - inline: a string starting with "[" (or "{", which is refused as not an array) is JSON;
 *   - the .npy magic "\x93NUMPY" (any extension), or a .npy extension → .npy, any shape, flattened in C order;
 *   - a .json extension, or UTF-8 text (no control bytes but tab, CR, LF) whose first non-blank character is "[" or
 *     "{" → JSON, which must then parse;
 *   - other printable ASCII text → refused (CSV or text is not a values format);
 *   - anything else → raw little-endian float64: a multiple of 8 bytes.
 * Every value must be finite. A raw file must hold 2^n values (its bytes carry no other check); for JSON and .npy the
 * count is checked by the caller (explainValues), which knows the player limits.
 * @param source - inline JSON or a path
 * @returns the values
 * @throws InvalidInputError for unreadable or malformed data; ShapeMismatchError for a raw file that is not 2^n whole
 *   float64s; NonFiniteError naming the first NaN / ±Infinity / null
 */
export async function loadValues(source: string): Promise<Float64Array> {
  const trimmed = checkInline(source, 'the values source', VALUE_KINDS);
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return checkGame(valuesFromJson(parseJson(trimmed, 'the inline values'), 'the inline values'), 'the inline values');
  const ext = extname(source).toLowerCase();
  const bytes = await readCapped(source, ext === '.json' ? MAX_TEXT_BYTES : MAX_BINARY_BYTES, VALUE_KINDS, npySizeCheck(source));
  if (bytes.length === 0) throw new InvalidInputError(`${source} is empty; expected ${VALUE_KINDS}.`);
  if (hasNpyMagic(bytes) || ext === '.npy') {
    const { data, shape } = parseNpy(bytes, source);
    return checkGame(gameShaped(data, shape, source), source);
  }
  const lead = firstSignificantChar(bytes);
  if (ext === '.json' || ((lead === '[' || lead === '{') && isText(bytes, false))) {
    if (bytes.length > MAX_TEXT_BYTES) throw new InvalidInputError(`${source} is JSON text larger than ${MAX_TEXT_BYTES / 2 ** 20} MiB; save the values as .npy or raw float64.`);
    return checkGame(valuesFromJson(parseJson(decodeUtf8(bytes, source), source), source), source);
  }
  if (isText(bytes, true)) {
    throw new InvalidInputError(`${source} is text but not a JSON array (it starts with ${preview(lead)}); a values file is a JSON array, a .npy file or raw little-endian float64.`);
  }
  if (bytes.byteLength % 8 !== 0) {
    throw new ShapeMismatchError(`${source} has ${bytes.byteLength} bytes, not a whole number of little-endian float64 values (8 bytes each).`);
  }
  const copy = new Uint8Array(bytes); // aligned, offset 0
  const values = new Float64Array(copy.buffer, 0, copy.byteLength / 8);
  // raw bytes carry no shape, so the count is the only check that they are a game at all
  if (!isPowerOfTwo(values.length)) {
    throw new ShapeMismatchError(`${source} holds ${values.length} raw float64 values; a game needs 2^n of them (one per mask of n players: 1, 2, 4, 8, …).`);
  }
  return checkGame(values, source);
}

/** Leaf rule of game values: numbers; null and the strings "NaN", "Infinity", "-Infinity" are non-finite values. */
function valueLeaf(what: string): (value: unknown, path: string, index: number) => number {
  return (value, path, index) => {
    const at = path === `${what}[${index}]` ? `index ${index}` : `index ${index} (${path.slice(what.length)})`;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return value;
      throw nonFinite(what, at, String(value));
    }
    if (value === null || value === 'NaN' || value === 'Infinity' || value === '-Infinity') throw nonFinite(what, at, preview(value));
    if (typeof value === 'string') throw new InvalidInputError(`${what} holds the string ${preview(value)} at ${at}; values must be numbers, written without quotes.`);
    throw new InvalidInputError(`${what} holds ${preview(value)} at ${at}; values must be numbers.`);
  };
}

function nonFinite(what: string, at: string, shown: string): NonFiniteError {
  return new NonFiniteError(
    `${what} holds a non-finite value at ${at} (${shown}); every value of a game must be a finite number. ` +
      'Recompute that mask, or check for overflow (numbers beyond ±1.8e308 become Infinity).',
  );
}

function valuesFromJson(raw: unknown, what: string): Float64Array {
  if (!Array.isArray(raw)) throw new InvalidInputError(`${what} must be a JSON array of 2^n numbers (got ${preview(raw)}).`);
  const { values, shape } = flattenNested(raw, what, valueLeaf(what));
  return gameShaped(values, shape, what);
}

/**
 * A game's values as given: a flat list (axes of length 1 aside), or a 2×2×…×2 tensor (numpy's v.reshape([2] * n):
 * the last axis is player 0, the first player n − 1), flattened in row-major order. Any other shape is refused: a 2×4
 * array (two 2-player games, say) was read as one game of 3 players (an adversarial sweep, stop 45).
 * @throws ShapeMismatchError naming the shape
 */
function gameShaped(values: Float64Array, shape: readonly number[], what: string): Float64Array {
  // axes of length 1 say nothing (a (1, 2^n) array is one game)
  const axes = shape.filter((d) => d !== 1);
  if (axes.length <= 1 || axes.every((d) => d === 2)) return values;
  throw new ShapeMismatchError(
    `${what} has shape ${shape.join('×')}: a game's values are a flat list of 2^n numbers (v at each mask, bit i of the index = player i), or a 2×2×…×2 tensor of them; flatten it, or give one game at a time.`,
  );
}

const isPowerOfTwo = (count: number) => count > 0 && Number.isInteger(Math.log2(count));

/** Every value of a game is finite; the count (2^n) is the caller's check, with the player count and its limits. */
function checkGame(values: Float64Array, what: string): Float64Array {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw nonFinite(what, `index ${bad}`, String(values[bad]));
  return values;
}

/** A .npy file's size checked against its header before the rest of it is read (readCapped's checkStart). */
const npySizeCheck = (source: string) => (start: Uint8Array, size: number): void => {
  if (hasNpyMagic(start)) assertNpySize(start, size, source);
};
