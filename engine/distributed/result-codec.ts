// A unit's result in the queue's results table: its stored form (engine/explain/stored-result.ts, as in the disk
// cache) as text, since the table holds text (engine/explain/cache.ts's text codec). No I/O here.
import { decodeEntry, encodeEntry } from '../explain/cache.js';
import { restoreResult, storeResult } from '../explain/stored-result.js';
import type { ExplainUnit, UnitResult } from '../explain/units.js';

/**
 * Encodes a result for the results table.
 * @param unit - the unit it is the result of
 * @param result - its result
 */
export function encodeResult(unit: ExplainUnit, result: UnitResult): string {
  return encodeEntry(storeResult(unit.sample, result, unit.key));
}

/**
 * Decodes a stored result, restoring layout values from the unit's sample.
 * @param unit - the unit whose key the result is stored under
 * @param text - the stored text
 * @returns the result, or undefined when the text is not a well-formed result of this unit (it is then recomputed)
 */
export function decodeResult(unit: ExplainUnit, text: string): UnitResult | undefined {
  return restoreResult(unit, decodeEntry(text), unit.key);
}
