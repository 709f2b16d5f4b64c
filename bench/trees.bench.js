// The tree proxy's split sums (engine/analysis/sparse/proxy.ts), the sparse method's costliest fit: the boosting
// loop's nibble-table kernel (treeNibblesF64) against the per-player scan it replaced (treeHistogramF64, kept as its
// reference), on the same rows of one tree level, and the whole boosting (fitProxy) at the same sizes for scale.
// Usage: node bench/trees.bench.js [--quick]
import { loadKernels } from '../dist/bindings/index.js';
import { fitProxy } from '../dist/engine/analysis/sparse/proxy.js';
import { createRng } from '../dist/engine/analysis/sparse/random.js';
import { measureOps, progress, runSuite, timeRunsAsync } from './harness.js';

/** Players and fit rows: digits-cnn's game at n = 16 (13 players change its input) and patches-49 in 7×7, 14×14 and
 *  28×28 cells, with about as many rows as their fits get (random masks and the search's). */
const SIZES = [[13, 3800], [49, 8000], [196, 16000], [784, 20000]];
const QUICK_SIZES = SIZES.slice(0, 2);
/** Share of players present: uniformly random masks, and the sparser masks of a search's late steps. */
const DENSITIES = [0.5, 0.1];
/** One level of a depth-5 tree: 8 nodes, the smaller child of each split holding a slot (rows of the others skipped). */
const NODES = 15;
const FIRST = 7;

function masksOf(n, rows, density, rng) {
  const words = Math.ceil(n / 32);
  const bits = new Uint32Array(rows * words);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) if (rng.uniform() < density) bits[r * words + (i >>> 5)] |= 1 << (i & 31);
  return { n, count: rows, words, bits };
}

async function run({ quick }) {
  const kernels = await loadKernels('release');
  const rows = [];
  for (const [n, count] of quick ? QUICK_SIZES : SIZES) {
    for (const density of DENSITIES) {
      progress(`n = ${n}, ${count} rows, density ${density}: split sums`);
      const rng = createRng(n * 31 + count);
      const masks = masksOf(n, count, density, rng);
      const words = masks.words;
      const residual = Float64Array.from({ length: count }, () => rng.uniform() - 0.5);
      const nodeOf = Int32Array.from({ length: count }, () => FIRST + rng.below(NODES - FIRST));
      const slots = Int32Array.from({ length: NODES }, (_, k) => (k >= FIRST && (k - FIRST) % 2 === 0 ? k - FIRST : -1));
      const rowList = Int32Array.from({ length: count }, (_, r) => r).filter(() => rng.uniform() < 0.8);
      const half = (length) => Math.ceil(length / 2);
      const [b, l, res, node, slot, out, table] = [
        kernels.alloc(half(masks.bits.length)), kernels.alloc(half(rowList.length)), kernels.alloc(count), kernels.alloc(half(count)), kernels.alloc(half(NODES)),
        kernels.alloc(2 * (NODES - FIRST) * n), kernels.alloc(kernels.call('treeTableF64', NODES - FIRST, words)),
      ];
      const memory = () => kernels.view(b).buffer;
      new Uint32Array(memory(), b.ptr, masks.bits.length).set(masks.bits);
      new Int32Array(memory(), l.ptr, rowList.length).set(rowList);
      kernels.view(res).set(residual);
      new Int32Array(memory(), node.ptr, count).set(nodeOf);
      new Int32Array(memory(), slot.ptr, NODES).set(slots);
      const scan = () => kernels.call('treeHistogramF64', b.ptr, words, n, l.ptr, rowList.length, res.ptr, node.ptr, slot.ptr, out.ptr);
      const nibbles = () => kernels.call('treeNibblesF64', b.ptr, words, n, l.ptr, rowList.length, res.ptr, node.ptr, slot.ptr, NODES, out.ptr, table.ptr);
      // both kernels' sums, from zero, must agree before either is timed
      kernels.view(out).fill(0);
      scan();
      const expected = kernels.view(out).slice();
      kernels.view(out).fill(0);
      nibbles();
      const got = kernels.view(out);
      let error = 0;
      for (let k = 0; k < expected.length; k++) error = Math.max(error, Math.abs(got[k] - expected[k]));
      if (!(error <= 1e-9)) throw new Error(`treeNibblesF64 disagrees with treeHistogramF64 at n = ${n}: ${error}`);
      const options = quick ? { maxTimeS: 0.1, minSamples: 5 } : { maxTimeS: 0.4, minSamples: 10 };
      const scanMs = measureOps(scan, options).ms;
      const nibblesMs = measureOps(nibbles, options).ms;
      for (const buffer of [b, l, res, node, slot, out, table]) kernels.free(buffer);
      let fitMs = '';
      if (density === 0.5) {
        // the whole boosting on a game of these masks: a tanh of a weighted sum, and a conjunction of six players
        progress(`n = ${n}: fitProxy`);
        const weights = Float64Array.from({ length: n }, () => rng.uniform() - 0.5);
        const has = (r, i) => (masks.bits[r * words + (i >>> 5)] >>> (i & 31)) & 1;
        const values = Float64Array.from({ length: count }, (_, r) => {
          let sum = 0;
          for (let i = 0; i < n; i++) if (has(r, i)) sum += weights[i];
          let all = 1;
          for (let i = 0; i < Math.min(6, n); i++) all &= has(r, i);
          return Math.tanh(sum) + 0.3 * all;
        });
        const timed = await timeRunsAsync(() => fitProxy(kernels, { masks, values }, 5, createRng(1), async () => {}), { runs: quick ? 1 : 3 });
        fitMs = timed.ms;
      }
      rows.push({ n, rows: count, listed: rowList.length, density, scanMs, nibblesMs, speedup: scanMs / nibblesMs, nsPerRow: (1e6 * nibblesMs) / rowList.length, fitMs });
    }
  }
  // the target on uniformly random masks, the fits' own (their search masks spread around density 0.5); the sparse
  // rows are shown, not judged
  const slowest = Math.min(...rows.filter((r) => r.density === 0.5 && r.n >= 49).map((r) => r.speedup));
  return {
    suite: 'trees',
    args: { quick },
    tables: [
      {
        title: 'trees: split sums of one tree level (8 nodes, 4 with slots), nibble tables against the per-player scan (ms per call)',
        columns: [
          ['n', 'n'], ['rows', 'rows'], ['listed', 'listed rows'], ['density', 'players present'], ['scanMs', 'scan ms'], ['nibblesMs', 'nibbles ms'],
          ['speedup', '×scan'], ['nsPerRow', 'nibbles ns/listed row'], ['fitMs', 'fitProxy ms (depth 5)'],
        ],
        rows,
        notes: [
          'scan: treeHistogramF64, (residual, 1) added at each present player of a row; nibbles: treeNibblesF64 (the boosting loop\'s), added once per',
          'non-zero nibble, then each player summed from its nibble\'s 8 entries. Both checked equal (1e-9) on the same rows first; benchmark.js means.',
          'fitProxy: the whole boosting (at most 200 trees, depth 5) on the uniform masks, fastest of 3 runs after a warm-up.',
        ],
      },
    ],
    targets: [{ name: 'nibble tables against the per-player scan, uniformly random masks, n ≥ 49', goal: 'faster (> 1×)', value: `slowest ${slowest.toFixed(2)}×`, met: slowest > 1 }],
  };
}

await runSuite(run);
