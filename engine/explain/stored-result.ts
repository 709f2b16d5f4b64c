// The stored form of a unit's result, for the disk cache and the queue's results table alike: the result with its
// bulk re-laid as typed arrays or left out, and back. Only plain values and typed arrays, which both stores' codecs
// hold exactly (cache.ts: as text, binary-entry.ts: as bytes).
// - A result's input layout holds the sample's values (for an image, MBs: most of the result). When they are the
//   very values of the unit's sample they are stored as the marker "sample" and restored from the reader's unit,
//   which holds the same sample (its digest is part of the key the result is stored under).
// - Its element indices (every pixel of every player: 150 KB for 4 cells of a 224×224 image) are runs of consecutive
//   elements, stored as [start, length] pairs when that is shorter.
// - Its lists of terms (the salient interactions; a sparse result's AND and OR terms) go as columns: the kinds, the
//   players (or, where every term has a mask whose bits they are, the masks alone) and the values. An exact result
//   at n = 14 under preset none lists ~19 000 salient interactions: as objects in JSON they were 80 % of its entry
//   and most of the time to read it back.
// No I/O here.
import { playersOfMask } from '../analysis/interactions.js';
import type { Sample } from '../inputs/samples.js';
import type { ExplainResult } from './explain.js';
import { isSparseResult, type SparseResult } from './sparse.js';

/** A result of either method (units.ts: UnitResult). */
type Result = ExplainResult | SparseResult;

/** What stands in a stored result for layout values taken from the unit's sample. */
const FROM_SAMPLE = 'sample';
/** The field of a stored result that holds the key it is stored under. */
const KEY = 'storedUnder';

/** The sample's values of one input (all of them for a single-input sample). */
function sampleValues(sample: Sample, input: string): Float64Array | undefined {
  return sample.values instanceof Float64Array ? sample.values : sample.values[input];
}

/**
 * The stored form of a result, with the key it is stored under: a result read under another key (a row of the queue's
 * results table copied over another's: row 0 gone and row 1 twice in the batch, exit 0; an adversarial sweep, stop
 * 44) is no result of the reader's unit.
 * @param sample - the sample of the unit it is the result of
 * @param result - its result
 * @param key - the key it is stored under (the cache's, the queue's job key)
 * @returns plain values and typed arrays
 */
export function storeResult(sample: Sample, result: Result, key: string): unknown {
  // a sparse result's AND and OR terms are lists; an exact result's are arrays over the masks
  const lists = { salient: packTerms(result.salient), ...(Array.isArray(result.and) ? { and: packTerms(result.and), or: packTerms(result.or as unknown[]) } : {}) };
  const layout = result.layout;
  if (!layout) return { ...result, ...lists, [KEY]: key };
  // only the same array, not equal values, may be left out: then the reader's sample gives them back exactly
  const values = sampleValues(sample, layout.input) === layout.values ? FROM_SAMPLE : layout.values;
  const runs = toRuns(layout.indices);
  return { ...result, ...lists, layout: { ...layout, values, ...(runs ? { indices: { runs } } : {}) }, [KEY]: key };
}

/**
 * A result from its stored form, its layout values restored from the unit's sample, and the sample's id and the
 * model's file the reader's.
 * @param reader - the unit whose key the result is stored under: its sample, and its model's file as the reader names it
 * @param stored - the stored form, as decoded
 * @param key - the key it was read under: a result stored under another is none of this unit's
 * @returns the result, or undefined when the value is not a well-formed result of this unit (it is then recomputed)
 */
export function restoreResult(reader: { readonly sample: Sample; readonly model: { readonly file?: string } }, stored: unknown, key: string): Result | undefined {
  const { sample } = reader;
  if (stored === null || typeof stored !== 'object') return undefined;
  const { [KEY]: storedUnder, ...r } = stored as Record<string, unknown>;
  if (storedUnder !== key) return undefined;
  const n = r.n;
  if (!Number.isInteger(n) || (n as number) < 0) return undefined;
  const unpacked: Record<string, unknown> = { ...r };
  for (const field of ['salient', 'and', 'or']) {
    if (!isPacked(r[field])) continue;
    const list = unpackTerms(r[field] as PackedTerms, n as number);
    if (!list) return undefined;
    unpacked[field] = list;
  }
  if (!isUnitResult(unpacked)) return undefined;
  // a sample's id is no part of its key (sampleDigest: its values, shape, label and tokens): a result stored for the
  // same values under another id (a sample file exported again with new ids, another client's file) names the
  // reader's sample, as a run of it would
  // and its model file is the reader's (the same bytes, by the key; another machine's path otherwise: an adversarial
  // sweep, stop 44), as runUnit names it
  const withSample: Result = unpacked.sample ? { ...unpacked, sample: { ...unpacked.sample, id: sample.id } } : unpacked;
  const model = withSample.model && { ...withSample.model, file: reader.model.file };
  if (model && reader.model.file === undefined) delete model.file;
  const named: Result = model ? { ...withSample, model } : withSample;
  const layout = named.layout as (Omit<NonNullable<Result['layout']>, 'values' | 'indices'> & { values: unknown; indices: unknown }) | undefined;
  if (!layout) return named;
  const values = layout.values === FROM_SAMPLE ? sampleValues(sample, layout.input) : layout.values;
  const packed = (layout.indices as { runs?: unknown } | null)?.runs;
  const indices = packed instanceof Int32Array ? fromRuns(packed) : layout.indices;
  if (!(values instanceof Float64Array) || !(indices instanceof Int32Array)) return undefined;
  return { ...named, layout: { ...layout, values, indices } };
}

/** A decoded cache entry that is a whole explain result. */
export function isExplainResult(value: unknown): value is ExplainResult {
  const r = value as Partial<ExplainResult> | undefined;
  const trace = (r?.decomposition as { trace?: { every?: unknown; values?: unknown } } | undefined)?.trace;
  return !!r && r.v instanceof Float64Array && r.and instanceof Float64Array && r.or instanceof Float64Array && r.v.length === r.and.length && r.v.length === 2 ** (r.n ?? -1) && Array.isArray(r.salient) && Array.isArray(r.players) && typeof r.target === 'number' &&
    hasReport(r, r.n!) && isObject(r.matching) && Number.isFinite(r.threshold) && Number.isFinite(trace?.every) && trace?.values instanceof Float64Array;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';

/** The seven interaction indices' term lists of a result (the values are the player values, checked apart). */
const INDEX_LISTS = ['sii', 'kSii', 'stii', 'fsii', 'bii', 'chii', 'fbii'] as const;

/**
 * Whether a decoded result has the parts every reader of a result takes as they are (resultToJson, the summary, the
 * report): strength per order over orders 0..n, the indices' values per player and their term lists, the salient
 * terms, the players and the target. A row of the queue's results table with one of them missing or of the wrong
 * type ended every later run with "unexpected error: Cannot read properties of undefined" (an adversarial sweep,
 * stop 44); it is now recomputed, as any unreadable row is.
 */
function hasReport(r: Partial<Result>, n: number): boolean {
  const orders = r.orders as Partial<Result['orders']> | undefined;
  const indices = r.indices as Partial<Result['indices']> | undefined;
  const sized = (a: unknown, length: number) => a instanceof Float64Array && a.length === length;
  return Number.isInteger(n) && isObject(orders) && sized(orders.positive, n + 1) && sized(orders.negative, n + 1) && sized(orders.normalized, n + 1) &&
    isObject(indices) && Number.isInteger(indices.order) && sized(indices.shapley, n) && sized(indices.banzhaf, n) && INDEX_LISTS.every((name) => isTermList(indices[name], n, true)) &&
    Array.isArray(r.salient) && r.salient.every((t) => isObject(t) && (t.kind === 'and' || t.kind === 'or') && isTermList([t], n)) &&
    Array.isArray(r.players) && r.players.length === n && r.players.every((p) => typeof p === 'string') && Number.isInteger(r.target) && (r.target as number) >= 0;
}

/** Whether every term of a decoded list is {players: ascending distinct integers in 0..n−1, value: finite} (an
 *  index's value may be NaN where an index is undefined for a term, hence `anyNumber`). */
function isTermList(terms: unknown, n: number, anyNumber = false): boolean {
  return Array.isArray(terms) && terms.every((t: { players?: unknown; value?: unknown } | null) =>
    !!t && (anyNumber ? typeof t.value === 'number' : Number.isFinite(t.value)) && Array.isArray(t.players) && t.players.every((p: unknown, k: number, ps: unknown[]) => Number.isInteger(p) && (p as number) >= 0 && (p as number) < n && (k === 0 || (p as number) > (ps[k - 1] as number))));
}

/** A decoded cache entry that is a whole sparse result (its term lists checked term by term). */
export function isSparseUnitResult(value: unknown): value is SparseResult {
  if (!isSparseResult(value)) return false;
  const r = value as Partial<SparseResult>;
  const n = r.n ?? -1;
  return Number.isInteger(n) && n >= 1 && isTermList(r.and, n) && isTermList(r.or, n) && hasReport(r, n) && isObject(r.faithfulness) && isObject(r.faithfulness.or) && isObject(r.values) && isObject(r.tolerance) && isObject(r.fit);
}

/** A decoded cache entry that is a whole result of either method. */
export const isUnitResult = (value: unknown): value is ExplainResult | SparseResult => isExplainResult(value) || isSparseUnitResult(value);


/** Consecutive runs of an index list as [start, length] pairs, when they are shorter than the list. */
export function toRuns(indices: Int32Array): Int32Array | undefined {
  const pairs: number[] = [];
  for (let i = 0; i < indices.length; ) {
    let j = i + 1;
    while (j < indices.length && indices[j] === indices[j - 1] + 1) j++;
    pairs.push(indices[i], j - i);
    if (pairs.length >= indices.length) return undefined;
    i = j;
  }
  return Int32Array.from(pairs);
}

/** The index list of toRuns' pairs; undefined when they are not well-formed. */
export function fromRuns(runs: Int32Array): Int32Array | undefined {
  if (runs.length % 2 !== 0) return undefined;
  let total = 0;
  for (let k = 1; k < runs.length; k += 2) {
    if (runs[k] < 1) return undefined;
    total += runs[k];
  }
  const out = new Int32Array(total);
  let at = 0;
  for (let k = 0; k < runs.length; k += 2) for (let e = 0; e < runs[k + 1]; e++) out[at++] = runs[k] + e;
  return out;
}

/** A term of a stored list: its kind when the list has kinds, its players, its mask when the list has masks. */
interface Term {
  readonly kind?: 'and' | 'or';
  readonly players: readonly number[];
  readonly mask?: number;
  readonly value: number;
}

/** The key orders a packed list gives back, each exactly as the engine writes its terms. */
const SHAPES = [
  ['kind', 'players', 'mask', 'value'],
  ['kind', 'players', 'value'],
  ['players', 'value'],
] as const;

/** A list of terms as columns. Term t has players[starts[t]..starts[t+1]), or the bits of masks[t] when there are
 *  masks and no players; kinds[t] is 0 for 'and', 1 for 'or'. */
interface PackedTerms {
  readonly shape: number;
  readonly kinds?: Uint8Array;
  readonly starts?: Int32Array;
  readonly players?: Int32Array;
  readonly masks?: Float64Array;
  readonly values: Float64Array;
}

const KINDS = ['and', 'or'] as const;

function isPacked(value: unknown): value is PackedTerms {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && (value as { values?: unknown }).values instanceof Float64Array;
}

/** The shape every term of a list has (the same keys, in the same order), or -1. */
function shapeOf(list: readonly unknown[]): number {
  if (list.length === 0) return -1;
  const keys = Object.keys(list[0] as object);
  const shape = SHAPES.findIndex((s) => s.length === keys.length && s.every((k, i) => keys[i] === k));
  if (shape < 0) return -1;
  for (const term of list) {
    if (term === null || typeof term !== 'object') return -1;
    const t = term as Term;
    const own = Object.keys(t);
    if (own.length !== keys.length || !own.every((k, i) => k === keys[i])) return -1;
    if (typeof t.value !== 'number' || !Array.isArray(t.players) || !t.players.every((p) => Number.isInteger(p) && p >= 0 && p < 2 ** 31)) return -1;
    if ('kind' in t && t.kind !== 'and' && t.kind !== 'or') return -1;
    if ('mask' in t && !(Number.isSafeInteger(t.mask) && (t.mask as number) >= 0)) return -1;
  }
  return shape;
}

/** A list of terms as columns, when every term has one of SHAPES; else the list itself. */
function packTerms(list: readonly unknown[]): unknown {
  const shape = shapeOf(list);
  if (shape < 0) return list;
  const terms = list as readonly Term[];
  // loops, not TypedArray.from(list, map): V8 runs that through the iterator protocol, ~10× slower on long lists
  const values = new Float64Array(terms.length);
  const kinds = SHAPES[shape].includes('kind' as never) ? new Uint8Array(terms.length) : undefined;
  const masks = shape === 0 ? new Float64Array(terms.length) : undefined;
  for (let t = 0; t < terms.length; t++) {
    values[t] = terms[t].value;
    if (kinds) kinds[t] = terms[t].kind === 'or' ? 1 : 0;
    if (masks) masks[t] = terms[t].mask!;
  }
  // the masks alone, where every term's players are its mask's bits
  if (masks && terms.every((t) => samePlayers(t.players, playersOfMask(t.mask!)))) return { shape, kinds, masks, values };
  const starts = new Int32Array(terms.length + 1);
  for (let t = 0; t < terms.length; t++) starts[t + 1] = starts[t] + terms[t].players.length;
  const players = Int32Array.from(terms.flatMap((t) => t.players));
  return { shape, ...(kinds ? { kinds } : {}), starts, players, ...(masks ? { masks } : {}), values };
}

function samePlayers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/** The terms of a packed list; undefined when its columns do not fit together (the entry is then recomputed). Their
 *  players are checked later, with the result (isUnitResult, above). */
function unpackTerms(packed: PackedTerms, n: number): Term[] | undefined {
  const { shape, kinds, starts, players, masks, values } = packed;
  const count = values.length;
  const keys = SHAPES[shape];
  if (!keys) return undefined;
  if (keys.includes('kind' as never) !== kinds instanceof Uint8Array || (kinds && kinds.length !== count)) return undefined;
  if ((shape === 0) !== masks instanceof Float64Array || (masks && masks.length !== count)) return undefined;
  const fromMasks = !!masks && starts === undefined && players === undefined;
  if (!fromMasks && !(starts instanceof Int32Array && players instanceof Int32Array && starts.length === count + 1 && starts[0] === 0 && starts[count] === players.length)) return undefined;
  const out: Term[] = new Array(count);
  for (let t = 0; t < count; t++) {
    const kind = kinds ? KINDS[kinds[t]] : undefined;
    if (kinds && kind === undefined) return undefined;
    const mask = masks?.[t];
    if (mask !== undefined && !(Number.isSafeInteger(mask) && mask >= 0 && mask < 2 ** n)) return undefined;
    let termPlayers: number[];
    if (fromMasks) termPlayers = playersOfMask(mask!);
    else {
      if (starts![t + 1] < starts![t]) return undefined;
      termPlayers = Array.from(players!.subarray(starts![t], starts![t + 1]));
    }
    out[t] = shape === 0 ? { kind, players: termPlayers, mask, value: values[t] } : shape === 1 ? { kind, players: termPlayers, value: values[t] } : { players: termPlayers, value: values[t] };
  }
  return out;
}
