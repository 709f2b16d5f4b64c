// The sparse method's low-order completion (engine/analysis/sparse/completion.ts) and its two kernels
// (assembly/kernels/least-squares.ts): the bitset Gram (bitGramF32) and the CG solve (conjugateGradientsF32), each
// against a plain-JS loop doing the same work on the same data in the same run, then the whole completion of one
// expansion (Gram, solve and the JS around them) at n = 20 and n = 49.
// Usage: node bench/least-squares.bench.js [--quick] [--save]
import { loadKernels } from '../dist/bindings/index.js';
import { completeLowOrder, completionMasks, completions } from '../dist/engine/analysis/sparse/completion.js';
import { popcount32, randomMasks } from '../dist/engine/analysis/sparse/masks.js';
import { createRng } from '../dist/engine/analysis/sparse/random.js';
import { progress, runSuite, timeRuns } from './harness.js';

/** Found terms beside the order ≤ 2 columns (completion.ts's room for them), and CG steps timed. */
const FOUND = 128;
const CG_STEPS = 40;

/** The Gram of the kernel's definition, by plain JS over the same 32-bit words. */
function jsGram(bits, counts, m, parities, words32, rows, out) {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let count = 0;
      const a = i * words32;
      const b = j * words32;
      if (i < parities) for (let w = 0; w < words32; w++) count += popcount32(bits[a + w] ^ bits[b + w]);
      else for (let w = 0; w < words32; w++) count += popcount32(bits[a + w] & bits[b + w]);
      const value = i < parities ? rows - 2 * count : j >= parities ? count : counts[i] - 2 * count;
      out[i * m + j] = value;
      out[j * m + i] = value;
    }
  }
}

/** CG steps (matrix-vector product plus the vector updates) by plain JS over the same f32 Gram. */
function jsConjugateGradients(g, b, m, steps) {
  const x = new Float64Array(m);
  const r = Float64Array.from(b);
  const p = Float64Array.from(b);
  const q = new Float64Array(m);
  let rr = r.reduce((s, v) => s + v * v, 0);
  for (let k = 0; k < steps; k++) {
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += g[i * m + j] * p[j];
      q[i] = s;
    }
    let pq = 0;
    for (let i = 0; i < m; i++) pq += p[i] * q[i];
    const alpha = rr / pq;
    let next = 0;
    for (let i = 0; i < m; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * q[i];
      next += r[i] * r[i];
    }
    for (let i = 0; i < m; i++) p[i] = r[i] + (next / rr) * p[i];
    rr = next;
  }
  return x;
}

/** Kernels against JS for the Gram and CG_STEPS CG steps of an n-player completion's system (random bitsets). */
function kernelRow(kernels, n, runs) {
  const parities = 1 + n + (n * (n - 1)) / 2;
  const m = parities + FOUND;
  const rows = 2 * m;
  const words64 = Math.ceil(rows / 64);
  const random = createRng(n);
  const bits = kernels.alloc(m * words64);
  const counts = kernels.alloc(Math.ceil(m / 2));
  const gram = kernels.alloc(Math.ceil((m * m) / 2));
  const rhs = kernels.alloc(m);
  const x = kernels.alloc(m);
  const work = kernels.alloc(5 * m);
  const memory = kernels.view(bits).buffer;
  const words = new Uint32Array(memory, bits.ptr, 2 * m * words64);
  for (let c = 0; c < m; c++) {
    for (let w = 0; w < 2 * words64; w++) {
      const row0 = 32 * w;
      const valid = row0 >= rows ? 0 : rows - row0 >= 32 ? 0xffffffff : (1 << (rows - row0)) - 1;
      words[c * 2 * words64 + w] = (c < parities ? random.uint32() : random.uint32() & random.uint32() & random.uint32()) & valid;
    }
  }
  const countView = new Int32Array(memory, counts.ptr, m);
  for (let c = 0; c < m; c++) {
    let k = 0;
    for (let w = 0; w < 2 * words64; w++) k += popcount32(words[c * 2 * words64 + w]);
    countView[c] = k;
  }
  const bitsCopy = Uint32Array.from(words);
  const countsCopy = Int32Array.from(countView);
  const kernelGram = timeRuns(() => kernels.call('bitGramF32', bits.ptr, counts.ptr, m, parities, words64, rows, gram.ptr, 0, m), { runs });
  const reference = new Float32Array(m * m);
  const jsGramTime = timeRuns(() => jsGram(bitsCopy, countsCopy, m, parities, 2 * words64, rows, reference), { runs: Math.min(runs, 2) });
  const g = new Float32Array(memory, gram.ptr, m * m);
  for (let k = 0; k < m * m; k++) if (g[k] !== reference[k]) throw new Error(`the kernel's Gram differs from the JS loop's at entry ${k} (n = ${n})`);
  const b = kernels.view(rhs);
  for (let i = 0; i < m; i++) b[i] = random.uint32() / 2 ** 32 - 0.5;
  const gCopy = Float32Array.from(g);
  const bCopy = Float64Array.from(b);
  // tolerance 0: exactly CG_STEPS steps, as the JS loop
  const kernelCg = timeRuns(() => kernels.call('conjugateGradientsF32', gram.ptr, rhs.ptr, x.ptr, work.ptr, m, 0, 0, CG_STEPS, 0, 0, 0, 0), { runs }); // no block: the diagonal's steps
  const jsCg = timeRuns(() => jsConjugateGradients(gCopy, bCopy, m, CG_STEPS), { runs: Math.min(runs, 3) });
  for (const buffer of [bits, counts, gram, rhs, x, work]) kernels.free(buffer);
  return {
    n, columns: m, rows,
    kernelGramMs: kernelGram.ms, jsGramMs: jsGramTime.ms, gramSpeedup: jsGramTime.ms / kernelGram.ms,
    kernelCgStepMs: kernelCg.ms / CG_STEPS, jsCgStepMs: jsCg.ms / CG_STEPS, cgSpeedup: jsCg.ms / kernelCg.ms,
  };
}

/** The whole completion of one expansion: random masks of a game with a dense order ≤ 2 spread, FOUND found triples;
 *  then as an auto search's fits run it (completions): half of those triples and as many candidate conjunctions of 4
 *  players (the room the masks leave is FOUND columns), the system solved without the candidates and then with them
 *  (one Gram, two solves). */
async function completionRow(kernels, n, runs) {
  const count = completionMasks(n, 5);
  const masks = randomMasks(n, count, createRng(100 + n));
  const random = createRng(200 + n);
  const values = Float64Array.from({ length: count }, () => random.uint32() / 2 ** 32);
  // FOUND distinct random triples
  const keys = new Set();
  const found = [];
  while (found.length < FOUND) {
    const players = [...new Set([0, 1, 2].map(() => random.uint32() % n))].sort((a, b) => a - b);
    if (players.length < 3 || keys.has(players.join())) continue;
    keys.add(players.join());
    found.push({ players, value: 1 + (found.length % 3) });
  }
  const time = timeRuns(() => completeLowOrder(kernels, found, { masks, values }, 5), { runs });
  const candidates = [];
  while (candidates.length < FOUND / 2) {
    const players = [...new Set([0, 1, 2, 3].map(() => random.uint32() % n))].sort((a, b) => a - b);
    if (players.length < 4 || keys.has(players.join())) continue;
    keys.add(players.join());
    candidates.push(players);
  }
  const both = [];
  for (let k = 0; k < runs; k++) {
    const start = performance.now();
    await completions(kernels, found.slice(0, FOUND / 2), { masks, values }, 5, candidates, async () => {});
    both.push(performance.now() - start);
  }
  both.sort((a, b) => a - b);
  return { n, masks: count, found: found.length, completionMs: time.ms, medianMs: time.medianMs, candidates: `${FOUND / 2} + ${candidates.length}`, bothMs: both[0], bothMedianMs: both[Math.floor(runs / 2)] };
}

async function run({ quick }) {
  const kernels = await loadKernels('release');
  const runs = quick ? 2 : 5;
  const sizes = quick ? [20] : [20, 49];
  const kernelRows = [];
  const completionRows = [];
  for (const n of sizes) {
    progress(`kernels against JS at n = ${n}`);
    kernelRows.push(kernelRow(kernels, n, runs));
    progress(`the completion of one expansion at n = ${n}`);
    completionRows.push(await completionRow(kernels, n, runs));
  }
  const largest = kernelRows.at(-1);
  return {
    suite: 'least-squares',
    args: { quick },
    tables: [
      {
        title: `least-squares kernels against plain JS on the same data (ms, fastest of ${runs} runs; JS: of fewer)`,
        columns: [
          ['n', 'n'], ['columns', 'columns'], ['rows', 'rows'], ['kernelGramMs', 'Gram kernel ms'], ['jsGramMs', 'Gram JS ms'], ['gramSpeedup', '×JS'],
          ['kernelCgStepMs', 'CG step kernel ms'], ['jsCgStepMs', 'CG step JS ms'], ['cgSpeedup', '×JS'],
        ],
        rows: kernelRows,
        notes: [
          `columns: every order ≤ 2 parity column of n players plus ${FOUND} indicator columns; rows: 2 per column, random bits.`,
          'The kernel Gram is checked equal to the JS loop\'s entry by entry; CG: the kernel with tolerance 0 runs exactly the steps timed.',
        ],
      },
      {
        title: 'the completion of one expansion (completeLowOrder: bitsets, Gram, decoupling, solve, back to Möbius terms)',
        columns: [['n', 'n'], ['masks', 'masks'], ['found', 'found terms'], ['completionMs', 'ms'], ['medianMs', 'median ms'], ['candidates', 'found + candidates'], ['bothMs', 'two solves ms'], ['bothMedianMs', 'median ms']],
        rows: completionRows,
        notes: [
          'values uniformly random: the solve runs to its tolerance or MAX_ITERATIONS, a harder case than a model\'s game.',
          'two solves: completions() as an auto search\'s fits call it, with half the found triples and as many conjunctions of 4 players as candidates: one Gram, the system without the candidates solved, then the whole one (from the first one\'s solution).',
        ],
      },
    ],
    targets: [
      { name: `bitGramF32 against a plain-JS loop, n = ${largest.n}`, goal: 'faster (no issue target; the completion\'s share of a run is judged in sparse-real)', value: `${largest.gramSpeedup.toFixed(1)}×`, met: largest.gramSpeedup > 1 },
      { name: `conjugateGradientsF32 against a plain-JS loop, n = ${largest.n}`, goal: 'faster (no issue target)', value: `${largest.cgSpeedup.toFixed(1)}×`, met: largest.cgSpeedup > 1 },
    ],
  };
}

await runSuite(run);
