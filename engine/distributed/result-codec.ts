// The stored form of a unit's result: the exact codec of engine/explain/cache.ts, less one copy. A result's input
// layout holds the sample's values (for an image, MBs: most of the result); when they are the very values of the
// unit's sample they are stored as the marker "sample" and restored from the reader's unit, which holds the same
// sample (its digest is part of the key the result is stored under). No I/O here.
import { decodeEntry, encodeEntry } from '../explain/cache.js';
import type { ExplainResult } from '../explain/explain.js';
import { isExplainResult, type ExplainUnit } from '../explain/units.js';
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
export function encodeResult(unit: ExplainUnit, result: ExplainResult): string {
  const layout = result.layout;
  // only the same array, not equal values, may be left out: then the reader's sample gives them back exactly
  if (layout && sampleValues(unit.sample, layout.input) === layout.values) return encodeEntry({ ...result, layout: { ...layout, values: FROM_SAMPLE } });
  return encodeEntry(result);
}

/**
 * Decodes a stored result, restoring layout values from the unit's sample.
 * @param unit - the unit whose key the result is stored under
 * @param text - the stored text
 * @returns the result, or undefined when the text is not a well-formed result of this unit (it is then recomputed)
 */
export function decodeResult(unit: ExplainUnit, text: string): ExplainResult | undefined {
  const value = decodeEntry(text);
  if (!isExplainResult(value)) return undefined;
  const layout = value.layout as (Omit<NonNullable<ExplainResult['layout']>, 'values'> & { values: unknown }) | undefined;
  if (layout?.values !== FROM_SAMPLE) return value;
  const values = sampleValues(unit.sample, layout.input);
  return values ? { ...value, layout: { ...layout, values } } : undefined;
}
