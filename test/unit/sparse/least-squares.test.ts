// CGLS on 0/1 incidence matrices (least-squares.ts): a consistent system is solved to round-off; a solve wanted only
// below a residual level gives up once it stays above it, and leaves a solve that reaches it alone.
import { describe, expect, it } from 'vitest';
import { incidenceApply, scaledIncidence, solveLeastSquares, type Incidence } from '../../../engine/analysis/sparse/least-squares.js';
import { createRng } from '../../../engine/analysis/sparse/random.js';

/** A random incidence matrix: each entry 1 with probability `density` (every row at least one column). */
function randomIncidence(rows: number, columns: number, density: number, seed: number): Incidence {
  const rng = createRng(seed);
  const rowStart = new Int32Array(rows + 1);
  const cols: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) if (rng.uniform() < density || (j === columns - 1 && cols.length === rowStart[i])) cols.push(j);
    rowStart[i + 1] = cols.length;
  }
  return { rows, columns, rowStart, cols: Int32Array.from(cols) };
}

const rms = (a: Incidence, x: Float64Array, b: Float64Array) => {
  const out = new Float64Array(a.rows);
  incidenceApply(a, x, out);
  let sum = 0;
  for (let i = 0; i < a.rows; i++) sum += (b[i] - out[i]) ** 2;
  return Math.sqrt(sum / a.rows);
};

describe('solveLeastSquares', () => {
  const a = randomIncidence(400, 40, 0.3, 1);
  const truth = Float64Array.from({ length: 40 }, (_, j) => Math.sin(j + 1));
  const exact = new Float64Array(a.rows);
  incidenceApply(a, truth, exact);
  const rng = createRng(2);
  const noisy = exact.map((value) => value + 3 * (rng.uniform() - 0.5));
  const never = () => undefined;

  it('solves a consistent system to round-off', () => {
    const { operator, scale } = scaledIncidence(a);
    const z = new Float64Array(40);
    const report = solveLeastSquares(operator, exact, z, 500, never);
    expect(report.gaveUp).toBeUndefined();
    z.forEach((value, j) => expect(value * scale[j]).toBeCloseTo(truth[j], 9));
  });

  it('gives up after `within` iterations when the residual stays above the target, and says so', () => {
    const { operator } = scaledIncidence(a);
    const full = new Float64Array(40);
    const best = solveLeastSquares(operator, noisy, full, 500, never);
    // the least-squares residual of the noisy system is about 3/√12 ≈ 0.87: a target of a tenth is out of reach
    expect(best.residualNorm / Math.sqrt(a.rows)).toBeGreaterThan(0.5);
    const z = new Float64Array(40);
    const report = solveLeastSquares(operator, noisy, z, 500, never, 1e-14, { rms: 0.1, within: 3 });
    expect(report.gaveUp).toBe(true);
    expect(report.iterations).toBe(3);
    expect(report.residualNorm).toBeGreaterThan(0.1 * Math.sqrt(a.rows));
  });

  it('goes on to the solution when the residual is at the target within `within` iterations', () => {
    const { operator, scale } = scaledIncidence(a);
    const reference = new Float64Array(40);
    solveLeastSquares(operator, noisy, reference, 500, never);
    const level = rms(a, reference.map((value, j) => value * scale[j]), noisy);
    // from the solution itself (a warm start that explains the data), and from zero with room to get there
    for (const [start, within] of [[Float64Array.from(reference), 0], [new Float64Array(40), 500]] as const) {
      const report = solveLeastSquares(operator, noisy, start, 500, never, 1e-14, { rms: 1.001 * level, within });
      expect(report.gaveUp).toBeUndefined();
      start.forEach((value, j) => expect(value).toBeCloseTo(reference[j], 6));
    }
  });
});
