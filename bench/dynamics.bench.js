// The whole `engine.dynamics` run on the bundled MLP checkpoint series, as the manifest's first `series` entry
// describes it (12 checkpoints × 40 samples plus 3 reference models × 32 train/test samples = 576 pairs, n = 10,
// default decomposition preset): wall time, pairs/s and the split into pairs (evaluation + decomposition) and the
// aggregation (theory fit, Jaccard, generalization), with the pair cache off, for several workers × threads; the same
// run with one pair in flight (no overlap) as the baseline; and a rerun on a warm cache (the resume path, no target).
// Usage: node bench/dynamics.bench.js [checkpoints] [--quick]   (checkpoints: how many of the series, default all 12)
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../dist/engine/index.js';
import { busyNote, foreignCpu, progress, runSuite } from './harness.js';

const MANIFEST = JSON.parse(readFileSync(new URL('../models/manifest.json', import.meta.url), 'utf8'));
const SERIES = MANIFEST.series[0];
const QUICK_CHECKPOINTS = 3;
/** Wall-time target of a cold run on a 2-core machine. */
const TARGET_S = 120;
/** Every run must report the same mean orders κ as the first, to this (different thread counts reorder float sums). */
const KAPPA_TOLERANCE = 1e-3;

/** The manifest's dynamics argv (--kebab-case value pairs) as a DynamicsRequest. */
function requestOf(argv) {
  const request = {};
  for (let i = 0; i < argv.length; i += 2) request[argv[i].slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = argv[i + 1];
  return request;
}

/** [label, engine options, dynamics options, cache] of every run, in order; `warm` reruns on the cache `fill` left. */
function plan(quick) {
  const runs = [
    ['workers 0 (threads 2)', { workers: 0 }, {}, 'off'],
    ['workers 2 × threads 1', { workers: 2, threads: 1 }, {}, 'off'],
  ];
  if (quick) return runs;
  return [
    ...runs,
    ['workers 1 × threads 1', { workers: 1, threads: 1 }, {}, 'off'],
    ['workers 2 × threads 1, concurrency 1', { workers: 2, threads: 1 }, { concurrency: 1 }, 'off'],
    ['workers 0 (threads 2), cache filled', { workers: 0 }, {}, 'fill'],
    ['workers 0 (threads 2), warm cache', { workers: 0 }, {}, 'warm'],
  ];
}

/** One explanation per sample of the last checkpoint (the dynamics pair options): where a pair's time goes. */
async function pairSplit(request, checkpoint, samples) {
  const engine = await createEngine({ backend: 'cpu', workers: 0 });
  const { players, baseline } = request;
  const sums = { evaluateMs: 0, decompositionMs: 0, interactionsMs: 0, totalMs: 0 };
  try {
    await engine.explain({ model: checkpoint, sample: samples, row: 0, players, baseline }); // warm-up: opens the session
    const count = JSON.parse(readFileSync(samples, 'utf8')).samples.length;
    for (let row = 0; row < count; row++) {
      const { timings } = await engine.explain({ model: checkpoint, sample: samples, row, players, baseline });
      for (const key of Object.keys(sums)) sums[key] += timings[key] / count;
    }
  } finally {
    await engine.dispose();
  }
  return sums;
}

async function run({ sizes, quick }) {
  const base = { ...requestOf(SERIES.dynamics) };
  const all = SERIES.checkpoints.map((c) => c.file);
  const count = sizes?.[0] ?? (quick ? QUICK_CHECKPOINTS : all.length);
  if (count < all.length) base.checkpoints = all.slice(0, count);
  const cacheDir = mkdtempSync(join(os.tmpdir(), 'andor-bench-cache-'));
  const rows = [];
  const suiteCpu = foreignCpu();
  let firstKappa;
  try {
    for (const [label, engineOptions, extra, cache] of plan(quick)) {
      progress(`dynamics: ${label}`);
      const cpu = foreignCpu();
      const createStart = performance.now();
      const engine = await createEngine({ backend: 'cpu', ...engineOptions });
      const createMs = performance.now() - createStart;
      let result;
      let wallMs;
      try {
        const start = performance.now();
        result = await engine.dynamics({ ...base, ...extra, cacheDir: cache === 'off' ? false : cacheDir });
        wallMs = performance.now() - start;
      } finally {
        await engine.dispose();
      }
      const kappa = result.checkpoints.map((c) => c.kappa);
      firstKappa ??= kappa;
      const kappaDiff = Math.max(...kappa.map((k, i) => Math.abs(k - firstKappa[i])));
      if (!(kappaDiff <= KAPPA_TOLERANCE)) throw new Error(`${label}: mean order κ differs from the first run's by ${kappaDiff}`);
      const pairs = result.pairs.computed + result.pairs.cached;
      rows.push({
        run: label,
        workers: engine.options.workers,
        threads: engine.options.threads,
        concurrency: extra.concurrency ?? 2,
        cache,
        checkpoints: result.checkpoints.length,
        pairs,
        computed: result.pairs.computed,
        cached: result.pairs.cached,
        wallS: wallMs / 1e3,
        pairsPerS: pairs / (wallMs / 1e3),
        pairsS: result.timings.pairsMs / 1e3,
        theoryS: result.timings.theoryMs / 1e3,
        msPerPair: result.timings.pairsMs / pairs,
        createMs,
        turningPoint: result.turningPoint,
        kappaDiff,
        cacheEntries: cache === 'off' ? undefined : readdirSync(cacheDir).length,
        busyPct: (cpu.stop()?.share ?? 0) * 100,
      });
    }
    progress('dynamics: per-pair split (explain on the last checkpoint, workers 0)');
    const split = await pairSplit(base, Array.isArray(base.checkpoints) ? base.checkpoints.at(-1) : all.at(-1), base.samples);
    return report(rows, split, quick, suiteCpu.stop());
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function report(rows, split, quick, foreign) {
  const find = (label) => rows.find((r) => r.run === label);
  const w0 = find('workers 0 (threads 2)');
  const w2 = find('workers 2 × threads 1');
  for (const row of rows) {
    const same = rows.find((r) => r.cache === 'off' && r.concurrency === 2 && r.workers === row.workers && r.threads === row.threads);
    if (row.concurrency === 1) row.overlapGain = row.wallS / same.wallS;
    if (row.cache === 'warm') row.resumeShare = row.wallS / same.wallS;
  }
  const full = rows[0].checkpoints === SERIES.checkpoints.length;
  const targets = [w0, w2].map((row) => ({
    name: `dynamics wall time, bc-mlp-series (${row.pairs} pairs, cache off), ${row.run}`,
    goal: `< ${TARGET_S} s on 2 cores${full ? '' : ' (full series only; this run has fewer checkpoints)'}`,
    value: `${row.wallS.toFixed(1)} s (${row.pairsPerS.toFixed(1)} pairs/s)`,
    met: row.wallS < TARGET_S,
  }));
  return {
    suite: 'dynamics',
    args: { quick, checkpoints: rows[0].checkpoints },
    foreignCpu: foreign,
    tables: [
      {
        title: `dynamics: the whole engine.dynamics run on ${SERIES.name} (n = 10, default preset; one run each, wall = the dynamics call)`,
        columns: [
          ['run', 'run'], ['workers', 'W'], ['threads', 'T'], ['concurrency', 'conc'], ['cache', 'cache'], ['pairs', 'pairs'], ['computed', 'computed'],
          ['wallS', 'wall s'], ['pairsPerS', 'pairs/s'], ['pairsS', 'pairs s'], ['theoryS', 'aggregate s'], ['msPerPair', 'ms/pair'],
          ['overlapGain', 'conc 1 / conc 2'], ['resumeShare', 'warm / cold'], ['createMs', 'createEngine ms'], ['turningPoint', 'turning pt'], ['kappaDiff', 'κ max diff'], ['busyPct', 'other %'],
        ],
        rows,
        notes: [
          'pairs s = timings.pairsMs (load + every pair: evaluation, decomposition, interactions); aggregate s = timings.theoryMs',
          '(theory fit, Jaccard, generalization). conc = pairs in flight (dynamics default 2). cache off = cacheDir: false; "filled"',
          'writes every pair to a fresh temporary cache, "warm" reruns on it (every pair read back). κ max diff: against the first run.',
          'other %: CPU share of other processes during the run (/proc/stat); above a few % the row is disturbed.',
          ...busyNote(foreign),
        ],
      },
      {
        title: 'dynamics: one pair (explain, default preset) on the last checkpoint, mean over the samples, workers 0',
        columns: [['evaluateMs', 'evaluate ms'], ['decompositionMs', 'decomposition ms'], ['interactionsMs', 'interactions ms'], ['totalMs', 'total ms']],
        rows: [split],
        notes: ['evaluation runs on the pool when workers ≥ 1; decomposition and interactions always run on the main thread.'],
      },
    ],
    targets,
  };
}

await runSuite(run, {
  threadsNote: 'onnxruntime intra-op threads and workers per row; decomposition kernels on the main thread',
  backend: 'onnxruntime-node CPU EP; andor WASM kernels (release, SIMD128)',
});
