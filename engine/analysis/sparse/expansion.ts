// Using a recovered expansion: v(T) = Σ_{S⊆T} m(S) on a mask batch, and the R² that reports faithfulness on
// held-out masks. Callers' terms and masks are checked here; the engine's own hot path uses TermStore directly.
import { InvalidInputError, ShapeMismatchError } from '../../contracts/errors.js';
import { wordsFor } from './masks.js';
import { TermStore } from './terms.js';
import type { MaskBatch, SparseTerm } from './types.js';

/**
 * v(T) = Σ_{S⊆T} m(S) for each row of a mask batch.
 * @param terms - Möbius terms (players in 0..n−1; a support listed twice adds up)
 * @param masks - the rows to evaluate
 * @returns one value per row
 * @throws ShapeMismatchError when masks.words or masks.bits do not fit n and count
 * @throws InvalidInputError when a term names a player outside 0..n−1 or holds a non-finite value
 */
export function evaluateExpansion(terms: readonly SparseTerm[], masks: MaskBatch): Float64Array {
  assertBatch(masks);
  const store = new TermStore();
  for (const [k, term] of terms.entries()) {
    for (const i of term.players) {
      if (!Number.isInteger(i) || i < 0 || i >= masks.n) {
        throw new InvalidInputError(`terms[${k}] names player ${i}, but the masks have ${masks.n} players; players must be integers in 0..${masks.n - 1}.`);
      }
    }
    if (!Number.isFinite(term.value)) throw new InvalidInputError(`terms[${k}].value is ${term.value}; term values must be finite numbers.`);
    store.add(term.players, term.value);
  }
  const out = new Float64Array(masks.count);
  store.predict(masks, out);
  return out;
}

/**
 * Throws unless a batch is well formed.
 * @param masks - the batch
 * @throws ShapeMismatchError when words ≠ ⌈n/32⌉ or bits is shorter than count·words
 */
export function assertBatch(masks: MaskBatch): void {
  if (!Number.isInteger(masks.n) || masks.n < 0 || !Number.isInteger(masks.count) || masks.count < 0) {
    throw new ShapeMismatchError(`A mask batch needs integer n ≥ 0 and count ≥ 0 (got n = ${masks.n}, count = ${masks.count}).`);
  }
  if (masks.words !== wordsFor(masks.n)) {
    throw new ShapeMismatchError(`A mask batch of n = ${masks.n} players must have words = ⌈n/32⌉ = ${wordsFor(masks.n)} (got ${masks.words}).`);
  }
  if (!(masks.bits instanceof Uint32Array) || masks.bits.length < masks.count * masks.words) {
    throw new ShapeMismatchError(
      `A mask batch of ${masks.count} rows × ${masks.words} words needs a Uint32Array of at least ${masks.count * masks.words} entries (got ${masks.bits?.length ?? 'none'}).`,
    );
  }
}

/**
 * Coefficient of determination of a prediction.
 * @param actual - observed values
 * @param predicted - predicted values, same length
 * @returns 1 − SSE/SST; NaN when there are no values; when the values are constant (SST = 0), 1 if the prediction
 *   matches them to round-off, else 0
 */
export function rSquared(actual: Float64Array, predicted: Float64Array): number {
  const count = actual.length;
  if (count === 0) return NaN;
  let mean = 0;
  for (let r = 0; r < count; r++) mean += actual[r];
  mean /= count;
  let sse = 0;
  let sst = 0;
  let scale = 0;
  for (let r = 0; r < count; r++) {
    sse += (actual[r] - predicted[r]) ** 2;
    sst += (actual[r] - mean) ** 2;
    scale += actual[r] ** 2;
  }
  if (sst <= 1e-24 * scale || sst === 0) return sse <= 1e-20 * (scale + 1e-300) ? 1 : 0;
  return 1 - sse / sst;
}
