// Least squares by CGLS over any linear operator, and the 0/1 incidence matrices (compressed rows: row r holds
// columns cols[rowStart[r]..rowStart[r+1])) that the support refit and the regression baseline build. Warm starts
// that already solve the system do no iteration. Knows nothing of games.

/** A matrix given by its products. */
export interface LinearOperator {
  readonly rows: number;
  readonly columns: number;
  /** out = A·x */
  apply(x: Float64Array, out: Float64Array): void;
  /** out = Aᵀ·y */
  applyTransposed(y: Float64Array, out: Float64Array): void;
}

/** A 0/1 matrix in compressed-row form. */
export interface Incidence {
  readonly rows: number;
  readonly columns: number;
  readonly rowStart: Int32Array;
  readonly cols: Int32Array;
}

/** How the solve went. */
export interface SolveReport {
  readonly iterations: number;
  /** ‖b − A x‖₂ at the end. */
  readonly residualNorm: number;
  /** It stopped early because the residual stayed above SolveTarget.rms (the solution is then not wanted). */
  readonly gaveUp?: boolean;
}

/** A solve wanted only if its root-mean-square residual ‖b − A x‖₂ / √rows falls to `rms`: it gives up after
 *  `within` iterations above it. */
export interface SolveTarget {
  readonly rms: number;
  readonly within: number;
}

/**
 * Minimises ‖b − A x‖₂ by CGLS, starting from x (updated in place).
 * see: Björck, Numerical Methods for Least Squares Problems (SIAM 1996), §7.4.1 (CGLS)
 * @param a - the operator
 * @param b - right-hand side, one per row
 * @param x - start and result, one per column
 * @param maxIterations - iteration cap
 * @param throwIfCancelled - called every iteration
 * @param tolerance - stop once ‖Aᵀr‖ ≤ tolerance · ‖Aᵀb‖ (default 1e-14: round-off, for exact fits)
 * @param target - give up once this many iterations left the residual above this level (default never)
 * @returns iterations and final residual norm
 */
export function solveLeastSquares(a: LinearOperator, b: Float64Array, x: Float64Array, maxIterations: number, throwIfCancelled: () => void, tolerance = 1e-14, target?: SolveTarget): SolveReport {
  const r = new Float64Array(a.rows);
  a.apply(x, r);
  for (let i = 0; i < a.rows; i++) r[i] = b[i] - r[i];
  const s = new Float64Array(a.columns);
  a.applyTransposed(r, s);
  const p = Float64Array.from(s);
  const q = new Float64Array(a.rows);
  let gamma = dot(s, s);
  const atb = new Float64Array(a.columns);
  a.applyTransposed(b, atb);
  // relative to ‖Aᵀb‖, so that a warm start that already solves the system does no iteration
  const stop = tolerance * tolerance * dot(atb, atb);
  let iterations = 0;
  const wanted = target ? target.rms * target.rms * a.rows : Infinity;
  while (iterations < maxIterations && gamma > stop) {
    // ‖r‖ only falls: above the target after `within` iterations, the caller drops the solution
    if (target && iterations >= target.within && dot(r, r) > wanted) return { iterations, residualNorm: Math.sqrt(dot(r, r)), gaveUp: true };
    throwIfCancelled();
    a.apply(p, q);
    const delta = dot(q, q);
    if (!(delta > 0)) break;
    const alpha = gamma / delta;
    for (let j = 0; j < a.columns; j++) x[j] += alpha * p[j];
    for (let i = 0; i < a.rows; i++) r[i] -= alpha * q[i];
    a.applyTransposed(r, s);
    const next = dot(s, s);
    iterations++;
    const beta = next / gamma;
    for (let j = 0; j < a.columns; j++) p[j] = s[j] + beta * p[j];
    gamma = next;
  }
  return { iterations, residualNorm: Math.sqrt(dot(r, r)) };
}

/**
 * The incidence matrix with every column scaled to unit norm (a Jacobi preconditioner for CGLS).
 * @param a - the incidence matrix
 * @returns the operator A·diag(scale) and scale (1/‖column‖; 0 for an empty column)
 */
export function scaledIncidence(a: Incidence): { readonly operator: LinearOperator; readonly scale: Float64Array } {
  const scale = new Float64Array(a.columns);
  for (let k = 0; k < a.cols.length; k++) scale[a.cols[k]]++;
  for (let j = 0; j < a.columns; j++) scale[j] = scale[j] > 0 ? 1 / Math.sqrt(scale[j]) : 0;
  // A·diag(scale)·x is A·(scale ⊙ x): one product per column, not one per non-zero
  const scaled = new Float64Array(a.columns);
  const operator: LinearOperator = {
    rows: a.rows,
    columns: a.columns,
    apply(x, out) {
      for (let j = 0; j < a.columns; j++) scaled[j] = scale[j] * x[j];
      incidenceApply(a, scaled, out);
    },
    applyTransposed(y, out) {
      incidenceTransposed(a, y, out);
      for (let j = 0; j < a.columns; j++) out[j] *= scale[j];
    },
  };
  return { operator, scale };
}

/**
 * out = Aᵀ·y for an incidence matrix.
 * @param a - the incidence matrix
 * @param y - one value per row
 * @param out - one value per column
 */
export function incidenceTransposed(a: Incidence, y: Float64Array, out: Float64Array): void {
  out.fill(0);
  const { rowStart, cols, rows } = a;
  for (let i = 0; i < rows; i++) {
    const yi = y[i];
    if (yi === 0) continue;
    for (let k = rowStart[i], end = rowStart[i + 1]; k < end; k++) out[cols[k]] += yi;
  }
}

/**
 * out = A·x for an incidence matrix.
 * @param a - the incidence matrix
 * @param x - one value per column
 * @param out - one value per row
 */
export function incidenceApply(a: Incidence, x: Float64Array, out: Float64Array): void {
  const { rowStart, cols, rows } = a;
  let k = 0;
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (const end = rowStart[i + 1]; k < end; k++) sum += x[cols[k]];
    out[i] = sum;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}
