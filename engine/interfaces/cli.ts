#!/usr/bin/env node
// The andor command line: `andor explain` (and later commands). Parses flags into the library's options, prints a
// readable summary, writes the JSON result, and turns errors into one clear line and a non-zero exit code.
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PairOptions } from '../studies/dynamics.js';
import { EngineError, InvalidOptionError, createEngine, dynamicsToJson, loadSampleSet, resultToJson, type DynamicsResult, type Engine, type ExplainRequest, type ExplainResult } from '../index.js';
import { dynamicsReport, explainReport } from '../report/report.js';
import { summarize, summarizeDynamics } from '../api/result.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MANIFEST = resolve(PACKAGE_ROOT, 'models', 'manifest.json');

const USAGE = `andor: AND-OR interactions of ONNX models

Usage:
  andor explain [options]     explain one sample of a model (default: the first model in models/manifest.json)
  andor dynamics [options]    interactions across training checkpoints (default: the first series in the manifest)
  andor serve [options]       HTTP service: POST /explain, GET /models, /health, /openapi.json
  andor bench [--quick]       run the benchmark suites of bench/ and print one table of their targets
  andor --help                this text

Model and sample:
  --model FILE                ONNX model (exported from PyTorch with a batch axis, or a fixed batch)
  --sample SRC                the sample: inline JSON array, or a .json, .csv or .npy file (one row per sample)
  --row K                     row of a multi-sample file (default 0)
  --values FILE               explain a game instead of a model: v on all 2^n masks, as a JSON array or a raw
                              little-endian float64 file (bit i of the index = player i)
  --input NAME                model input to mask (default: the first)
  --output NAME               model output to read (default: the first)

Players and baseline:
  --modality M                how players map to input elements: tabular (feature columns, default) |
                              image (grid cells over H x W) | text (token positions) | pointcloud (point clusters)
  --players LIST              player units, e.g. 0-9 or 1,3,5: feature columns, grid cells (row-major), token
                              positions or clusters (default: all)
  --grid RxC                  image: the grid of cells (default 4x4)
  --blur-sigma S              image: sigma in pixels of the blur baseline (default half a cell)
  --mask-token ID             text: the token id written at absent positions
  --mask-mode token|attention text: replace absent tokens (default) or zero the attention mask there
  --clusters K                pointcloud: number of clusters (default 10)
  --names A,B,...             player names (default: feature names from the sample file, else x0, x1, ...)
  --baseline B                zero | mean | blur (image) | centroid, center (pointcloud) | a JSON array | a file
                              whose first row is the baseline (default zero)
  --reference SRC             rows for the mean baseline (default: the rows of --sample)
  --background keep|mask      elements of no player keep their value (keep, default) or take the baseline

Reward and analysis:
  --target K                  class to explain (default: the sample's label, else the predicted class)
  --reward R                  gt-log-odds (default) | logit | output, and their -v0 variants
  --decomposition D           and-or (default): learn the AND-OR split (γ, q), then reorganize |
                              and: Harsanyi dividends of v + q (q learned unless --preset none)
  --preset P                  default (the fastest solver we measured: preconditioned primal-dual, on v/s) |
                              reference (the authors' SGD: momentum 0.9, lr decaying to lr/10, raw lr) |
                              none (γ = q = 0: AND = ½ Möbius(v), OR = ½ OR-transform(v))
  --iterations N              solver iterations (reference: the authors' niter, N−1 updates; default 10000;
                              default preset: 2000)
  --lr X                      reference: the authors' lr (default 1e-5), lr_t = lr·10^(−t/(N−1));
                              default preset: the primal weight ω (default 5)
  --qthres X                  noise bound |q_T| ≤ X·|v(N) − v(∅)| (default 0.04)
  --solver S                  the default preset's solver: pdhg (default) | adam | sgd
  --salient-ratio R           salient when |I| >= R * max|I| over non-empty S (default 0.05)
  --salient-include-empty     include the empty-set term in that max (the authors' code does)

Running:
  --backend B                 auto (default: CUDA, then CPU, then WASM) | cpu | cuda | wasm
  --workers N                 worker threads for evaluation (default: one per core, at most 8; 0: the main thread)
  --threads N                 intra-op threads per session
  --batch-size N              rows per model run (default automatic)
  --max-memory-mb N           memory budget for the 2^n arrays (default 4096)
  --kernels release|debug     kernel build (default release)

Dynamics (andor dynamics; the player, baseline, reward and analysis options above apply to every pair):
  --checkpoints DIR|LIST      a folder (its epoch-*.onnx files, else all .onnx, by name) or a comma-separated list
  --samples FILE              sample set whose samples have "label" and "split": train | test | ood
  --losses FILE               {"checkpoints": [{"name", "trainLoss", "testLoss"}]}, matched by file name
  --reference-models LIST     K models trained on the test split: which interactions generalize
  --cache DIR                 cache of finished pairs (default .andor-cache); a rerun resumes from it
  --no-cache                  compute every pair, cache nothing
  --gap-tolerance X           loss-gap rise over its running minimum that marks over-fitting (default 0.02)
  --concurrency N             pairs in flight (default 2)

Service (andor serve; --backend, --workers, --threads and --max-memory-mb apply):
  --models DIR                folder of .onnx files the service may explain (required; nothing outside it is read)
  --port P                    port (default 8080; 0 picks a free one) and --host H (default 127.0.0.1)
  --concurrency N             jobs running at once (default 1) and --queue N jobs waiting (default 8; more get 429)
  --max-players N             most players per request (default 16)
  --body-limit BYTES          largest request body (default 1048576; larger get 413)
  --timeout-ms MS             a job running longer is cancelled with 504 (default 60000)

Output:
  --out FILE                  write the JSON result (schema andor.explain/1 or andor.dynamics/1) to FILE
  --report FILE.html          write a self-contained HTML report with charts (explain and dynamics)
  --json                      print the JSON result to stdout instead of the summary
  --no-arrays                 leave v, and, or out of the JSON (for large n)
  --quiet                     no summary
  --debug                     print stack traces of errors
`;

const OPTIONS = {
  model: { type: 'string' },
  sample: { type: 'string' },
  row: { type: 'string' },
  values: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  modality: { type: 'string' },
  grid: { type: 'string' },
  'blur-sigma': { type: 'string' },
  'mask-token': { type: 'string' },
  'mask-mode': { type: 'string' },
  clusters: { type: 'string' },
  players: { type: 'string' },
  names: { type: 'string' },
  baseline: { type: 'string' },
  reference: { type: 'string' },
  background: { type: 'string' },
  target: { type: 'string' },
  reward: { type: 'string' },
  decomposition: { type: 'string' },
  preset: { type: 'string' },
  iterations: { type: 'string' },
  lr: { type: 'string' },
  qthres: { type: 'string' },
  solver: { type: 'string' },
  'salient-ratio': { type: 'string' },
  'salient-include-empty': { type: 'boolean' },
  backend: { type: 'string' },
  workers: { type: 'string' },
  threads: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-memory-mb': { type: 'string' },
  kernels: { type: 'string' },
  checkpoints: { type: 'string' },
  samples: { type: 'string' },
  losses: { type: 'string' },
  'reference-models': { type: 'string' },
  cache: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'gap-tolerance': { type: 'string' },
  concurrency: { type: 'string' },
  models: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  queue: { type: 'string' },
  'max-players': { type: 'string' },
  'body-limit': { type: 'string' },
  'timeout-ms': { type: 'string' },
  out: { type: 'string' },
  report: { type: 'string' },
  json: { type: 'boolean' },
  'no-arrays': { type: 'boolean' },
  quiet: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parseFlags>;

function parseFlags(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }).values;
  } catch (cause) {
    throw new InvalidOptionError(`${(cause as Error).message}. Run "andor --help" for the options.`, { cause });
  }
}

/** A numeric flag: parsed as a number, validated by the library (so the message names the option). */
function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (value.trim() === '' || Number.isNaN(x)) throw new InvalidOptionError(`--${flag} must be a number (got "${value}").`);
  return x;
}

async function baselineOf(value: string | undefined): Promise<ExplainRequest['baseline']> {
  if (value === undefined || ['zero', 'mean', 'blur', 'centroid', 'center'].includes(value)) return value as ExplainRequest['baseline'];
  const set = await loadSampleSet(value);
  const first = set.samples[0].values;
  return first instanceof Float64Array ? first : Object.values(first)[0];
}

/** The first manifest entry's arguments (explain: the first model; dynamics: the first series), with paths resolved
 *  against the package root. */
async function defaultArgs(command: 'explain' | 'dynamics'): Promise<string[]> {
  const manifest = JSON.parse(await readFile(MANIFEST, 'utf8')) as { models: { explain: string[] }[]; series: { dynamics: string[] }[] };
  const args = command === 'explain' ? manifest.models[0].explain : manifest.series[0].dynamics;
  const paths = ['--model', '--sample', '--reference', '--checkpoints', '--losses', '--samples', '--reference-models'];
  const absolute = (a: string) => a.split(',').map((p) => (isAbsolute(p) ? p : resolve(PACKAGE_ROOT, p))).join(',');
  return args.map((a, i) => (paths.includes(args[i - 1] ?? '') ? absolute(a) : a));
}

function engineFor(flags: Flags, maxPlayers?: number) {
  return createEngine({
    backend: flags.backend as never,
    workers: num(flags.workers, 'workers'),
    threads: num(flags.threads, 'threads'),
    kernels: flags.kernels as never,
    maxMemoryMb: num(flags['max-memory-mb'], 'max-memory-mb'),
    maxPlayers,
    logger: {
      warn: (m) => void process.stderr.write(`andor: warning: ${m}\n`),
      info: (m) => void (flags.debug && process.stderr.write(`andor: ${m}\n`)),
    },
  });
}

/** The analysis options shared by explain and dynamics. */
function analysisOptions(flags: Flags) {
  return {
    decomposition: flags.decomposition as never,
    preset: flags.preset as never,
    iterations: num(flags.iterations, 'iterations'),
    lr: num(flags.lr, 'lr'),
    qthres: num(flags.qthres, 'qthres'),
    solver: flags.solver as never,
    salientRatio: num(flags['salient-ratio'], 'salient-ratio'),
    salientIncludeEmpty: flags['salient-include-empty'],
  };
}

/** The per-pair explain options shared by explain and dynamics (players, baseline, reward, batching). */
async function pairOptions(flags: Flags): Promise<PairOptions> {
  return dropUndefined({
    ...analysisOptions(flags),
    modality: flags.modality as never,
    grid: flags.grid,
    blurSigma: num(flags['blur-sigma'], 'blur-sigma'),
    maskToken: num(flags['mask-token'], 'mask-token'),
    maskMode: flags['mask-mode'] as never,
    clusters: num(flags.clusters, 'clusters'),
    players: flags.players,
    input: flags.input,
    output: flags.output,
    baseline: await baselineOf(flags.baseline),
    reference: flags.reference,
    background: flags.background as never,
    reward: flags.reward as never,
    batchSize: num(flags['batch-size'], 'batch-size'),
  });
}

/** Runs `job` with an engine and a SIGINT-driven AbortSignal, disposing the engine afterwards. */
async function withEngine<T>(flags: Flags, job: (engine: Engine, signal: AbortSignal) => Promise<T>): Promise<T> {
  const engine = await engineFor(flags);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    return await job(engine, abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
    await engine.dispose();
  }
}

async function explain(flags: Flags): Promise<ExplainResult> {
  return withEngine(flags, async (engine, signal) => {
    const names = flags.names?.split(',').map((s) => s.trim());
    if (flags.values !== undefined) {
      if (flags.model !== undefined) throw new InvalidOptionError('Give either --model (explain a model) or --values (explain a game), not both.');
      return engine.explainValues(dropUndefined({ values: flags.values, names, ...analysisOptions(flags) }));
    }
    if (flags.model === undefined) throw new InvalidOptionError('--model is required (or --values FILE for a game). Run "andor --help".');
    if (flags.sample === undefined) throw new InvalidOptionError('--sample is required with --model: a JSON array or a .json/.csv/.npy file.');
    const progress = process.stderr.isTTY && !flags.quiet ? progressBar('masks') : undefined;
    const request: ExplainRequest = dropUndefined({
      ...(await pairOptions(flags)),
      names,
      model: flags.model,
      sample: flags.sample,
      row: num(flags.row, 'row'),
      target: num(flags.target, 'target'),
      signal,
      onProgress: progress,
    });
    try {
      return await engine.explain(request);
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
    }
  });
}

async function dynamics(flags: Flags): Promise<DynamicsResult> {
  return withEngine(flags, async (engine, signal) => {
    if (flags.checkpoints === undefined) throw new InvalidOptionError('--checkpoints is required: a folder of ONNX checkpoints or a comma-separated list.');
    if (flags.samples === undefined) throw new InvalidOptionError('--samples is required: a sample-set JSON whose samples carry "split": train | test | ood and a "label".');
    const progress = process.stderr.isTTY && !flags.quiet ? progressBar('pairs') : undefined;
    try {
      return await engine.dynamics(dropUndefined({
        ...(await pairOptions(flags)),
        checkpoints: flags.checkpoints,
        samples: flags.samples,
        losses: flags.losses,
        referenceModels: flags['reference-models'],
        cacheDir: flags['no-cache'] ? false : flags.cache,
        gapTolerance: num(flags['gap-tolerance'], 'gap-tolerance'),
        concurrency: num(flags.concurrency, 'concurrency'),
        signal,
        onProgress: progress && ((p) => progress(p.done, p.total)),
      }));
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
    }
  });
}

/** Runs bench/run.js (every suite in its own process; it ends with one table of all targets). */
function benchCommand(args: string[]): number {
  const unknown = args.filter((a) => a !== '--quick');
  if (unknown.length) throw new InvalidOptionError(`andor bench takes only --quick (got ${unknown.join(' ')}).`);
  const child = spawnSync(process.execPath, [resolve(PACKAGE_ROOT, 'bench', 'run.js'), ...args], { stdio: 'inherit' });
  return child.status ?? 1;
}

/** Runs the HTTP service until SIGINT or SIGTERM, then shuts it down gracefully. */
async function serveCommand(flags: Flags): Promise<number> {
  if (flags.models === undefined) throw new InvalidOptionError('--models DIR is required: the folder of .onnx files the service may explain.');
  const { serve } = await import('./serve.js');
  const engine = await engineFor(flags, num(flags['max-players'], 'max-players') ?? 16);
  try {
    const service = await serve(engine, dropUndefined({
      modelsDir: flags.models,
      port: num(flags.port, 'port'),
      host: flags.host,
      concurrency: num(flags.concurrency, 'concurrency'),
      queueSize: num(flags.queue, 'queue'),
      bodyLimitBytes: num(flags['body-limit'], 'body-limit'),
      timeoutMs: num(flags['timeout-ms'], 'timeout-ms'),
    }));
    process.stdout.write(`andor: serving ${flags.models} on ${service.url} (POST /explain, GET /models, /health, /openapi.json)\n`);
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stdout.write('andor: shutting down: no new requests; waiting for running jobs\n');
    await service.close();
    return 0;
  } finally {
    await engine.dispose();
  }
}

function progressBar(unit: string): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit}`);
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Runs the CLI.
 * @param argv - arguments after the executable and script
 * @returns the process exit code
 */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    let [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (!['explain', 'dynamics', 'serve', 'bench'].includes(command)) throw new InvalidOptionError(`Unknown command "${command}". Expected one of: explain, dynamics, serve, bench. Run "andor --help".`);
    if (command === 'bench') return benchCommand(rest);
    let flags = parseFlags(rest);
    if (flags.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (command === 'serve') return await serveCommand(flags);
    const needsDefault = command === 'explain' ? flags.model === undefined && flags.values === undefined : flags.checkpoints === undefined;
    if (needsDefault) {
      rest = [...(await defaultArgs(command as 'explain' | 'dynamics')), ...rest];
      flags = parseFlags(rest);
    }
    const [json, text, html] =
      command === 'explain'
        ? await explain(flags).then((r) => [resultToJson(r, { arrays: !flags['no-arrays'] }), summarize(r), flags.report && explainReport(r)] as const)
        : await dynamics(flags).then((r) => [dynamicsToJson(r), summarizeDynamics(r), flags.report && dynamicsReport(r)] as const);
    if (flags.out) await writeFile(flags.out, JSON.stringify(json) + '\n');
    if (flags.report && html) await writeFile(flags.report, html);
    if (flags.json) process.stdout.write(JSON.stringify(json) + '\n');
    else if (!flags.quiet) process.stdout.write([text, ...[flags.out, flags.report].filter(Boolean).map((f) => `wrote     ${f}`)].join('\n') + '\n');
    return 0;
  } catch (error) {
    if (error instanceof EngineError) {
      process.stderr.write(`andor: error [${error.code}]: ${error.message}\n`);
      if (debug) process.stderr.write(`${error.stack}\n`);
      return error instanceof InvalidOptionError ? 2 : 1;
    }
    process.stderr.write(`andor: unexpected error: ${debug ? (error as Error).stack : (error as Error)?.message ?? error}\n`);
    if (!debug) process.stderr.write('andor: run again with --debug for the stack trace.\n');
    return 1;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
