// The AND-OR split (spec §2) as a linear program, for solver 'lp': the least Σ|I_and| + Σ|I_or| over γ and q, exactly
// (to the solver's tolerance), where the first-order solvers stop near it; the solver returns a vertex, a sparse split
// among those of least objective. The transforms enter as their butterflies (one row per element and stage, three
// entries each), not as the 3^n entries of their matrices: n·2^n rows that an interior-point method factors quickly
// (n = 10: 15 360 columns, about 1.5 s), where the dense form took a minute.
//
//   variables  a = v_and, o = v_or (free), q ∈ [−B, B]; each butterfly stage's outputs (free); t_and, t_or ≥ 0
//   minimise   Σ t_and + Σ t_or
//   subject to a + o − q = v                     (AND-OR: v_and = ½(v+q)+γ, v_or = ½(v+q)−γ, so γ = (a − o)/2)
//              a − q = v                         (AND only: v_and = v + q)
//              I_and = M a (subset Möbius), O = superset Möbius of o with O(N) = o(∅) (the kernels' OR block)
//              −t ≤ I_and ≤ t, −t ≤ O ≤ t
import type { LinearProgram } from '../contracts/kernels.js';

/** Most players solver 'lp' takes: at n = 10 a solve takes a median 1.62 s (bench/decompose.bench.js); at 11 one took
 *  257 s (interior point and crossover, ad hoc), at 12 one took 89 s for the interior point alone. */
export const LP_MAX_PLAYERS = 10;

/** The split's program, and where γ and q are in its solution. */
export interface SplitProgram {
  readonly program: LinearProgram;
  /** γ and q from the solution's column values (γ = 0 for AND only). */
  readonly split: (colValue: Float64Array) => { readonly gamma: Float64Array; readonly q: Float64Array };
}

/**
 * The LP of the split of v (the solver's scale) for n players.
 * @param andOr - learn γ and q (AND-OR), or q alone (AND only)
 * @param bound - the q bound B
 */
export function splitProgram(v: Float64Array, n: number, andOr: boolean, bound: number): SplitProgram {
  const size = 2 ** n;
  const stages = n * (size / 2);
  const blocks = andOr ? 2 : 1;
  const numCols = (blocks + 1) * size + blocks * (stages + size);
  const numRows = size + blocks * (stages + 2 * size);
  const colLower = new Float64Array(numCols).fill(-Infinity);
  const colUpper = new Float64Array(numCols).fill(Infinity);
  const colCost = new Float64Array(numCols);
  const rowLower = new Float64Array(numRows);
  const rowUpper = new Float64Array(numRows);
  const starts = new Int32Array(numRows + 1);
  const entries = size * (blocks + 1) + blocks * (3 * stages + 4 * size);
  const indices = new Int32Array(entries);
  const values = new Float64Array(entries);
  let cols = 0;
  let rows = 0;
  let at = 0;
  const column = (lower: number, upper: number, cost = 0): number => {
    colLower[cols] = lower;
    colUpper[cols] = upper;
    colCost[cols] = cost;
    return cols++;
  };
  const row = (lower: number, upper: number, ...terms: number[]): void => {
    for (let k = 0; k < terms.length; k += 2) {
      indices[at] = terms[k];
      values[at++] = terms[k + 1];
    }
    rowLower[rows] = lower;
    rowUpper[rows] = upper;
    starts[++rows] = at;
  };
  const a = Array.from({ length: size }, () => column(-Infinity, Infinity));
  const o = andOr ? Array.from({ length: size }, () => column(-Infinity, Infinity)) : [];
  const q = Array.from({ length: size }, () => column(-bound, bound));
  for (let i = 0; i < size; i++) {
    if (andOr) row(v[i], v[i], a[i], 1, o[i], 1, q[i], -1);
    else row(v[i], v[i], a[i], 1, q[i], -1);
  }
  /** The columns of a Möbius transform's output, one stage per player: out[i] = in[i] − in[partner], for the i that
   *  hold bit j (subset) or lack it (superset). */
  const mobius = (input: readonly number[], superset: boolean): number[] => {
    const current = input.slice();
    for (let j = 0; j < n; j++) {
      const bit = 1 << j;
      for (let i = 0; i < size; i++) {
        if (superset === ((i & bit) !== 0)) continue;
        const x = column(-Infinity, Infinity);
        // i and its partner differ in bit j only: this stage's earlier outputs never feed each other
        row(0, 0, x, 1, current[i], -1, current[i ^ bit], 1);
        current[i] = x;
      }
    }
    return current;
  };
  const bounded = (coefficients: readonly number[]): void => {
    for (const c of coefficients) {
      const t = column(0, Infinity, 1);
      row(-Infinity, 0, c, 1, t, -1);
      row(0, Infinity, c, 1, t, 1);
    }
  };
  bounded(mobius(a, false));
  if (andOr) {
    const orBlock = mobius(o, true);
    orBlock[size - 1] = o[0];
    bounded(orBlock);
  }
  const program: LinearProgram = { numCols, numRows, colCost, colLower, colUpper, rowLower, rowUpper, starts, indices, values };
  return {
    program,
    split(colValue) {
      const gamma = new Float64Array(size);
      if (andOr) for (let i = 0; i < size; i++) gamma[i] = 0.5 * (colValue[a[i]] - colValue[o[i]]);
      return { gamma, q: Float64Array.from(q, (c) => colValue[c]) };
    },
  };
}
