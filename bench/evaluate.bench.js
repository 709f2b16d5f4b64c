// Masked-evaluation throughput (masks/s): the engine's runners evaluating all 2^n masks of one explanation, for every
// bundled model of models/manifest.json (its `explain` arguments, n = 10) and for the breast-cancer MLP at larger n,
// against a bare onnxruntime-node loop (one session, the same pre-built batches, nothing else) at equal thread count.
// Configurations: the local runner (workers 0) at 1 and 2 intra-op threads, the piscina pool at workers × threads =
// 1×1, 2×1 and 1×2, and onnxruntime-web (WASM) at 0×1 and 2×1.
// Usage: node bench/evaluate.bench.js [n ...] [--quick]   (n: the MLP's larger sizes, default 14 16)
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node'; // the baseline only: the engine goes through dist/ like any user
import { ortNodeBackend, ortWebBackend } from '../dist/bindings/index.js';
import { createEngine } from '../dist/engine/index.js';
import { BatchBuilder, readRewards } from '../dist/engine/pipeline/masking.js';
import { PoolRunner } from '../dist/engine/pipeline/pool.js';
import { BackendRegistry, candidatesFor } from '../dist/engine/pipeline/registry.js';
import { LocalRunner } from '../dist/engine/pipeline/runner.js';
import { busyNote, foreignCpu, progress, runSuite, timeAsync } from './harness.js';

const MANIFEST = JSON.parse(readFileSync(new URL('../models/manifest.json', import.meta.url), 'utf8'));
const MLP = 'breast-cancer-mlp';
const LARGE_SIZES = [14, 16];
const QUICK_MODELS = [MLP, 'digits-cnn-fixed', 'random-cnn'];
const QUICK_SIZES = [14];
/** Each configuration: rounds of repeated evaluations, each round ≥ minMs, best round kept; no second round once
 *  budgetMs is spent (random-cnn on WASM takes seconds per call). The correctness check and one more call warm up:
 *  a fresh session's first two runs are slower (up to 3× on random-cnn, whose arena grows to ~1 GB). */
const TIMING = { minMs: 500, rounds: 2, warmup: 1, budgetMs: 1000 };
const QUICK_TIMING = { minMs: 100, rounds: 1, warmup: 1 };
/** Rewards of every configuration must match the plain explanation's to this (relative to max |v|). */
const TOLERANCE = 1e-4;

/** The engine's configurations: [id, backend, workers, threads]. Bare loops are `bare-<threads>`. */
const ENGINE_CONFIGS = [
  ['local-1', 'cpu', 0, 1],
  ['local-2', 'cpu', 0, 2],
  ['pool-1x1', 'cpu', 1, 1],
  ['pool-2x1', 'cpu', 2, 1],
  ['pool-1x2', 'cpu', 1, 2],
  ['wasm-0x1', 'wasm', 0, 1],
  ['wasm-2x1', 'wasm', 2, 1],
];
/** Native configurations that can be the default (`workers × threads`, workers 0 = local). */
const NATIVE = ['local-1', 'local-2', 'pool-1x1', 'pool-2x1', 'pool-1x2'];
const POOLS = ['pool-1x1', 'pool-2x1', 'pool-1x2'];
const LABEL = {
  'bare-1': 'bare 1t', 'bare-2': 'bare 2t', 'bare-2spin': 'bare 2t spin',
  'local-1': '0×1', 'local-2': '0×2', 'pool-1x1': '1×1', 'pool-2x1': '2×1', 'pool-1x2': '1×2', 'wasm-0x1': 'wasm 0×1', 'wasm-2x1': 'wasm 2×1',
};

/** The manifest's explain argv (--kebab-case value pairs) as an ExplainRequest. */
function requestOf(argv) {
  const request = { preset: 'none' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase());
    const value = argv[i + 1];
    request[key] = ['row', 'clusters', 'maskToken'].includes(key) ? Number(value) : value;
  }
  return request;
}

/**
 * The engine's own plan for a request: one public engine.explain (preset 'none', workers 0) while LocalRunner's open,
 * probe and evaluate record the model key, the bytes and the plans they are given (the prototype is restored
 * afterwards), so the timed calls evaluate what explain evaluates, every one of the 2^n masks: the plan probed holds
 * every player (explain evaluates a plan without the players already at their baseline, null-players.ts), with the
 * batch size and reward of the plan evaluated. Returns those and the explanation's rewards (reference v).
 */
async function capturePlan(request) {
  const seen = {};
  const { open, probe, evaluate } = LocalRunner.prototype;
  LocalRunner.prototype.open = function (key, bytes, candidates) {
    Object.assign(seen, { key, bytes });
    return open.call(this, key, bytes, candidates);
  };
  LocalRunner.prototype.probe = function (key, plan) {
    seen.probed = plan;
    return probe.call(this, key, plan);
  };
  LocalRunner.prototype.evaluate = function (key, plan, options) {
    seen.plan = { ...seen.probed, batchSize: plan.batchSize, reward: plan.reward };
    return evaluate.call(this, key, plan, options);
  };
  const engine = await createEngine({ backend: 'cpu', workers: 0, threads: 1 });
  try {
    const result = await engine.explain(request);
    if (!seen.plan) throw new Error('explain did not evaluate through LocalRunner.evaluate: update capturePlan');
    return { key: seen.key, bytes: seen.bytes, plan: seen.plan, v: Float64Array.from(result.v), explainEvaluateMs: result.timings.evaluateMs };
  } finally {
    Object.assign(LocalRunner.prototype, { open, probe, evaluate });
    await engine.dispose();
  }
}

/** Every batch of the plan, built once by the engine's BatchBuilder and copied into onnxruntime tensors. */
function buildBatches(plan) {
  const builder = new BatchBuilder(plan);
  const total = 2 ** plan.n;
  const batches = [];
  for (let first = 0; first < total; first += plan.batchSize) {
    const count = Math.min(plan.batchSize, total - first);
    const feeds = {};
    for (const [name, t] of Object.entries(builder.fill(first, count))) feeds[name] = new ort.Tensor(t.dtype, t.data.slice(), [...t.dims]);
    batches.push({ first, count, feeds });
  }
  return batches;
}

/** The bare loop: one onnxruntime-node session with the engine's session options (spinning off unless asked). */
async function bareLoop(bytes, plan, batches, threads, spinning = false) {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  });
  const run = async () => {
    for (const { feeds } of batches) await session.run(feeds);
  };
  // the rewards it computes, read the engine's way (outside the timing), to check the batches are the same masks
  const rows = plan.batchAxis.kind === 'none' ? 1 : plan.batchSize;
  const check = async () => {
    const v = new Float64Array(2 ** plan.n);
    const outputs = [];
    for (const { first, count, feeds } of batches) {
      const out = (await session.run(feeds))[plan.reward.output];
      outputs.push({ dtype: out.type, data: out.data, dims: out.dims });
      readRewards(plan.reward, outputs.at(-1), rows, count, v, first);
    }
    return { v, outputs };
  };
  return { run, check, release: () => session.release() };
}

function assertClose(actual, expected, what) {
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
  }
  if (!(error <= TOLERANCE * Math.max(1, scale))) throw new Error(`${what}: rewards differ from the explanation's by ${error} (max |v| ${scale})`);
}

/** Times every configuration on one plan; returns masks/s per configuration id. */
async function measureCase(runners, kase, timing) {
  const { key, bytes, plan, v } = kase;
  const masks = 2 ** plan.n;
  const batches = buildBatches(plan);
  const rate = {};
  const perCall = {};
  const record = (id, t) => {
    rate[id] = masks / (t.ms / 1e3);
    perCall[id] = t;
  };
  let outputs;
  for (const [id, threads, spinning] of [['bare-1', 1, false], ['bare-2', 2, false], ['bare-2spin', 2, true]]) {
    progress(`${kase.name}: ${id}`);
    const bare = await bareLoop(bytes, plan, batches, threads, spinning);
    const checked = await bare.check();
    assertClose(checked.v, v, `${kase.name} ${id}`);
    outputs ??= checked.outputs;
    record(id, await timeAsync(bare.run, timing));
    await bare.release();
  }
  // the engine's own JS work per evaluation, without the model: build every batch from the plan, read the rewards
  const builder = new BatchBuilder(plan);
  const rows = plan.batchAxis.kind === 'none' ? 1 : plan.batchSize;
  const out = new Float64Array(masks);
  const js = await timeAsync(() => {
    batches.forEach(({ first, count }, i) => {
      builder.fill(first, count);
      readRewards(plan.reward, outputs[i], rows, count, out, first);
    });
  }, { ...timing, warmup: 1 });
  // LocalRunner.evaluate builds a new BatchBuilder (batch buffers filled with the sample) on every call
  const fresh = await timeAsync(() => void new BatchBuilder(plan), { ...timing, warmup: 1 });
  for (const [id, backend] of ENGINE_CONFIGS) {
    progress(`${kase.name}: ${id}`);
    const runner = runners[id];
    await runner.open(key, bytes, candidatesFor(backend));
    // warm-up outside the timing: every pool worker opens its session on its first task
    assertClose(await runner.evaluate(key, plan), v, `${kase.name} ${id}`);
    record(id, await timeAsync(() => runner.evaluate(key, plan), timing));
    await runner.close(key);
  }
  return { rate, perCall, batches: batches.length, jsMs: js.ms, builderMs: fresh.ms };
}

async function run({ sizes, quick }) {
  sizes ??= quick ? QUICK_SIZES : LARGE_SIZES;
  const suiteCpu = foreignCpu();
  const timing = quick ? QUICK_TIMING : TIMING;
  const registry = new BackendRegistry().register(ortNodeBackend).register(ortWebBackend);
  const runners = {};
  for (const [id, , workers, threads] of ENGINE_CONFIGS) runners[id] = workers === 0 ? new LocalRunner(registry, threads) : new PoolRunner({ workers, threads });

  // the sparse models are measured by bench/sparse-real.bench.js
  const entries = MANIFEST.models.filter((m) => !m.explain.includes('sparse') && (!quick || QUICK_MODELS.includes(m.name)));
  const cases = [];
  for (const m of entries) cases.push({ name: m.name, request: requestOf(m.explain) });
  const mlp = MANIFEST.models.find((m) => m.name === MLP);
  for (const n of sizes) cases.push({ name: `${MLP} n=${n}`, request: { ...requestOf(mlp.explain), players: `0-${n - 1}` } });

  const rows = [];
  for (const kase of cases) {
    const caseCpu = foreignCpu();
    Object.assign(kase, await capturePlan(kase.request));
    const { rate, perCall, batches, jsMs, builderMs } = await measureCase(runners, kase, timing);
    const fastest = NATIVE.reduce((a, b) => (rate[b] > rate[a] ? b : a));
    const bestPool = POOLS.reduce((a, b) => (rate[b] > rate[a] ? b : a));
    rows.push({
      model: kase.name,
      n: kase.plan.n,
      runs: `${batches}×${kase.plan.batchSize}`,
      msBare1: perCall['bare-1'].ms,
      msLocal1: perCall['local-1'].ms,
      jsMs,
      builderMs,
      ...Object.fromEntries(Object.entries(rate).map(([id, r]) => [id, Math.round(r)])),
      fastest: LABEL[fastest],
      fastestRate: Math.round(rate[fastest]),
      engineVsBare1: rate['local-1'] / rate['bare-1'],
      engineVsBare2: rate['local-2'] / rate['bare-2'],
      poolVsBare2: rate['pool-1x2'] / rate['bare-2'],
      spinGain: rate['bare-2spin'] / rate['bare-2'],
      bestPool: LABEL[bestPool],
      bestPoolVsBare1: rate[bestPool] / rate['bare-1'],
      scale2x1: rate['pool-2x1'] / rate['pool-1x1'],
      w2VsT2: rate['pool-2x1'] / rate['pool-1x2'],
      wasmLocal: rate['wasm-0x1'] / rate['local-1'],
      wasmPool: rate['wasm-2x1'] / rate['pool-2x1'],
      busyPct: (caseCpu.stop()?.share ?? 0) * 100,
      timings: Object.fromEntries(Object.entries(perCall).map(([id, t]) => [id, { msPerEvaluation: t.ms, medianMs: t.medianMs, calls: t.calls, rounds: t.rounds }])),
    });
  }
  for (const runner of Object.values(runners)) await runner.dispose();
  const foreign = suiteCpu.stop();

  const min = (key, filter = () => true) => {
    const picked = rows.filter(filter);
    const worst = picked.reduce((a, b) => (b[key] < a[key] ? b : a));
    return { value: worst[key], model: worst.model };
  };
  const pct = (x) => `${x.value.toFixed(2)}× (${x.model})`;
  const engine1 = min('engineVsBare1');
  const engine2 = min('engineVsBare2');
  const pool2 = min('poolVsBare2');
  const targets = [
    { name: 'engine vs bare onnxruntime, 1 thread', goal: 'local runner (workers 0, threads 1) ≥ 0.9× the bare loop, every model', value: `worst ${pct(engine1)}`, met: engine1.value >= 0.9 },
    { name: 'engine vs bare onnxruntime, 2 threads', goal: 'local runner (workers 0, threads 2) ≥ 0.9× the bare loop, every model', value: `worst ${pct(engine2)}`, met: engine2.value >= 0.9 },
    { name: 'pool vs bare onnxruntime, 2 threads', goal: 'pool workers 1 × threads 2 ≥ 0.9× the bare loop at 2 threads, every model', value: `worst ${pct(pool2)}`, met: pool2.value >= 0.9 },
  ];
  for (const row of rows.filter((r) => r.model === 'random-cnn' || r.model.startsWith(`${MLP} n=`))) {
    targets.push({
      name: `best pool configuration vs 1-thread bare loop, ${row.model}`,
      goal: '≥ 1.6× on 2 cores',
      value: `${row.bestPool} at ${row.bestPoolVsBare1.toFixed(2)}×`,
      met: row.bestPoolVsBare1 >= 1.6,
    });
  }
  const smallPool = min('bestPoolVsBare1', (r) => r.n === 10 && r.model !== 'random-cnn');
  targets.push({
    name: 'best pool configuration vs 1-thread bare loop, the other models at n = 10',
    goal: '≥ 1.6× on 2 cores',
    value: `worst ${smallPool.value.toFixed(2)}× (${smallPool.model})`,
    met: smallPool.value >= 1.6,
  });

  const rateColumns = ['bare-1', 'bare-2', 'bare-2spin', ...ENGINE_CONFIGS.map(([id]) => id)].map((id) => [id, LABEL[id]]);
  return {
    suite: 'evaluate',
    args: { sizes, quick, timing },
    foreignCpu: foreign,
    tables: [
      {
        title: 'evaluate: masked-evaluation throughput, masks/s (all 2^n masks of one explanation per call; workers × threads)',
        columns: [['model', 'model'], ['n', 'n'], ['runs', 'runs×rows'], ['msBare1', 'ms bare 1t'], ['msLocal1', 'ms 0×1'], ['builderMs', 'ms builder'], ['jsMs', 'ms fill+read'], ...rateColumns, ['fastest', 'fastest native'], ['busyPct', 'other %']],
        rows,
        notes: [
          'bare Nt: one onnxruntime-node session (intra-op N, inter-op 1, graph opt all, spinning off as in the engine), the same batches',
          'pre-built as ort Tensors, only session.run in the loop; "spin": the same with ORT\'s default spinning on.',
          'W×T: the engine\'s runner.evaluate(plan) (workers W, T intra-op threads per session; 0 = local runner on the main thread):',
          'builds each batch from the plan, runs, reads one reward per row. wasm = onnxruntime-web. runs×rows: the bare loop\'s and the',
          `local runner's model runs (the pool splits 2^n into ≥ 2 tasks per worker). Rate of the fastest of ≤ ${timing.rounds} round(s) of ≥ ${timing.minMs} ms.`,
          'ms: per evaluation of all 2^n masks. The engine\'s JS work per evaluation, without the model: ms builder = new BatchBuilder(plan)',
          '(the local runner builds one per call), ms fill+read = BatchBuilder.fill + readRewards over all batches.',
          'other %: CPU share of other processes while the row was measured (/proc/stat); above a few % the row is disturbed.',
          ...busyNote(foreign),
        ],
      },
      {
        title: 'evaluate: ratios of masks/s',
        columns: [
          ['model', 'model'], ['n', 'n'], ['engineVsBare1', '0×1/bare1'], ['engineVsBare2', '0×2/bare2'], ['poolVsBare2', '1×2/bare2'], ['spinGain', 'spin/bare2'],
          ['bestPool', 'best pool'], ['bestPoolVsBare1', 'best pool/bare1'], ['scale2x1', '2×1/1×1'], ['w2VsT2', '2×1/1×2'], ['wasmLocal', 'wasm/native 0×1'], ['wasmPool', 'wasm/native 2×1'],
          ['fastest', 'fastest native'], ['fastestRate', 'masks/s'],
        ],
        rows,
        notes: ['engine at equal threads: 0×1 vs bare 1t, 0×2 and 1×2 vs bare 2t (target ≥ 0.9); best pool (workers ≥ 1) vs bare 1t (target ≥ 1.6).'],
      },
    ],
    targets,
  };
}

const version = (pkg) => JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
await runSuite(run, {
  threads: '1–2',
  threadsNote: 'onnxruntime intra-op threads 1 or 2 per session (per column), workers 0–2',
  backend: `onnxruntime-node ${version('onnxruntime-node')} CPU EP; onnxruntime-web ${version('onnxruntime-web')} WASM (wasm columns)`,
});
