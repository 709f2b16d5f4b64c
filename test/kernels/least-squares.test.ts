// The least-squares kernels of the sparse completion (release and debug builds): the bitset Gram against the dense
// product of the ±1 / 0-1 columns it stands for, and the conjugate-gradient solve (with the diagonal or a block
// preconditioner) against Gaussian elimination.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../../dist/bindings/index.js';
import type { F64Buffer, KernelHost } from '../../engine/contracts/kernels.js';
import { KERNEL_TARGETS, denseSolve, expectClose, seededRng } from '../helpers/index.js';

/** Copies values into a new kernel buffer. */
function upload(kernels: KernelHost, values: Float64Array): F64Buffer {
  const buffer = kernels.alloc(values.length);
  kernels.view(buffer).set(values);
  return buffer;
}

/** Copies values, rounded to f32, into a new kernel buffer of f32[length]. */
function uploadF32(kernels: KernelHost, values: Float64Array): F64Buffer {
  const buffer = kernels.alloc(Math.ceil(values.length / 2));
  new Float32Array(kernels.view(buffer).buffer, buffer.ptr, values.length).set(values);
  return buffer;
}

describe.each(KERNEL_TARGETS)('least-squares kernels (%s)', (target) => {
  let kernels: KernelHost;
  beforeAll(async () => {
    kernels = await loadKernels(target);
  });
  afterAll(() => expect(kernels.bytesInUse).toBe(0));

  it.each([[1, 1], [7, 63], [12, 64], [33, 130], [5, 1000], [41, 200]])('bitGramF32 with %i columns over %i rows equals the dense XᵀX', (m, rows) => {
    const random = seededRng(m * 1000 + rows);
    const words = Math.ceil(rows / 64);
    const bits = new Uint32Array(2 * m * words);
    const parities = Math.floor(random() * (m + 1));
    const kinds = Int32Array.from({ length: m }, (_, c) => (c < parities ? 0 : 1));
    const dense = new Float64Array(rows * m);
    const counts = new Int32Array(m);
    for (let c = 0; c < m; c++) {
      for (let r = 0; r < rows; r++) {
        const set = random() < 0.4;
        if (set) {
          bits[2 * c * words + (r >>> 5)] |= 1 << (r & 31);
          counts[c]++;
        }
        dense[r * m + c] = kinds[c] === 0 ? (set ? -1 : 1) : set ? 1 : 0;
      }
    }
    const bitsBuffer = kernels.alloc(m * words);
    const countsBuffer = kernels.alloc(Math.ceil(m / 2));
    const out = kernels.alloc(Math.ceil((m * m) / 2));
    const memory = kernels.view(bitsBuffer).buffer;
    new Uint32Array(memory, bitsBuffer.ptr, 2 * m * words).set(bits);
    new Int32Array(memory, countsBuffer.ptr, m).set(counts);
    kernels.call('bitGramF32', bitsBuffer.ptr, countsBuffer.ptr, m, parities, words, rows, out.ptr, 0, m);
    const expected = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let r = 0; r < rows; r++) expected[i * m + j] += dense[r * m + i] * dense[r * m + j];
    expectClose(new Float32Array(memory, out.ptr, m * m), expected, { atol: 0 });
    // in parts of row ranges, at bounds off the kernel's groups of four rows and across the parity columns' end: the same
    new Float32Array(memory, out.ptr, m * m).fill(-7);
    const bounds = [...new Set([0, Math.min(m, 3), Math.min(m, parities), Math.min(m, parities + 5), m])].sort((a, b) => a - b);
    for (let k = 0; k + 1 < bounds.length; k++) kernels.call('bitGramF32', bitsBuffer.ptr, countsBuffer.ptr, m, parities, words, rows, out.ptr, bounds[k], bounds[k + 1]);
    expectClose(new Float32Array(memory, out.ptr, m * m), expected, { atol: 0 });
    for (const buffer of [bitsBuffer, countsBuffer, out]) kernels.free(buffer);
  });

  it.each([1, 2, 9, 40, 201])('conjugateGradientsF32 solves a positive definite system of size %i as elimination does', (m) => {
    const random = seededRng(m);
    // G = AᵀA + I from a random A with 2m rows: symmetric, positive definite, moderately conditioned; rounded to f32
    // as the kernel reads it
    const rows = 2 * m;
    const a = Float64Array.from({ length: rows * m }, () => random() - 0.5);
    const g = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) for (let r = 0; r < rows; r++) g[i * m + j] += a[r * m + i] * a[r * m + j];
      g[i * m + i] += 1;
    }
    g.forEach((value, k) => (g[k] = Math.fround(value)));
    const b = Float64Array.from({ length: m }, () => random() - 0.5);
    const ridge = 1e-3;
    const ridged = Float64Array.from(g, (value, k) => (k % (m + 1) === 0 ? value * (1 + ridge) : value));
    const [gBuffer, bBuffer] = [uploadF32(kernels, g), upload(kernels, b)];
    const x = kernels.alloc(m);
    const work = kernels.alloc(5 * m);
    const iterations = kernels.call('conjugateGradientsF32', gBuffer.ptr, bBuffer.ptr, x.ptr, work.ptr, m, ridge, 1e-12, 10 * m, 0, 0, 0, 0);
    expect(iterations).toBeGreaterThan(0);
    expect(iterations).toBeLessThanOrEqual(10 * m);
    expectClose(kernels.view(x), denseSolve(ridged, b), { atol: 1e-9 });
    // calls of 3 iterations, each resuming the last: the same iterations and, bit for bit, the same x
    const whole = Float64Array.from(kernels.view(x));
    let resumed = 0;
    for (let taken = 3; taken === 3; resumed += taken) taken = kernels.call('conjugateGradientsF32', gBuffer.ptr, bBuffer.ptr, x.ptr, work.ptr, m, ridge, 1e-12, 3, resumed > 0 ? 1 : 0, 0, 0, 0);
    expect(resumed).toBe(iterations);
    expect(Array.from(kernels.view(x))).toEqual(Array.from(whole));
    // warm starts (resume 2) from the x given: the leading half's own solution padded with zeros, as the completion's
    // larger system starts, and a random x; each ends at the same solution
    const half = Math.ceil(m / 2);
    const leading = Float64Array.from({ length: half * half }, (_, k) => ridged[Math.floor(k / half) * m + (k % half)]);
    const start = new Float64Array(m);
    start.set(denseSolve(leading, b.subarray(0, half)));
    for (const from of [start, Float64Array.from({ length: m }, () => 10 * (random() - 0.5))]) {
      kernels.view(x).set(from);
      const warm = kernels.call('conjugateGradientsF32', gBuffer.ptr, bBuffer.ptr, x.ptr, work.ptr, m, ridge, 1e-12, 10 * m, 2, 0, 0, 0);
      expect(warm).toBeLessThanOrEqual(10 * m);
      expectClose(kernels.view(x), denseSolve(ridged, b), { atol: 1e-9 });
    }
    for (const buffer of [gBuffer, bBuffer, x, work]) kernels.free(buffer);
  });

  it.each([[1, 1], [12, 9], [40, 31], [137, 121]])('decoupleF32 (m = %i, %i low-order columns) gives the dense Tᵀ G T and Tᵀ b', (m, lowCount) => {
    const random = seededRng(31 * m + lowCount);
    const h = m - lowCount;
    // a symmetric G of integers, as a Gram is; each found column's part: up to 7 distinct low-order columns with
    // weights ±2^−s, as completion.ts's lowPart gives
    const g = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) g[i * m + j] = g[j * m + i] = Math.round(200 * (random() - 0.5));
    const b = Float64Array.from({ length: m }, () => random() - 0.5);
    const parts = Array.from({ length: h }, () => {
      const columns = [...new Set(Array.from({ length: 1 + Math.floor(random() * 7) }, () => Math.floor(random() * lowCount)))];
      const scale = 2 ** -(2 + Math.floor(random() * 4));
      return { columns, weights: columns.map(() => (random() < 0.5 ? scale : -scale)) };
    });
    // T = [[I, −C], [0, I]]: column lowCount + k of T is e_(lowCount + k) − Σ_u weights[u]·e_(columns[u])
    const t = new Float64Array(m * m);
    for (let i = 0; i < m; i++) t[i * m + i] = 1;
    parts.forEach(({ columns, weights }, k) => columns.forEach((c, u) => (t[c * m + lowCount + k] -= weights[u])));
    const expectedG = new Float64Array(m * m);
    const gt = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let r = 0; r < m; r++) gt[i * m + j] += g[i * m + r] * t[r * m + j];
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let r = 0; r < m; r++) expectedG[i * m + j] += t[r * m + i] * gt[r * m + j];
    const expectedB = new Float64Array(m);
    for (let i = 0; i < m; i++) for (let r = 0; r < m; r++) expectedB[i] += t[r * m + i] * b[r];
    const total = parts.reduce((sum, part) => sum + part.columns.length, 0);
    const [gBuffer, bBuffer] = [uploadF32(kernels, g), upload(kernels, b)];
    const indices = kernels.alloc(Math.ceil((h + 1 + total) / 2));
    const weights = kernels.alloc(Math.max(1, total));
    const memory = kernels.view(indices).buffer;
    const offsets = new Int32Array(memory, indices.ptr, h + 1);
    const columns = new Int32Array(memory, indices.ptr + 4 * (h + 1), total);
    parts.forEach((part, k) => {
      offsets[k + 1] = offsets[k] + part.columns.length;
      columns.set(part.columns, offsets[k]);
      kernels.view(weights).set(part.weights, offsets[k]);
    });
    kernels.call('decoupleF32', gBuffer.ptr, bBuffer.ptr, m, lowCount, h, indices.ptr, indices.ptr + 4 * (h + 1), weights.ptr);
    // dyadic sums of integers: exact in f32 at these sizes
    expectClose(new Float32Array(kernels.view(gBuffer).buffer, gBuffer.ptr, m * m), expectedG, { atol: 0 });
    expectClose(kernels.view(bBuffer), expectedB, { atol: 1e-14 });
    for (const buffer of [gBuffer, bBuffer, indices, weights]) kernels.free(buffer);
  });

  it.each([[30, 0, 30], [30, 12, 18], [40, 10, 20], [9, 8, 1]])('conjugateGradientsF32 with a block preconditioner (m = %i, block %i + %i) solves as elimination does, in fewer steps than the diagonal alone (the same with a block of one)', (m, start, size) => {
    const random = seededRng(7 * m + start);
    // columns of 0/1 entries over 4m rows; those of the block nested (each keeps a random half of the one before),
    // as a tree's conjunctions are: strongly correlated, which the diagonal preconditioner leaves to the iterations
    const rows = 4 * m;
    const columns = Array.from({ length: m }, () => Float64Array.from({ length: rows }, () => (random() < 0.5 ? 1 : 0)));
    for (let j = start + 1; j < start + size; j++) columns[j] = columns[j - 1].map((value) => (random() < 0.85 ? value : 0));
    const g = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let r = 0; r < rows; r++) g[i * m + j] += columns[i][r] * columns[j][r];
    for (let i = 0; i < m; i++) g[i * m + i] += 1;
    const b = Float64Array.from({ length: m }, () => random() - 0.5);
    const ridge = 1e-6;
    const ridged = Float64Array.from(g, (value, k) => (k % (m + 1) === 0 ? value * (1 + ridge) : value));
    // the block's lower Cholesky factor, by the textbook recurrence
    const factor = new Float64Array(size * size);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = ridged[(start + i) * m + start + j];
        for (let k = 0; k < j; k++) sum -= factor[i * size + k] * factor[j * size + k];
        factor[i * size + j] = i === j ? Math.sqrt(sum) : sum / factor[j * size + j];
      }
    }
    const [gBuffer, bBuffer, factorBuffer] = [uploadF32(kernels, g), upload(kernels, b), upload(kernels, factor)];
    const x = kernels.alloc(m);
    const work = kernels.alloc(5 * m);
    const solve = (blockSize: number, steps: number, resume: number) => kernels.call('conjugateGradientsF32', gBuffer.ptr, bBuffer.ptr, x.ptr, work.ptr, m, ridge, 1e-12, steps, resume, start, blockSize, factorBuffer.ptr);
    const diagonal = solve(0, 10 * m, 0);
    const expected = denseSolve(ridged, b);
    expectClose(kernels.view(x), expected, { atol: 1e-8 });
    const iterations = solve(size, 10 * m, 0);
    expectClose(kernels.view(x), expected, { atol: 1e-8 });
    // a block of one unknown is its diagonal entry
    if (size > 1) expect(iterations).toBeLessThan(diagonal);
    else expect(iterations).toBe(diagonal);
    // the whole system as the block: exact after one step
    if (size === m) expect(iterations).toBe(1);
    // resumed in calls of 2 steps: the same iterates, bit for bit
    const whole = Float64Array.from(kernels.view(x));
    let resumed = 0;
    for (let taken = 2; taken === 2; resumed += taken) taken = solve(size, 2, resumed > 0 ? 1 : 0);
    expect(resumed).toBe(iterations);
    expect(Array.from(kernels.view(x))).toEqual(Array.from(whole));
    // a block that does not fit within the m unknowns is none: the diagonal's iterates
    expect(kernels.call('conjugateGradientsF32', gBuffer.ptr, bBuffer.ptr, x.ptr, work.ptr, m, ridge, 1e-12, 10 * m, 0, m - size + 1, size, factorBuffer.ptr)).toBe(diagonal);
    for (const buffer of [gBuffer, bBuffer, factorBuffer, x, work]) kernels.free(buffer);
  });

  it('returns x = 0 without iterating for b = 0, and 0 for a zero column', () => {
    const m = 3;
    const g = Float64Array.from([2, 0, 0, 0, 0, 0, 0, 0, 5]);
    const [gBuffer, bBuffer] = [uploadF32(kernels, g), upload(kernels, new Float64Array(m))];
    const x = kernels.alloc(m);
    const work = kernels.alloc(5 * m);
    expect(kernels.call('conjugateGradientsF32', gBuffer.ptr, bBuffer.ptr, x.ptr, work.ptr, m, 1e-6, 1e-10, 100, 0, 0, 0, 0)).toBe(0);
    expectClose(kernels.view(x), new Float64Array(m), { atol: 0 });
    kernels.view(bBuffer).set([4, 0, 10]);
    kernels.call('conjugateGradientsF32', gBuffer.ptr, bBuffer.ptr, x.ptr, work.ptr, m, 0, 1e-14, 100, 0, 0, 0, 0);
    expectClose(kernels.view(x), [2, 0, 2], { atol: 1e-12 });
    for (const buffer of [gBuffer, bBuffer, x, work]) kernels.free(buffer);
  });
});
