// A fresh onnxruntime session's first runs with andor's session options, and with the same options but onnxruntime's
// memory pattern off, side by side in one run. A CLI run (`andor explain`) opens a session in each worker and
// evaluates at once, so what a session's first runs cost above its steady run is paid on every run. The memory
// pattern (on by default, and in andor) plans a session's buffers from the first run of each input shape and replays
// the plan; with it the second run at a new shape was as slow as the first (digits-cnn at 1024 rows: about 47 ms
// twice, then 6.8). andor keeps it on: off, a service that replaced 15 sessions of one model grew by more than five
// sessions' worth of RSS (test/integration/faults-slow.test.ts, "a bounded number of sessions"). No target: this
// suite documents the trade-off.
//   node bench/session-warmup.bench.js            # the bundled image, tabular and token models: about 1 min
//   node bench/session-warmup.bench.js --quick    # digits-cnn and patches-49
// Each configuration: SESSIONS fresh sessions per model, their first two runs of BATCH rows each (the engine's batch
// for these models), inputs from the model's own metadata (floats 0.5, token ids 1); then one warmed session of each,
// STEADY runs in turn, for the steady run (median). The configurations alternate, so that both see the same machine.
// Warm-up excess: the first two runs less twice the steady run.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ortSessionOptions } from '../dist/bindings/ort-common.js';
import { busyNote, foreignCpu, median, progress, runSuite } from './harness.js';

const MODELS = ['digits-cnn', 'patches-49', 'breast-cancer-mlp', 'pointnet', 'random-cnn', 'tokens-40', 'token-transformer'];
const QUICK_MODELS = ['digits-cnn', 'patches-49'];
const SESSIONS = 3;
const QUICK_SESSIONS = 2;
const STEADY = 20;
const QUICK_STEADY = 8;
const BATCH = 1024;
/** andor's options as the engine builds them (1 intra-op thread per worker, no spinning), and the same with the
 *  memory pattern off. */
const CONFIGS = {
  andor: () => ortSessionOptions({ intraOpThreads: 1, allowSpinning: false }, ['cpu']),
  'memory pattern off': () => ({ ...ortSessionOptions({ intraOpThreads: 1, allowSpinning: false }, ['cpu']), enableMemPattern: false }),
};

/** Feeds of `rows` rows from the session's input metadata. */
function feedsOf(session, rows) {
  const feeds = {};
  for (const input of session.inputMetadata) {
    const dims = input.shape.map((d) => (typeof d === 'number' ? d : rows));
    const size = dims.reduce((a, b) => a * b, 1);
    feeds[input.name] = input.type === 'int64' ? new ort.Tensor('int64', new BigInt64Array(size).fill(1n), dims) : new ort.Tensor('float32', new Float32Array(size).fill(0.5), dims);
  }
  return feeds;
}

/** A session of the model with these options, its feeds, and a timed run (ms). */
async function openSession(bytes, options) {
  const session = await ort.InferenceSession.create(bytes, options);
  const feeds = feedsOf(session, BATCH);
  const timed = async () => {
    const start = performance.now();
    await session.run(feeds);
    return performance.now() - start;
  };
  return { session, timed };
}

async function run({ quick }) {
  const foreign = foreignCpu();
  const rows = [];
  for (const model of quick ? QUICK_MODELS : MODELS) {
    const bytes = readFileSync(new URL(`../models/${model}.onnx`, import.meta.url));
    const names = Object.keys(CONFIGS);
    const firsts = Object.fromEntries(names.map((name) => [name, []]));
    for (let s = 0; s < (quick ? QUICK_SESSIONS : SESSIONS); s++) {
      for (const name of names) {
        progress(`${model}: fresh session ${s + 1}, ${name}`);
        const { session, timed } = await openSession(bytes, CONFIGS[name]());
        firsts[name].push([await timed(), await timed()]);
        await session.release();
      }
    }
    progress(`${model}: steady runs, in turn`);
    const warm = await Promise.all(names.map(async (name) => openSession(bytes, CONFIGS[name]())));
    for (const { timed } of warm) for (let k = 0; k < 3; k++) await timed();
    const steadyRuns = names.map(() => []);
    for (let k = 0; k < (quick ? QUICK_STEADY : STEADY); k++) for (const [c, { timed }] of warm.entries()) steadyRuns[c].push(await timed());
    for (const { session } of warm) await session.release();
    const summary = {};
    for (const [c, name] of names.entries()) {
      const first = median(firsts[name].map((t) => t[0]));
      const second = median(firsts[name].map((t) => t[1]));
      const steady = median(steadyRuns[c]);
      summary[name] = { first, second, steady, excess: first + second - 2 * steady };
    }
    const [on, off] = [summary.andor, summary['memory pattern off']];
    rows.push({
      model, rows: BATCH,
      firstMs: on.first, secondMs: on.second, steadyMs: on.steady, excessMs: on.excess,
      offFirstMs: off.first, offSecondMs: off.second, offSteadyMs: off.steady, offExcessMs: off.excess,
      excessRatio: off.excess / on.excess, steadyRatio: off.steady / on.steady,
    });
  }
  const busy = busyNote(foreign.stop());
  const total = (key) => rows.reduce((sum, r) => sum + r[key], 0);
  return {
    suite: 'session-warmup',
    args: { quick, batch: BATCH, steady: quick ? QUICK_STEADY : STEADY },
    tables: [
      {
        title: `a fresh session's runs of ${BATCH} rows (ms; medians): andor's options (memory pattern on), and the same with it off`,
        columns: [
          ['model', 'model'], ['firstMs', '1st'], ['secondMs', '2nd'], ['steadyMs', 'steady'], ['excessMs', 'warm-up excess'],
          ['offFirstMs', 'off: 1st'], ['offSecondMs', 'off: 2nd'], ['offSteadyMs', 'off: steady'], ['offExcessMs', 'off: excess'],
          ['excessRatio', 'excess off / on'], ['steadyRatio', 'steady off / on'],
        ],
        rows,
        notes: [
          'warm-up excess: 1st + 2nd − 2 × steady; 1st and 2nd: medians over fresh sessions, steady: the median of one warmed session\'s runs; the configurations alternate.',
          `summed warm-up excess: ${total('excessMs').toFixed(0)} ms with the memory pattern, ${total('offExcessMs').toFixed(0)} ms without (${(total('offExcessMs') / total('excessMs')).toFixed(2)}×); andor keeps it on for the RSS of a service that replaces sessions (see the header).`,
          busy,
        ],
      },
    ],
    targets: [],
  };
}

await runSuite(run);
