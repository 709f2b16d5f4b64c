// The least-squares refit of a found support: every coefficient re-estimated jointly on the masks the method
// evaluated (never on held-out masks), either all of them or only the small ones (≤ d players), which no term of
// order above d can touch. Averages out noise in single-evaluation estimates; an exact warm start stays exact.
import { PlayerBitsets } from './bitsets.js';
import { incidenceApply, scaledIncidence, solveLeastSquares, type Incidence, type SolveReport, type SolveTarget } from './least-squares.js';
import { rowSize } from './masks.js';
import type { SampleLog } from './sample-log.js';
import type { TermStore } from './terms.js';

/**
 * Which stored terms each logged mask contains, as a 0/1 incidence matrix: per term, the rows holding all its
 * players (an AND of per-player bitsets, bitsets.ts), then those lists turned into rows.
 * @param store - the terms (columns)
 * @param log - the masks (rows)
 * @param rows - the logged rows to use
 * @param throwIfCancelled - called every 256 terms
 * @returns the incidence matrix, one row per entry of rows, its columns ascending
 */
export function termIncidence(store: TermStore, log: SampleLog, rows: Int32Array, throwIfCancelled: () => void): Incidence {
  const bitsets = new PlayerBitsets(log.masks(), rows);
  const held = new Uint32Array(bitsets.words);
  // two passes over the terms' bitsets (made twice: held for all terms at once, they would take terms × rows / 8
  // bytes): the count per row, then the columns
  const rowStart = new Int32Array(rows.length + 1);
  for (let t = 0; t < store.size; t++) {
    if ((t & 255) === 0) throwIfCancelled();
    bitsets.holding(store.players(t), held);
    for (let w = 0; w < held.length; w++) {
      let word = held[w] | 0;
      while (word !== 0) {
        const low = word & -word;
        rowStart[32 * w + 32 - Math.clz32(low)]++;
        word ^= low;
      }
    }
  }
  for (let k = 0; k < rows.length; k++) rowStart[k + 1] += rowStart[k];
  const cols = new Int32Array(rowStart[rows.length]);
  const fill = rowStart.slice(0, rows.length);
  for (let t = 0; t < store.size; t++) {
    bitsets.holding(store.players(t), held);
    for (let w = 0; w < held.length; w++) {
      let word = held[w] | 0;
      while (word !== 0) {
        const low = word & -word;
        cols[fill[32 * w + 31 - Math.clz32(low)]++] = t;
        word ^= low;
      }
    }
  }
  return { rows: rows.length, columns: store.size, rowStart, cols };
}

/** Which logged masks a refit uses, and when it is wanted. */
export interface RefitChoice {
  readonly maxPlayers?: number;
  readonly skip?: (row: number) => boolean;
  readonly target?: SolveTarget;
}

/** A refit uses at most max(REFIT_ROWS, REFIT_ROWS_PER_TERM · terms) logged masks. */
const REFIT_ROWS = 4096;
const REFIT_ROWS_PER_TERM = 8;
const REFIT_ITERATIONS = 200;
/** CGLS stops once ‖Aᵀr‖ ≤ REFIT_TOLERANCE·‖Aᵀb‖ (at 1e-6 the recovery took 39.7 % of a patches-49 run of 10^5
 *  evaluations, at 1e-4 4.9 %, with the same R²: bench/sparse-real.bench.js). */
const REFIT_TOLERANCE = 1e-4;

/**
 * Re-estimates every stored coefficient by least squares on logged masks (evenly spaced ones beyond
 * max(REFIT_ROWS, REFIT_ROWS_PER_TERM · terms)), warm-started at the current values.
 * @param store - the terms; their values are replaced (unless the solve gave up: then they are left as they were)
 * @param log - evaluated masks and values
 * @param throwIfCancelled - cancellation check
 * @param choice - maxPlayers: use only masks with at most this many players (default all masks); skip: logged rows
 *   not to use (default none); target: the refit is wanted only if its rms residual falls to target.rms
 * @returns iterations, the final residual norm, whether the solve gave up, and the number of masks used
 */
export function refitTerms(store: TermStore, log: SampleLog, throwIfCancelled: () => void, choice: RefitChoice = {}): SolveReport & { readonly rows: number } {
  const { maxPlayers = Infinity, skip, target } = choice;
  const masks = log.masks();
  const chosen: number[] = [];
  for (let r = 0; r < masks.count; r++) if ((maxPlayers === Infinity || rowSize(masks, r) <= maxPlayers) && !skip?.(r)) chosen.push(r);
  // evenly spaced rows beyond the cap: the statistical error barely moves, the cost (rows × terms) stays bounded
  const cap = Math.max(REFIT_ROWS, REFIT_ROWS_PER_TERM * store.size);
  const rows = chosen.length <= cap ? Int32Array.from(chosen) : Int32Array.from({ length: cap }, (_, k) => chosen[Math.floor((k * chosen.length) / cap)]);
  const values = new Float64Array(rows.length);
  const logged = log.values();
  for (let k = 0; k < rows.length; k++) values[k] = logged[rows[k]];
  const { operator, scale } = scaledIncidence(termIncidence(store, log, rows, throwIfCancelled));
  // solve for z = x / scale; a column no mask contains keeps its value
  const z = new Float64Array(store.size);
  for (let t = 0; t < store.size; t++) z[t] = scale[t] > 0 ? store.value(t) / scale[t] : 0;
  // noisy data (a refit only runs on a noisy game, or under a noise floor): the statistical error (≈ σ/√masks) is
  // far above REFIT_TOLERANCE of the solution, so stop there
  const report = solveLeastSquares(operator, values, z, Math.min(REFIT_ITERATIONS, 4 * store.size + 50), throwIfCancelled, REFIT_TOLERANCE, target);
  if (!report.gaveUp) for (let t = 0; t < store.size; t++) if (scale[t] > 0) store.setValue(t, z[t] * scale[t]);
  return { ...report, rows: rows.length };
}

/**
 * The stored terms' sum on chosen logged masks (through their incidence matrix).
 * @param store - the terms, at their current values
 * @param log - the masks
 * @param rows - the logged rows
 * @param throwIfCancelled - cancellation check
 * @returns one value per row
 */
export function predictRows(store: TermStore, log: SampleLog, rows: Int32Array, throwIfCancelled: () => void): Float64Array {
  const values = new Float64Array(store.size);
  for (let t = 0; t < store.size; t++) values[t] = store.value(t);
  const out = new Float64Array(rows.length);
  incidenceApply(termIncidence(store, log, rows, throwIfCancelled), values, out);
  return out;
}
