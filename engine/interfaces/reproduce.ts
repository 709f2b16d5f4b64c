// `npm run reproduce`: runs every series of models/manifest.json under both conventions, judges the seed papers'
// claims, and rewrites REPRODUCTION.md and the figures it cites (docs/reproduction/*.svg) from the results.
//   node dist/engine/interfaces/reproduce.js [--out DIR] [--cache DIR | --no-cache] [--series A,B]
//                                            [--authors-iterations N] [--quiet]
// --out writes DIR/REPRODUCTION.md and DIR/docs/reproduction/ (default: the package root). The runs, verdicts, reasons,
// figures and markdown live in reproduce-runs.ts, ../studies/claims.ts, reproduce-reasons.ts, reproduce-figures.ts and
// reproduce-markdown.ts; this file only wires them.
import { access, constants, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEngine, EngineError, InvalidOptionError } from '../index.js';
import { evaluateClaims } from '../studies/claims.js';
import { AUTHORS_DEFAULTS } from '../analysis/decompose.js';
import type { Conventions } from '../explain/conventions.js';
import { PACKAGE_ROOT } from './package-info.js';
import { removalFigure, runFigures, spindleFigure, sweepFigure, type Figure } from './reproduce-figures.js';
import { renderReproduction, type ReproductionDoc, type SeriesSection } from './reproduce-markdown.js';
import type { LossRow } from './reproduce-reasons.js';
import { conventionSweep, convergenceCheck, initVariants, loadSeries, playersShared, runSeries, type RunSettings, type SeriesRun } from './reproduce-runs.js';
import { makeFolder } from '../inputs/folders.js';

/** Pairs in flight per run, and runs at once (2 workers on the 2-core target machine). */
const PAIR_CONCURRENCY = 4;
const RUNS_IN_FLIGHT = 2;
/** The convergence check runs on this many train and this many test samples. */
const CHECK_PER_SPLIT = 8;
/** How often the load average is sampled during a run. */
const LOAD_SAMPLE_MS = 15_000;
/** Where the figures go, relative to the output folder (and as the document links them). */
const FIGURES_DIR = 'docs/reproduction';

/** CPU seconds the machine has been busy (Linux /proc/stat, USER_HZ = 100); undefined elsewhere. */
function machineBusyS(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (fields.reduce((a, b) => a + b, 0) - fields[3] - fields[4]) / 100;
  } catch {
    return undefined; // not Linux: the document leaves the load out
  }
}

/** The 1-minute load average (Linux /proc/loadavg); undefined elsewhere. */
function loadAverage(): number | undefined {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return undefined; // not Linux: the document leaves the load average out
  }
}

/** Samples the load average every LOAD_SAMPLE_MS until stopped; the mean of the samples. */
function sampleLoad(): { stop(): number | undefined } {
  const samples: number[] = [];
  const take = () => {
    const x = loadAverage();
    if (x !== undefined && Number.isFinite(x)) samples.push(x);
  };
  take();
  const timer = setInterval(take, LOAD_SAMPLE_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : undefined;
    },
  };
}

/** The options of a reproduction run. */
export interface ReproduceOptions {
  readonly out: string;
  readonly cacheDir: string | false;
  readonly series?: readonly string[];
  /** Iterations of the authors' optimizer; undefined: their own (10 000). */
  readonly authorsIterations?: number;
  readonly quiet: boolean;
}

/** Reads the arguments. */
function options(argv: readonly string[]): ReproduceOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { out: { type: 'string' }, cache: { type: 'string' }, 'no-cache': { type: 'boolean' }, series: { type: 'string' }, 'authors-iterations': { type: 'string' }, quiet: { type: 'boolean' } },
    strict: true,
  });
  const iterations = values['authors-iterations'] === undefined ? undefined : Number(values['authors-iterations']);
  if (iterations !== undefined && (!Number.isInteger(iterations) || iterations < 1)) throw new InvalidOptionError(`--authors-iterations must be a positive integer (got ${values['authors-iterations']}).`);
  return {
    out: resolve(values.out ?? PACKAGE_ROOT),
    cacheDir: values['no-cache'] ? false : resolve(values.cache ?? join(PACKAGE_ROOT, '.andor-cache')),
    series: values.series?.split(',').map((s) => s.trim()).filter(Boolean),
    authorsIterations: iterations,
    quiet: values.quiet ?? false,
  };
}

async function lossesOf(root: string, file: string): Promise<LossRow[]> {
  return (JSON.parse(await readFile(resolve(root, file), 'utf8')) as { checkpoints: LossRow[] }).checkpoints;
}

/** Writes the figures, after removing the SVG files of an earlier run. */
async function writeFigures(dir: string, figures: readonly Figure[]): Promise<void> {
  await makeFolder(dir);
  for (const f of await readdir(dir)) if (f.endsWith('.svg')) await rm(join(dir, f));
  for (const f of figures) await writeFile(join(dir, f.file), f.svg);
}

/**
 * Runs the reproduction and writes its document and figures.
 * @param opts - output folder, cache, series, iterations
 * @returns the document's data and the wall time
 */
export async function reproduce(opts: ReproduceOptions): Promise<{ doc: ReproductionDoc; wallS: number }> {
  const started = performance.now();
  const busy = machineBusyS();
  const own = process.cpuUsage();
  const load = sampleLoad();
  const log = (line: string) => void (!opts.quiet && process.stderr.write(`reproduce: ${line}\n`));
  const all = await loadSeries(PACKAGE_ROOT);
  const specs = opts.series ? all.filter((s) => opts.series!.includes(s.name)) : all;
  if (specs.length === 0) throw new InvalidOptionError(`--series matches no series of models/manifest.json. Expected some of: ${all.map((s) => s.name).join(', ')}.`);
  // the document and figures are written after minutes of runs: a folder that cannot take them is said first
  await makeFolder(join(opts.out, FIGURES_DIR))
    .then(() => access(opts.out, constants.W_OK))
    .catch((cause: NodeJS.ErrnoException) => {
      throw new InvalidOptionError(`--out ${opts.out} cannot take the reproduction (${cause.code ?? cause.message}); give a writable folder.`, { cause });
    });
  const engine = await createEngine();
  const settings: RunSettings = { root: PACKAGE_ROOT, cacheDir: opts.cacheDir, authorsIterations: opts.authorsIterations, pairConcurrency: PAIR_CONCURRENCY, runsInFlight: RUNS_IN_FLIGHT, log };
  try {
    const runs = await runSeries(engine, specs, settings);
    const runsS = (performance.now() - started) / 1e3;
    const pairOf = (name: string) => Object.fromEntries(runs.filter((r) => r.spec.name === name).map((r) => [r.conventions, r])) as Record<Conventions, SeriesRun>;
    let side = { pairs: 0, cached: 0 };
    const sections: SeriesSection[] = [];
    for (const spec of specs) {
      const pair = pairOf(spec.name);
      const init = await initVariants(engine, pair);
      side = { pairs: side.pairs + init.pairs, cached: side.cached + init.cached };
      const judging = { playersShared: playersShared(spec) };
      const checks = { andor: evaluateClaims(pair.andor.result, judging), authors: evaluateClaims(pair.authors.result, judging) };
      sections.push({ spec, evidence: { runs: pair, checks, init: init.rows, losses: await lossesOf(PACKAGE_ROOT, spec.losses) } });
      log(`${spec.name}: side analyses done`);
    }
    const first = pairOf(specs[0].name);
    const sweepRun = await conventionSweep(engine, first);
    side = { pairs: side.pairs + sweepRun.pairs, cached: side.cached + sweepRun.cached };
    const labels = first.andor.result.checkpoints.map((c) => String(c.epoch ?? c.name));
    const convergence = await convergenceCheck(engine, first, CHECK_PER_SPLIT);
    side = { pairs: side.pairs + convergence.pairs, cached: side.cached + convergence.cached };
    log('convergence check done');

    const figures: Figure[] = [
      ...runs.flatMap(runFigures),
      ...sections.map((s) => spindleFigure(s.spec.name, s.evidence.init, [0, 2, 4, 6])),
      sweepFigure(specs[0].name, labels, sweepRun.rows),
      removalFigure(runs.flatMap((r) => {
        const loss = r.result.checkpoints.at(-1)?.generalization?.loss;
        return loss?.train && loss.test ? [{ label: `${r.spec.name} (${r.conventions})`, gapOutput: loss.test.output - loss.train.output, gapGeneralizable: loss.test.generalizable - loss.train.generalizable }] : [];
      })),
    ];
    await writeFigures(join(opts.out, FIGURES_DIR), figures);
    const wallS = (performance.now() - started) / 1e3;
    const ownCpu = process.cpuUsage(own);
    const after = machineBusyS();
    const cpuS = (ownCpu.user + ownCpu.system) / 1e6;
    const otherLoadPct = busy === undefined || after === undefined ? undefined : (Math.max(0, after - busy - cpuS) / (wallS * os.cpus().length)) * 100;
    const pairs = { computed: runs.reduce((a, r) => a + r.result.pairs.computed, 0), cached: runs.reduce((a, r) => a + r.result.pairs.cached, 0) };
    const doc: ReproductionDoc = {
      date: new Date().toISOString().slice(0, 10),
      machine: { cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU', cores: os.cpus().length, node: process.versions.node, otherLoadPct, loadAverage: load.stop() },
      wallS,
      cpuS,
      runsS,
      pairs,
      settings: { authorsIterations: opts.authorsIterations ?? AUTHORS_DEFAULTS.iterations, pairConcurrency: PAIR_CONCURRENCY, runsInFlight: RUNS_IN_FLIGHT, workers: engine.options.workers },
      series: sections,
      sweep: { series: specs[0].name, labels, rows: sweepRun.rows, pairs: sweepRun.pairs, cached: sweepRun.cached },
      convergence,
      sidePairs: side,
      figuresDir: FIGURES_DIR,
    };
    await writeFile(join(opts.out, 'REPRODUCTION.md'), renderReproduction(doc));
    const verdicts = Object.fromEntries(sections.map((s) => [s.spec.name, Object.fromEntries((['andor', 'authors'] as const).map((c) => [c, Object.fromEntries(Object.entries(s.evidence.checks[c]).map(([id, check]) => [id, check!.verdict]))]))]));
    await writeFile(join(opts.out, FIGURES_DIR, 'verdicts.json'), `${JSON.stringify({ date: doc.date, wallS, cpuS, pairs, otherLoadPct, loadAverage: doc.machine.loadAverage, verdicts }, null, 1)}\n`);
    log(`wrote ${join(opts.out, 'REPRODUCTION.md')} and ${figures.length} figures in ${wallS.toFixed(0)} s`);
    return { doc, wallS };
  } finally {
    load.stop();
    await engine.dispose();
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await reproduce(options(process.argv.slice(2)));
  } catch (error) {
    // andor's own errors say what to fix: their message; anything else its stack
    process.stderr.write(`reproduce: ${error instanceof EngineError ? `error [${error.code}]: ${error.message}` : (error as Error)?.stack ?? error}\n`);
    process.exitCode = error instanceof InvalidOptionError ? 2 : 1;
  }
}
