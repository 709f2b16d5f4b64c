// The stored form of a unit's result: the exact codec of engine/explain/cache.ts, less two bulks. A result's input
// layout holds the sample's values (for an image, MBs: most of the result); when they are the very values of the
// unit's sample they are stored as the marker "sample" and restored from the reader's unit, which holds the same
// sample (its digest is part of the key the result is stored under). Its element indices (every pixel of every
// player: 150 KB for 4 cells of a 224×224 image) are runs of consecutive elements, stored as [start, length] pairs
// when that is shorter. No I/O here.
import { decodeEntry, encodeEntry } from '../explain/cache.js';
import { isUnitResult, type ExplainUnit, type UnitResult } from '../explain/units.js';
import type { Sample } from '../inputs/samples.js';

/** What stands in a stored result for layout values taken from the unit's sample. */
const FROM_SAMPLE = 'sample';

/** The sample's values of one input (all of them for a single-input sample). */
function sampleValues(sample: Sample, input: string): Float64Array | undefined {
  return sample.values instanceof Float64Array ? sample.values : sample.values[input];
}

/**
 * Encodes a result for the results table.
 * @param unit - the unit it is the result of
 * @param result - its result
 */
export function encodeResult(unit: ExplainUnit, result: UnitResult): string {
  const layout = result.layout;
  if (!layout) return encodeEntry(result);
  // only the same array, not equal values, may be left out: then the reader's sample gives them back exactly
  const values = sampleValues(unit.sample, layout.input) === layout.values ? FROM_SAMPLE : layout.values;
  const runs = toRuns(layout.indices);
  return encodeEntry({ ...result, layout: { ...layout, values, ...(runs ? { indices: { runs } } : {}) } });
}

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

/**
 * Decodes a stored result, restoring layout values from the unit's sample.
 * @param unit - the unit whose key the result is stored under
 * @param text - the stored text
 * @returns the result, or undefined when the text is not a well-formed result of this unit (it is then recomputed)
 */
export function decodeResult(unit: ExplainUnit, text: string): UnitResult | undefined {
  const value = decodeEntry(text);
  if (!isUnitResult(value)) return undefined;
  const layout = value.layout as (Omit<NonNullable<UnitResult['layout']>, 'values' | 'indices'> & { values: unknown; indices: unknown }) | undefined;
  if (!layout) return value;
  const values = layout.values === FROM_SAMPLE ? sampleValues(unit.sample, layout.input) : layout.values;
  const packed = (layout.indices as { runs?: unknown } | null)?.runs;
  const indices = packed instanceof Int32Array ? fromRuns(packed) : layout.indices;
  if (!(values instanceof Float64Array) || !(indices instanceof Int32Array)) return undefined;
  return { ...value, layout: { ...layout, values, indices } };
}
