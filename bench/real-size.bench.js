// Real-size networks: andor's masked-evaluation throughput (masks/s) and peak memory against a plain PyTorch loop
// (bench/pytorch-loop.py) on the same model, the same sample, the same 2^n masks, the same batch size and equal
// thread counts, in one run. Models: models/.large/ (`npm run models:large`; RANDOM weights, speed only): ResNet-18 at
// 3×224×224, the DistilBERT-size encoder at 64 tokens, and optionally ResNet-18 at 3×32×32.
// Every measurement runs in its own child process (a fresh andor engine or a fresh Python), so each one's peak RSS is
// its own: andor's is process.resourceUsage().maxRSS in the child (worker threads included), PyTorch's getrusage
// maxrss. Both sides are warmed up untimed first; the rewards of both are compared (1e-3 relative).
// For the transformer it also times the model's matrix products alone (its own weights, as many rows as each sees; no
// attention, activation or normalization) in both runtimes at each thread count: no runtime can evaluate the masks
// faster than those, so they bound the ratio any of them could reach against the PyTorch loop.
// Usage: node bench/real-size.bench.js [n] [--text-n=8] [--threads=1,2] [--models=resnet18,distilbert]
//          [--pool=1,2] [--pool-models=resnet18] [--batch=32 | --batch=resnet18:32,distilbert:16] [--quick] [--save]
//   n: players of the CNNs (default 10, grid cells 0..n-1 of 4×4); --text-n: players of the transformer (default 8,
//   token positions 1..n: 2^10 masks of a 66M-parameter encoder take minutes on 2 cores); --threads: the equal-thread
//   comparisons (andor workers 0 × threads T against torch.set_num_threads(T)); --pool: pool sizes W (workers W ×
//   threads 1) on --pool-models (an empty list skips the pool rows), compared with each other (scaling) and with
//   PyTorch at T = W.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyNote, foreignCpu, progress, runSuite } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LARGE_DIR = join(ROOT, 'models', '.large');
const PYTHON = '/usr/bin/python3';
const PYTORCH_LOOP = join(ROOT, 'bench', 'pytorch-loop.py');
/** Per model: the andor request of `players` players (the same masks pytorch-loop.py builds) and the batch size. */
const MODELS = {
  resnet18: { kind: 'cnn', batch: 32, request: (n) => ({ modality: 'image', grid: '4x4', players: `0-${n - 1}`, baseline: 'zero' }) },
  'resnet18-32': { kind: 'cnn', batch: 32, request: (n) => ({ modality: 'image', grid: '4x4', players: `0-${n - 1}`, baseline: 'zero' }) },
  distilbert: { kind: 'text', batch: 8, request: (n) => ({ modality: 'text', players: `1-${n}`, maskToken: 103 }) },
};
const DEFAULTS = { n: 10, textN: 8, threads: [1, 2], models: ['resnet18', 'distilbert'], pool: [1, 2], poolModels: ['resnet18'] };
const QUICK = { n: 6, textN: 4, threads: [2], models: ['resnet18-32', 'distilbert'], pool: [1, 2], poolModels: ['resnet18-32'], batch: 16 };
/** andor over PyTorch at equal threads, on the CNN and the transformer. */
const TARGET_RATIO = 1.5;
/** 2 workers over 1 worker (threads 1 each) on the real-size CNN. */
const TARGET_POOL_SCALING = 1.7;
/** andor's rewards must match PyTorch's to this, relative to max |v| (same masks, same weights). */
const REWARD_TOLERANCE = 1e-3;

const mb = (kb) => kb / 1024;

/** --key=value options of the command line (the positional n and --quick/--save/--json are harness.parseArgs'). */
function options(argv, quick) {
  const value = (key) => argv.find((a) => a.startsWith(`--${key}=`))?.slice(key.length + 3);
  const list = (key, fallback, parse = String) => (value(key) === undefined ? fallback : value(key) === '' ? [] : value(key).split(',').map(parse));
  const base = quick ? QUICK : DEFAULTS;
  const models = list('models', base.models);
  for (const m of [...models, ...list('pool-models', base.poolModels)]) {
    if (!MODELS[m]) throw new Error(`Unknown model "${m}". Expected one of: ${Object.keys(MODELS).join(', ')}.`);
  }
  const batch = Object.fromEntries(Object.entries(MODELS).map(([m, spec]) => [m, base.batch ?? spec.batch]));
  for (const part of list('batch', [])) {
    const [m, b] = part.includes(':') ? part.split(':') : [undefined, part];
    if (m && !MODELS[m]) throw new Error(`--batch names unknown model "${m}". Expected one of: ${Object.keys(MODELS).join(', ')}.`);
    for (const key of m ? [m] : Object.keys(batch)) batch[key] = Number(b);
  }
  const textN = value('text-n') === undefined ? base.textN : Number(value('text-n'));
  const threads = list('threads', base.threads, Number);
  const pool = list('pool', base.pool, Number);
  const positive = (x) => Number.isInteger(x) && x >= 1;
  if (![...threads, ...pool].every(positive)) throw new Error(`--threads and --pool must list positive integers (got ${threads}; ${pool}).`);
  if (!Object.values(batch).every(positive)) throw new Error(`--batch must be a positive integer, or MODEL:B pairs (got ${value('batch')}).`);
  if (!positive(textN) || textN > 63) throw new Error(`--text-n must be an integer in 1..63 (got ${value('text-n')}).`);
  return { textN, threads, models, pool, poolModels: list('pool-models', base.poolModels), batch };
}

/** Runs a child process and returns the JSON object on the last line of its stdout. */
function runChild(command, args, what) {
  const child = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (child.status !== 0) throw new Error(`${what} failed (exit ${child.status ?? child.signal}); see its output above.`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1));
}

/** One andor measurement in a child process (this file with --child). */
function andor(config) {
  return runChild(process.execPath, [fileURLToPath(import.meta.url), `--child=${JSON.stringify(config)}`], `andor ${config.model} ${config.workers}×${config.threads}`);
}

/** One PyTorch measurement (bench/pytorch-loop.py). */
function pytorch({ model, n, batch, threads, dump }) {
  return runChild(PYTHON, [PYTORCH_LOOP, model, '--n', String(n), '--batch', String(batch), '--threads', String(threads), '--dump', dump], `pytorch-loop ${model} ${threads}t`);
}

/** PyTorch timing the model's matrix products alone (pytorch-loop.py --linear-only), which it exports to `onnx`. */
function pytorchLinear({ model, n, batch, threads, onnx }) {
  return runChild(PYTHON, [PYTORCH_LOOP, model, '--n', String(n), '--batch', String(batch), '--threads', String(threads), '--linear-only', onnx], `pytorch-loop --linear-only ${model} ${threads}t`);
}

/** onnxruntime timing the same products (this file with --linear-child), through andor's own binding and options. */
function andorLinear(config) {
  return runChild(process.execPath, [fileURLToPath(import.meta.url), `--linear-child=${JSON.stringify(config)}`], `onnxruntime linear-only ${config.threads}t`);
}

/**
 * The --linear-child side: a session of the products' ONNX file with andor's session options (the ORT binding the
 * engine uses, `threads` intra-op threads, no spinning), one untimed run, then `batches` timed runs on one random
 * input. Prints {masksPerSecond, seconds, cpuS (the timed runs), totalCpuS (the whole process)}.
 */
async function linearChild({ onnx, rows, width, batches, masks, threads }) {
  const { ortNodeBackend } = await import('../dist/bindings/index.js');
  const session = await ortNodeBackend.createSession(new Uint8Array(readFileSync(onnx)), { executionProvider: 'cpu', intraOpThreads: threads, allowSpinning: false });
  try {
    let seed = 1;
    const data = Float32Array.from({ length: rows * width }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5);
    const feeds = { x: { dtype: 'float32', data, dims: [rows, width] } };
    await session.run(feeds);
    const before = process.cpuUsage();
    const start = performance.now();
    for (let b = 0; b < batches; b++) await session.run(feeds);
    const seconds = (performance.now() - start) / 1e3;
    const cpu = process.cpuUsage(before);
    const total = process.cpuUsage();
    console.log(JSON.stringify({ masksPerSecond: masks / seconds, seconds, cpuS: (cpu.user + cpu.system) / 1e6, totalCpuS: (total.user + total.system) / 1e6 }));
  } finally {
    await session.dispose();
  }
}

/** Max |a − b| over max |b|. */
function relativeError(a, b) {
  let scale = 0;
  let error = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    error = Math.max(error, Math.abs(a[i] - b[i]));
  }
  return error / Math.max(scale, Number.MIN_VALUE);
}

/**
 * Counts the CPU time other processes use while children run: harness.foreignCpu counts everything but this process,
 * so stop(childCpuS) takes the children's own CPU seconds back out. Returns { foreignS, share } or undefined.
 */
function cpuMeter() {
  const meter = foreignCpu();
  const start = performance.now();
  return {
    stop(childCpuS) {
      const f = meter.stop();
      if (!f) return undefined;
      const foreignS = Math.max(0, f.foreignS - childCpuS);
      return { foreignS, share: foreignS / (((performance.now() - start) / 1e3) * os.cpus().length) };
    },
  };
}

const readValues = (path) => {
  const copy = new Uint8Array(readFileSync(path));
  return new Float64Array(copy.buffer, 0, copy.byteLength / 8);
};

/**
 * The child side: one engine (workers × threads), an untimed warm-up explanation (enough masks for two batches per
 * worker: every pool worker opens its session and sizes its arena on the batch shape), then the timed explanation of
 * all 2^n masks; its timings.evaluateMs is the masked evaluation only (no file reading, session creation or
 * interaction analysis). Prints {masksPerSecond, evaluateMs, loadMs, warmupMs, evaluateCpuS (the timed explanation,
 * all threads), maxRssMb, cpuS (the whole process), backend}.
 */
async function child(config) {
  const { createEngine } = await import('../dist/engine/index.js');
  const { model, n, batch, workers, threads, dump } = config;
  const spec = MODELS[model];
  // batch 'auto' (tuning runs of the child alone) leaves the batch size to the engine
  const auto = batch === 'auto';
  const base = { model: join(LARGE_DIR, `${model}.onnx`), sample: join(LARGE_DIR, `${model}.samples.json`), row: 0, batchSize: auto ? undefined : batch, preset: 'none' };
  const engine = await createEngine({ backend: 'cpu', workers, threads });
  try {
    const warmupN = auto ? n : Math.min(n, Math.ceil(Math.log2(2 * Math.max(1, workers) * batch)));
    const warm = await engine.explain({ ...base, ...spec.request(warmupN) });
    const before = process.cpuUsage();
    // masks evaluated: 2^n, less those of players already at their baseline (the progress total)
    let evaluated = 2 ** n;
    const result = await engine.explain({ ...base, ...spec.request(n), onProgress: (_done, total) => void (evaluated = total) });
    const during = process.cpuUsage(before);
    if (dump) writeFileSync(dump, new Uint8Array(Float64Array.from(result.v).buffer));
    const cpu = process.cpuUsage();
    console.log(JSON.stringify({
      masksPerSecond: evaluated / (result.timings.evaluateMs / 1e3),
      evaluateMs: result.timings.evaluateMs,
      loadMs: warm.timings.loadMs,
      warmupMs: warm.timings.totalMs,
      evaluateCpuS: (during.user + during.system) / 1e6,
      maxRssMb: mb(process.resourceUsage().maxRSS),
      cpuS: (cpu.user + cpu.system) / 1e6,
      backend: engine.backend,
    }));
  } finally {
    await engine.dispose();
  }
}

/** Why the suite cannot run here, or undefined. */
function missing(models) {
  for (const m of models) {
    for (const file of [`${m}.onnx`, `${m}.pt`, `${m}.samples.json`]) {
      if (!existsSync(join(LARGE_DIR, file))) return `models/.large/${file} is missing: run \`npm run models:large\` (needs Debian's python3-torch, python3-torchvision, python3-onnx)`;
    }
  }
  if (!existsSync(PYTHON)) return `${PYTHON} is missing: the PyTorch baseline needs Debian's python3-torch`;
  return undefined;
}

async function run({ sizes, quick }) {
  const opts = options(process.argv.slice(2), quick);
  const cnnN = sizes?.[0] ?? (quick ? QUICK.n : DEFAULTS.n);
  if (cnnN < 1 || cnnN > 16) throw new Error(`n must be in 1..16: the CNN players are cells of a 4×4 grid (got ${cnnN}).`);
  const nOf = (model) => (MODELS[model].kind === 'text' ? opts.textN : cnnN);
  const allModels = [...new Set([...opts.models, ...opts.poolModels])];
  const why = missing(allModels);
  if (why) {
    console.log(`\nreal-size: not run: ${why}`);
    return { suite: 'real-size', args: { ...opts, cnnN }, tables: [], targets: [{ name: 'real-size networks vs PyTorch', goal: 'runs', value: `not run: ${why}`, met: false }] };
  }
  const tmp = mkdtempSync(join(os.tmpdir(), 'andor-real-size-'));
  const suiteCpu = cpuMeter();
  let childCpuS = 0;
  const started = performance.now();
  const rows = [];
  const torchCache = new Map(); // model/threads -> PyTorch result (the pool rows reuse the equal-thread runs)

  /** PyTorch at `threads`, measured once per model and thread count, and its rewards. */
  const torchAt = (model, threads) => {
    const key = `${model}/${threads}`;
    if (!torchCache.has(key)) {
      progress(`${model}: PyTorch ${threads} thread(s)`);
      const dump = join(tmp, `${model}-torch-${threads}.f64`);
      const meter = cpuMeter();
      const result = pytorch({ model, n: nOf(model), batch: opts.batch[model], threads, dump });
      childCpuS += result.totalCpuSeconds;
      torchCache.set(key, { ...result, v: readValues(dump), foreign: meter.stop(result.totalCpuSeconds) });
    }
    return torchCache.get(key);
  };
  const measure = (model, workers, threads, compareThreads) => {
    const n = nOf(model);
    const batch = opts.batch[model];
    const torch = torchAt(model, compareThreads);
    progress(`${model}: andor workers ${workers} × threads ${threads}`);
    const dump = join(tmp, `${model}-andor-${workers}x${threads}.f64`);
    const meter = cpuMeter();
    const a = andor({ model, n, batch, workers, threads, dump });
    childCpuS += a.cpuS;
    const foreign = meter.stop(a.cpuS);
    const row = {
      model, n, masks: 2 ** n, batch,
      config: workers === 0 ? `0×${threads}` : `${workers}×${threads}`,
      threads: workers === 0 ? threads : workers * threads,
      torchThreads: compareThreads,
      andorRate: a.masksPerSecond,
      torchRate: torch.masksPerSecond,
      ratio: a.masksPerSecond / torch.masksPerSecond,
      andorPeakMb: a.maxRssMb,
      torchPeakMb: torch.peakRssMb,
      rewardError: relativeError(readValues(dump), torch.v),
      andorCpuMs: (a.evaluateCpuS * 1e3) / 2 ** n,
      torchCpuMs: (torch.cpuSeconds * 1e3) / 2 ** n,
      andorMs: a.evaluateMs,
      torchMs: torch.seconds * 1e3,
      torchForwardShare: torch.forwardSeconds / torch.seconds,
      loadMs: a.loadMs,
      backend: a.backend,
      otherPct: Math.max(foreign?.share ?? 0, torch.foreign?.share ?? 0) * 100,
    };
    row.met = workers === 0 ? (row.ratio >= TARGET_RATIO ? 'met' : 'not met') : '–';
    rows.push(row);
    return row;
  };

  /** The transformer's matrix products alone, in both runtimes, against its full rows at the same threads. */
  const bounds = [];
  const bound = (model, threads) => {
    const n = nOf(model);
    const batch = opts.batch[model];
    progress(`${model}: matrix products alone, ${threads} thread(s)`);
    const onnx = join(tmp, `${model}-linear.onnx`);
    const meter = cpuMeter();
    const t = pytorchLinear({ model, n, batch, threads, onnx });
    const o = andorLinear({ onnx, rows: t.rows, width: t.width, batches: t.batches, masks: t.masks, threads });
    childCpuS += t.totalCpuSeconds + o.totalCpuS;
    const foreign = meter.stop(t.totalCpuSeconds + o.totalCpuS);
    const full = rows.find((r) => r.model === model && r.config === `0×${threads}`);
    const best = Math.max(o.masksPerSecond, t.masksPerSecond);
    bounds.push({
      model, threads, gflopPerMask: t.flopsPerBatch / batch / 1e9, products: t.products,
      ortRate: o.masksPerSecond, ortGflops: (t.flopsPerBatch * t.batches) / o.seconds / 1e9,
      torchLinearRate: t.masksPerSecond, torchGflops: (t.flopsPerBatch * t.batches) / t.seconds / 1e9,
      andorRate: full?.andorRate, torchRate: full?.torchRate,
      andorShare: full ? full.andorRate / o.masksPerSecond : undefined,
      ceiling: full ? best / full.torchRate : undefined,
      otherPct: (foreign?.share ?? 0) * 100,
    });
  };

  try {
    for (const model of opts.models) for (const threads of opts.threads) measure(model, 0, threads, threads);
    for (const model of opts.poolModels) for (const workers of opts.pool) measure(model, workers, 1, workers);
    for (const model of opts.models.filter((m) => MODELS[m].kind === 'text')) for (const threads of opts.threads) bound(model, threads);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const foreign = suiteCpu.stop(childCpuS);
  const minutes = (performance.now() - started) / 60e3;

  const targets = [];
  const boundNote = (model, threads) => {
    const b = bounds.find((r) => r.model === model && r.threads === threads);
    return b?.ceiling === undefined ? '' : `; its matrix products alone bound any runtime to ${b.ceiling.toFixed(2)}× here`;
  };
  for (const model of opts.models) {
    const kind = MODELS[model].kind === 'text' ? 'transformer' : 'CNN';
    for (const row of rows.filter((r) => r.model === model && r.config.startsWith('0×'))) {
      targets.push({
        name: `andor vs PyTorch at ${row.threads} thread(s), ${kind} ${model} (n = ${row.n}, batch ${row.batch})`,
        goal: `≥ ${TARGET_RATIO}× the PyTorch loop's masks/s`,
        value: `${row.ratio.toFixed(2)}× (${row.andorRate.toFixed(2)} vs ${row.torchRate.toFixed(2)} masks/s)${boundNote(model, row.threads)}`,
        met: row.ratio >= TARGET_RATIO,
      });
    }
  }
  const scaling = [];
  for (const model of opts.poolModels) {
    const one = rows.find((r) => r.model === model && r.config === '1×1');
    for (const row of rows.filter((r) => r.model === model && r.config !== '1×1' && !r.config.startsWith('0×'))) {
      if (!one) continue;
      const ratio = row.andorRate / one.andorRate;
      scaling.push({ model, config: row.config, rate: row.andorRate, base: one.andorRate, ratio, vsTorch: row.ratio, torchThreads: row.torchThreads });
      if (row.config === '2×1') {
        targets.push({ name: `pool scaling, ${model} (n = ${row.n})`, goal: `2 workers ≥ ${TARGET_POOL_SCALING}× the 1-worker throughput`, value: `${ratio.toFixed(2)}× (${row.andorRate.toFixed(2)} vs ${one.andorRate.toFixed(2)} masks/s)`, met: ratio >= TARGET_POOL_SCALING });
      }
    }
  }
  const worstReward = rows.reduce((a, b) => (b.rewardError > a.rewardError ? b : a));
  targets.push({ name: 'andor and PyTorch compute the same rewards', goal: `max |Δv| ≤ ${REWARD_TOLERANCE} × max |v|, every row`, value: `worst ${worstReward.rewardError.toExponential(2)} (${worstReward.model} ${worstReward.config})`, met: worstReward.rewardError <= REWARD_TOLERANCE });

  const textNote = opts.models.includes('distilbert') && opts.textN < cnnN ? [`The transformer runs at n = ${opts.textN} (${2 ** opts.textN} masks) against n = ${cnnN} for the CNNs (--text-n changes it): one of its masks costs about twice a 224×224 ResNet-18 mask, and 2^10 of them take minutes per configuration on 2 cores.`] : [];
  return {
    suite: 'real-size',
    args: { ...opts, cnnN, quick },
    minutes,
    foreignCpu: foreign,
    tables: [
      {
        title: 'real-size: masked evaluation, andor vs a plain PyTorch loop (same model, sample, masks, batch; equal threads)',
        columns: [
          ['model', 'model'], ['n', 'n'], ['batch', 'batch'], ['config', 'andor W×T'], ['threads', 'threads'], ['andorRate', 'andor masks/s'], ['torchRate', 'PyTorch masks/s'],
          ['ratio', 'ratio'], ['andorPeakMb', 'andor peak MB'], ['torchPeakMb', 'PyTorch peak MB'], ['met', `≥ ${TARGET_RATIO}×`], ['andorCpuMs', 'andor CPU ms/mask'], ['torchCpuMs', 'PyTorch CPU ms/mask'], ['rewardError', 'Δv rel'], ['otherPct', 'other %'],
        ],
        rows,
        notes: [
          'andor W×T: the built engine (dist/), createEngine({backend: "cpu", workers: W, threads: T}) (W = 0: the calling thread),',
          'engine.explain({..., batchSize, preset: "none"}) on all 2^n masks; rate = 2^n / timings.evaluateMs, after an untimed warm-up',
          'explanation. PyTorch: bench/pytorch-loop.py (eager, torch.no_grad, torch.set_num_threads(T), OMP/OpenBLAS threads T): masks, forward',
          'and reward timed, after one untimed batch. Pool rows (W ≥ 1, T = 1) are compared with PyTorch at W threads.',
          'peak MB: maxRSS of each measurement\'s own process (andor: worker threads included; PyTorch: getrusage), model loading included.',
          'CPU ms/mask: CPU time of the timed part (all threads) per mask; less disturbed than masks/s when the machine is shared.',
          'Δv rel: max |v_andor − v_PyTorch| / max |v|. other %: CPU share of other processes while the row\'s andor or PyTorch run went (the larger; /proc/stat).',
          'The models have RANDOM weights (models/.large/manifest.json): only speed and memory mean anything here.',
          ...textNote,
          ...busyNote(foreign),
        ],
      },
      {
        title: 'real-size: the transformer\'s matrix products alone, the bound on any runtime (same weights, rows, threads and batches)',
        columns: [
          ['model', 'model'], ['threads', 'threads'], ['products', 'products'], ['gflopPerMask', 'GFLOP/mask'], ['ortRate', 'onnxruntime masks/s'], ['ortGflops', 'its GFLOP/s'],
          ['torchLinearRate', 'PyTorch masks/s'], ['torchGflops', 'its GFLOP/s'], ['andorRate', 'andor full model'], ['andorShare', 'andor / its products'],
          ['torchRate', 'PyTorch loop full model'], ['ceiling', 'bound on ratio'], ['otherPct', 'other %'],
        ],
        rows: bounds,
        notes: [
          'products: every 2-D weight of the model (embedding tables excepted) applied, with its bias, to as many rows as it sees in one forward pass',
          '(bench/pytorch-loop.py --linear-only: timed in eager PyTorch, then exported to ONNX and timed in onnxruntime through andor\'s binding and',
          'session options), as many batches as the full rows evaluate, on random inputs. Nothing else of the model runs: no attention',
          'scores, softmax, GELU, LayerNorm, masking or reward. A runtime that evaluates the masks must do these products, so the faster',
          'of the two rates bounds the masks/s of any runtime at these threads, and "bound on ratio" (that rate / the PyTorch loop\'s full-',
          'model rate) bounds the ratio any runtime could reach against the loop without doing less arithmetic.',
        ],
      },
      {
        title: 'real-size: pool scaling (workers W × 1 thread against 1 × 1)',
        columns: [['model', 'model'], ['config', 'andor W×T'], ['rate', 'masks/s'], ['base', '1×1 masks/s'], ['ratio', 'W×1 / 1×1'], ['torchThreads', 'PyTorch threads'], ['vsTorch', 'vs PyTorch']],
        rows: scaling,
        notes: [`target: 2×1 ≥ ${TARGET_POOL_SCALING}× 1×1 on the real-size CNN. Suite wall time ${minutes.toFixed(1)} min.`],
      },
    ],
    targets,
  };
}

const childArg = process.argv.find((a) => a.startsWith('--child='));
const linearArg = process.argv.find((a) => a.startsWith('--linear-child='));
if (childArg) await child(JSON.parse(childArg.slice('--child='.length)));
else if (linearArg) await linearChild(JSON.parse(linearArg.slice('--linear-child='.length)));
else {
  const version = (pkg) => JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
  await runSuite(run, {
    threads: '1–2',
    threadsNote: 'equal intra-op threads for andor (onnxruntime) and PyTorch per row; pool rows W workers × 1 thread',
    backend: `onnxruntime-node ${version('onnxruntime-node')} CPU EP vs PyTorch (${PYTHON}, eager)`,
  });
}
