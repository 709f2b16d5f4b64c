// What one call of a mask list costs, by list length, on the worker pool and on the calling thread, against the
// exact path's cost per mask on the same model and plan. The sparse method's game calls are small (one per search
// step, at most 64 rows), and its cost per evaluation is 2–90× the exact path's (sparse-real.bench.js, part 3): this
// suite splits that cost into the per-call overhead and onnxruntime's per-row cost at small batches, and times a long
// pool call while the calling thread computes beside it, as a sparse recovery does (the workers fill the cores).
//
//   node bench/call-latency.bench.js            # three models, lists of 1 … 4096 masks: about 2 min
//   node bench/call-latency.bench.js --quick    # digits-cnn only, fewer lengths
//
// Plans are built here as the engine builds them for these requests (tests/helpers/runners.ts does the same for
// the MLP): one player per feature (MLP, features 0–9), per 2×2 cell of digits-cnn's 8×8 image (4×4 grid), per 4×4
// cell of patches-49's 28×28 image (7×7 grid); absent at 0; reward gt-log-odds of the sample's label.
import { readFileSync } from 'node:fs';
import { PoolRunner } from '../dist/engine/pipeline/pool.js';
import { LocalRunner } from '../dist/engine/pipeline/runner.js';
import { BackendRegistry, candidatesFor } from '../dist/engine/pipeline/registry.js';
import { loadKernels, ortNodeBackend, ortWebBackend } from '../dist/bindings/index.js';
import { Rng } from '../dist/engine/analysis/sparse/random.js';
import { busyNote, foreignCpu, progress, runSuite, timeAsync } from './harness.js';

const ROOT = new URL('../', import.meta.url);
const path = (p) => new URL(p, ROOT).pathname;
const LENGTHS = [1, 2, 8, 32, 64, 512, 4096];
const QUICK_LENGTHS = [1, 8, 64, 4096];
/** From this length on, the same list is also timed as two calls of half its length at once. */
const PAIRED_FROM = 512;
/** The pool's and the calling thread's batch size for these plans (the engine's choice for small models). */
const BATCH = 256;
/** From this length on, a pool call is also timed while this thread works in slices of BUSY_SLICE_MS, one turn given
 *  away between them, as a sparse recovery's long steps do beside the other expansion's calls (pause.ts). */
const BUSY_FROM = 512;
const BUSY_SLICE_MS = 4;
/** At these lengths a call is also timed on a new plan of the same contents each time, as each explanation makes its
 *  own plans: its first call on a runner builds that plan's batch buffers (BuilderCache, masking.ts). */
const NEW_PLAN_LENGTHS = [8, 64, 512];

/** Keeps this thread busy in slices until the returned function is called (awaited: the last slice ends first). */
function busyThread() {
  let stop = false;
  let sink = 0;
  const done = (async () => {
    while (!stop) {
      const end = performance.now() + BUSY_SLICE_MS;
      while (performance.now() < end) sink += Math.sqrt(sink + 1);
      await new Promise((resume) => setImmediate(resume));
    }
    return sink;
  })();
  return () => {
    stop = true;
    return done;
  };
}

/** A grid plan: players = cells of a rows×cols grid over an image of `height`×`width` (one channel). */
function gridPlan({ file, samples, input, height, width, rows, cols }) {
  const set = JSON.parse(readFileSync(path(samples), 'utf8'));
  const sample = set.samples[0];
  const values = Float64Array.from(sample.x.flat(Infinity));
  const owned = [];
  for (let cell = 0; cell < rows * cols; cell++) {
    const r = Math.floor(cell / cols);
    const c = cell % cols;
    const out = [];
    for (let y = Math.floor((r * height) / rows); y < Math.floor(((r + 1) * height) / rows); y++) {
      for (let x = Math.floor((c * width) / cols); x < Math.floor(((c + 1) * width) / cols); x++) out.push(y * width + x);
    }
    owned.push(out);
  }
  return { file, plan: planOf(input, [1, height, width], values, owned, sample.label), exact: rows * cols <= 20 };
}

function planOf(input, sampleDims, values, owned, label) {
  const offsets = new Int32Array(owned.length + 1);
  owned.forEach((o, i) => (offsets[i + 1] = offsets[i] + o.length));
  return {
    n: owned.length,
    inputs: [{ name: input, dtype: 'float32', sampleDims, values }],
    masked: [{ name: input, offsets, indices: Int32Array.from(owned.flat()), baseline: new Float64Array(values.length) }],
    reward: { kind: 'gt-log-odds', target: label, output: 'logits' },
    batchAxis: { kind: 'dynamic' },
    batchSize: BATCH,
  };
}

function mlpModel() {
  const sample = JSON.parse(readFileSync(path('models/breast-cancer.samples.json'), 'utf8')).samples[0];
  const owned = Array.from({ length: 10 }, (_, i) => [i]);
  return { file: 'models/breast-cancer-mlp.onnx', plan: planOf('features', [30], Float64Array.from(sample.x), owned, sample.label), exact: true };
}

const MODELS = [
  { name: 'digits-cnn (16 cells)', ...gridPlan({ file: 'models/digits-cnn.onnx', samples: 'models/digits.samples.json', input: 'image', height: 8, width: 8, rows: 4, cols: 4 }) },
  { name: 'breast-cancer-mlp (10 features)', ...mlpModel() },
  { name: 'patches-49 (49 cells)', ...gridPlan({ file: 'models/patches-49.onnx', samples: 'models/patches-49.samples.json', input: 'image', height: 28, width: 28, rows: 7, cols: 7 }) },
];

/** count uniformly random masks of n players, seeded. */
function randomList(n, count, seed) {
  const rng = new Rng(seed);
  const words = Math.ceil(n / 32);
  const bits = new Uint32Array(count * words);
  const last = n % 32 === 0 ? 0xffffffff : 2 ** (n % 32) - 1;
  for (let r = 0; r < count; r++) for (let w = 0; w < words; w++) bits[r * words + w] = (rng.uint32() & (w === words - 1 ? last : 0xffffffff)) >>> 0;
  return { n, count, words, bits };
}

async function run({ quick }) {
  const lengths = quick ? QUICK_LENGTHS : LENGTHS;
  const models = quick ? MODELS.slice(0, 1) : MODELS;
  const foreign = foreignCpu();
  const runners = [
    ['pool (2 workers × 1 thread)', () => new PoolRunner({ workers: 2, threads: 1 }), true],
    ['calling thread (1 thread)', async () => new LocalRunner(new BackendRegistry().register(ortNodeBackend).register(ortWebBackend), 1, await loadKernels('release')), false],
  ];
  const rows = [];
  for (const [runnerName, create, pooled] of runners) {
    const runner = await create();
    try {
      for (const m of models) {
        await runner.open(m.name, readFileSync(path(m.file)), candidatesFor('cpu'));
        // the exact path: every mask of n ≤ 20 players in the plan's batches
        let exactUs;
        if (m.exact) {
          progress(`${runnerName}: ${m.name}, exact path (2^${m.plan.n} masks)`);
          const t = await timeAsync(() => runner.evaluate(m.name, m.plan), { minMs: 300, rounds: 3 });
          exactUs = (1e3 * t.ms) / 2 ** m.plan.n;
        }
        for (const length of lengths) {
          progress(`${runnerName}: ${m.name}, lists of ${length}`);
          const lists = Array.from({ length: 8 }, (_, k) => randomList(m.plan.n, length, 1000 * length + k));
          let next = 0;
          const t = await timeAsync(() => runner.evaluateMasks(m.name, m.plan, lists[next++ % lists.length]), { minMs: 300, rounds: 3 });
          // the same masks as two calls at once, as the AND and the OR expansion make them (long lists only)
          let halvesUs = '';
          if (length >= PAIRED_FROM) {
            const halves = lists.map((list) => [0, 1].map((h) => ({ ...list, count: length / 2, bits: list.bits.subarray((h * length * list.words) / 2, ((h + 1) * length * list.words) / 2) })));
            const p = await timeAsync(() => Promise.all(halves[next++ % halves.length].map((half) => runner.evaluateMasks(m.name, m.plan, half))), { minMs: 300, rounds: 3 });
            halvesUs = (1e3 * p.ms) / length;
          }
          // the same call on a plan made anew each time (same contents), as an explanation's first call is
          let newPlanUs = '';
          if (NEW_PLAN_LENGTHS.includes(length)) {
            const fresh = await timeAsync(() => runner.evaluateMasks(m.name, { ...m.plan }, lists[next++ % lists.length]), { minMs: 300, rounds: 3 });
            newPlanUs = (1e3 * fresh.ms) / length;
          }
          // the same call on the pool while this thread works beside it (the workers and this thread share the cores)
          let busyUs = '';
          if (pooled && length >= BUSY_FROM) {
            const b = await timeAsync(async () => {
              const stopBusy = busyThread();
              try {
                await runner.evaluateMasks(m.name, m.plan, lists[next++ % lists.length]);
              } finally {
                await stopBusy();
              }
            }, { minMs: 300, rounds: 3 });
            busyUs = (1e3 * b.ms) / length;
          }
          rows.push({
            runner: runnerName, model: m.name, length, msPerCall: t.ms, usPerMask: (1e3 * t.ms) / length, newPlanUs, halvesUs, busyUs,
            exactUsPerMask: exactUs ?? '', ratio: exactUs === undefined ? '' : (1e3 * t.ms) / length / exactUs,
          });
        }
      }
    } finally {
      await runner.dispose();
    }
  }
  const busy = busyNote(foreign.stop());
  return {
    suite: 'call-latency',
    args: { quick },
    tables: [
      {
        title: 'one evaluateMasks call by list length (fastest of 3 rounds of ≥ 300 ms), against the exact path per mask',
        columns: [['runner', 'runner'], ['model', 'model'], ['length', 'masks per call'], ['msPerCall', 'ms per call'], ['usPerMask', 'µs per mask'], ['newPlanUs', 'on a new plan each call, µs per mask'], ['halvesUs', 'as two halves at once, µs per mask'], ['busyUs', 'this thread busy, µs per mask'], ['exactUsPerMask', 'exact path µs per mask'], ['ratio', '× exact']],
        rows,
        notes: [
          `plans built here (see the header), batch size ${BATCH}; lists uniformly random, 8 of each length in turn; the exact path: runner.evaluate of all 2^n masks.`,
          'a list shorter than the batch runs as one model run of its own length (two rows for one: masking.ts), through one pool task.',
          `on a new plan each call (lengths ${NEW_PLAN_LENGTHS.join(', ')}): the plan copied before every call, as each explanation makes plans of its own; the runner builds that plan's batch buffers in each thread that evaluates it (the pool's workers, or this thread).`,
          `this thread busy: the pool call timed while the calling thread computes in slices of ${BUSY_SLICE_MS} ms with a turn given away between them (as the sparse recovery's long steps, analysis/sparse/pause.ts); the timing includes finishing the slice under way when the call ends.`,
          busy,
        ],
      },
    ],
    targets: [],
  };
}

await runSuite(run);
