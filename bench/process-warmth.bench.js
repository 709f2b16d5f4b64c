// What a sparse run costs by its place in the process: per run, its wall time, its cost per evaluation and the CPU
// time of each kind of thread, from /proc/self/task/*/schedstat (nanoseconds; Linux only, elsewhere the suite says so
// and gives the times alone). V8 compiles the sparse path's JavaScript over a process's first runs on threads of its
// own, which share the cores with the pool's workers: this suite shows how much, and when it settles.
//
//   node bench/process-warmth.bench.js           # digits-cnn 4×4: 3 exact runs, then 10 sparse runs: about 3 s
//   node bench/process-warmth.bench.js --quick   # 5 sparse runs
//
// Threads: the calling thread is the process's own id; the workers are the `workers` other threads that took the
// most CPU during the exact runs (they evaluate, the rest idles); every other thread is "other": V8's platform
// threads (TurboFan, garbage collection), libuv's.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createEngine } from '../dist/engine/index.js';
import { busyNote, foreignCpu, progress, runSuite } from './harness.js';

const ROOT = new URL('../', import.meta.url);
const path = (p) => new URL(p, ROOT).pathname;
const REQUEST = { model: path('models/digits-cnn.onnx'), sample: path('models/digits.samples.json'), row: 0, modality: 'image', grid: '4x4', players: '0-15' };
/** 10 % of 2^16, as sparse-real.bench.js part 1. */
const BUDGET = 6553;
const EXACT_RUNS = 3;
const SPARSE_RUNS = 10;
const QUICK_SPARSE_RUNS = 5;
const TASKS = '/proc/self/task';

/** CPU ms of each thread of this process so far (empty where /proc has no schedstat). */
function threadCpu() {
  const cpu = new Map();
  if (!existsSync(TASKS)) return cpu;
  for (const tid of readdirSync(TASKS)) {
    try {
      cpu.set(tid, Number(readFileSync(`${TASKS}/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return cpu;
}

/** Each thread's CPU ms between two readings. */
function since(before, after) {
  return new Map([...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)]));
}

/** One run of the engine, timed: { wallMs, evaluateMs, evaluations (the result's), cpu (Map) }. */
async function timed(engine, request) {
  const before = threadCpu();
  const start = performance.now();
  const result = await engine.explain(request);
  const wallMs = performance.now() - start;
  return { wallMs, evaluateMs: result.timings.evaluateMs, evaluations: result.evaluations, cpu: since(before, threadCpu()) };
}

async function run({ quick }) {
  const engine = await createEngine();
  const foreign = foreignCpu();
  const { workers } = engine.options;
  const main = String(process.pid);
  const runs = [];
  try {
    // the exact path evaluates only the masks of players off their baseline (its progress total says how many)
    let evaluated = 2 ** 16;
    const exact = { ...REQUEST, preset: 'none', decomposition: 'and', indexOrder: 0, onProgress: (_done, total) => void (evaluated = total) };
    for (let k = 0; k < EXACT_RUNS; k++) {
      progress(`exact run ${k + 1} of ${EXACT_RUNS}`);
      runs.push({ label: `exact ${k + 1}`, ...(await timed(engine, exact)) });
    }
    for (const r of runs) r.evaluations = evaluated;
    const sparse = { ...REQUEST, method: 'sparse', budget: BUDGET, maxOrder: 16, indexOrder: 0 };
    const count = quick ? QUICK_SPARSE_RUNS : SPARSE_RUNS;
    for (let k = 0; k < count; k++) {
      progress(`sparse run ${k + 1} of ${count}`);
      runs.push({ label: `sparse ${k + 1}`, ...(await timed(engine, sparse)) });
    }
  } finally {
    await engine.dispose();
  }
  // the workers: the threads (not this one) with the most CPU over the exact runs
  const exactCpu = new Map();
  for (const r of runs.filter((r) => r.label.startsWith('exact'))) for (const [tid, ms] of r.cpu) exactCpu.set(tid, (exactCpu.get(tid) ?? 0) + ms);
  const workerTids = new Set([...exactCpu].filter(([tid]) => tid !== main).sort((a, b) => b[1] - a[1]).slice(0, workers).map(([tid]) => tid));
  const measured = exactCpu.size > 0;
  const rows = runs.map((r) => {
    let mainMs = 0;
    let workerMs = 0;
    let otherMs = 0;
    for (const [tid, ms] of r.cpu) {
      if (tid === main) mainMs += ms;
      else if (workerTids.has(tid)) workerMs += ms;
      else otherMs += ms;
    }
    const total = mainMs + workerMs + otherMs;
    return {
      run: r.label, evaluations: r.evaluations, wallMs: r.wallMs, usPerEval: (1e3 * r.evaluateMs) / r.evaluations,
      mainMs: measured ? mainMs : '', workerMs: measured ? workerMs : '', otherMs: measured ? otherMs : '', otherShare: measured && total > 0 ? otherMs / total : '',
    };
  });
  return {
    suite: 'process-warmth',
    args: { quick },
    tables: [
      {
        title: `digits-cnn 4×4: ${EXACT_RUNS} exact runs, then sparse runs at budget ${BUDGET} (10 % of 2^16), one process, in order`,
        columns: [['run', 'run'], ['evaluations', 'masks evaluated'], ['wallMs', 'wall ms'], ['usPerEval', 'µs/eval (evaluateMs)'], ['mainMs', 'CPU ms: calling thread'], ['workerMs', `${workers} workers`], ['otherMs', 'other threads'], ['otherShare', 'other share']],
        rows,
        notes: [
          measured
            ? `threads: the calling thread (pid ${main}); workers: the ${workers} threads with the most CPU over the exact runs; other: every other thread (V8's platform threads: compiles, garbage collection; libuv's).`
            : `no ${TASKS}/*/schedstat here: times only.`,
          'µs/eval: timings.evaluateMs over the masks evaluated (exact: 2^n less those of players at their baseline; sparse: its evaluations), as sparse-real.bench.js part 3 takes it.',
          busyNote(foreign.stop()),
        ],
      },
    ],
    targets: [],
  };
}

await runSuite(run);
