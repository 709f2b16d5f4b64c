// Shared test helpers: the built package under test, float comparison, seeded randomness, brute-force references
// of the transforms, and paths of the bundled models.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect } from 'vitest';

export * from '../../dist/engine/index.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const MODELS = resolve(ROOT, 'models');
export const model = (file: string) => resolve(MODELS, file);
export const KERNEL_TARGETS = ['release', 'debug'] as const;
/** Named timeouts (ms). */
export const SLOW_MS = 120_000;

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, reporting the first offending index. */
export function expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, { atol = 1e-12, rtol = 0 } = {}): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const b = typeof expected === 'number' ? [expected] : Array.from(expected);
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(b[i]);
    if (!(Math.abs(a[i] - b[i]) <= tol)) {
      expect.fail(`index ${i}: ${a[i]} vs ${b[i]} (|diff| ${Math.abs(a[i] - b[i])} > ${tol})`);
    }
  }
}

/** Mulberry32: a small seeded PRNG, values in [0, 1). */
export function seededRng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** length values uniform in [−1, 1), seeded. */
export function seededRandom(seed: number, length: number): Float64Array {
  const rng = seededRng(seed);
  return Float64Array.from({ length }, () => rng() * 2 - 1);
}

export const popcount = (m: number) => {
  let c = 0;
  for (; m; m &= m - 1) c++;
  return c;
};

/** Brute force, O(3^n): subset sums with optional Möbius signs, or superset sums. */
export function bruteForce(x: Float64Array, kind: 'zeta' | 'mobius' | 'zetaSuperset' | 'mobiusSuperset'): Float64Array {
  const size = x.length;
  const out = new Float64Array(size);
  for (let s = 0; s < size; s++) {
    let sum = 0;
    for (let t = 0; t < size; t++) {
      const related = kind.endsWith('Superset') ? (t & s) === s : (t & s) === t;
      if (!related) continue;
      const sign = kind.startsWith('mobius') && (popcount(s ^ t) & 1) ? -1 : 1;
      sum += sign * x[t];
    }
    out[s] = sum;
  }
  return out;
}

/** I_or by its definition (spec §1.4): −Σ_{T⊆S} (−1)^{|S|−|T|} v(N∖T) for S ≠ ∅, and I_or(∅) = v(∅). */
export function bruteForceOr(v: Float64Array): Float64Array {
  const size = v.length;
  const full = size - 1;
  const out = new Float64Array(size);
  for (let s = 1; s < size; s++) {
    let sum = 0;
    for (let t = 0; t < size; t++) if ((t & s) === t) sum += (popcount(s ^ t) & 1 ? -1 : 1) * v[full ^ t];
    out[s] = -sum;
  }
  out[0] = v[0];
  return out;
}

/** A sum of unanimity games: v(T) = Σ_k c_k·[S_k ⊆ T]; its Möbius coefficients are c_k at S_k and 0 elsewhere. */
export function unanimityGame(n: number, terms: readonly { mask: number; weight: number }[]): Float64Array {
  const v = new Float64Array(1 << n);
  for (let t = 0; t < v.length; t++) for (const { mask, weight } of terms) if ((mask & t) === mask) v[t] += weight;
  return v;
}

/** Dense Gaussian elimination with partial pivoting: solves M x = b. */
export function denseSolve(m: Float64Array, b: Float64Array): Float64Array {
  const size = b.length;
  const a = Float64Array.from(m);
  const x = Float64Array.from(b);
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let r = col + 1; r < size; r++) if (Math.abs(a[r * size + col]) > Math.abs(a[pivot * size + col])) pivot = r;
    for (let c = 0; c < size; c++) [a[col * size + c], a[pivot * size + c]] = [a[pivot * size + c], a[col * size + c]];
    [x[col], x[pivot]] = [x[pivot], x[col]];
    for (let r = col + 1; r < size; r++) {
      const f = a[r * size + col] / a[col * size + col];
      for (let c = col; c < size; c++) a[r * size + c] -= f * a[col * size + c];
      x[r] -= f * x[col];
    }
  }
  for (let r = size - 1; r >= 0; r--) {
    let s = x[r];
    for (let c = r + 1; c < size; c++) s -= a[r * size + c] * x[c];
    x[r] = s / a[r * size + r];
  }
  return x;
}

/**
 * Writes a small sample set of a checkpoint series to `file`: the first `train`, `test` and `ood` samples of its
 * samples.json, in that order (dynamics tests that need every split without every sample).
 * @returns the file's path
 */
export async function seriesSamples(series: string, file: string, { train = 3, test = 3, ood = 2 } = {}): Promise<string> {
  const set = JSON.parse(await readFile(resolve(series, 'samples.json'), 'utf8'));
  const pick = (split: string, count: number) => set.samples.filter((s: { split: string }) => s.split === split).slice(0, count);
  await writeFile(file, JSON.stringify({ ...set, samples: [...pick('train', train), ...pick('test', test), ...pick('ood', ood)] }));
  return file;
}
