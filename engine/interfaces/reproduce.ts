// `npm run reproduce`: runs every series of models/manifest.json under both conventions, judges the seed papers'
// claims, and rewrites REPRODUCTION.md and the figures it cites (docs/reproduction/*.svg) from the results.
//   node dist/engine/interfaces/reproduce.js [--out DIR] [--cache DIR | --no-cache] [--series A,B]
//                                            [--authors-iterations N] [--quiet] [--help]
// --out writes DIR/REPRODUCTION.md and DIR/docs/reproduction/ (default: the package root, which only a run of every
// series may rewrite). The runs, verdicts, reasons, figures, markdown and the writing of the output live in
// reproduce-runs.ts, ../studies/claims.ts, reproduce-reasons.ts, reproduce-figures.ts, reproduce-markdown.ts and
// reproduce-output.ts; this file only checks the options and wires them.
import { readFile } from 'node:fs/promises';
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
import { figureFiles, removalFigure, runFigures, spindleFigure, sweepFigure, type Figure } from './reproduce-figures.js';
import { assertOutputPlaces, DOCUMENT_FILE, VERDICTS_FILE, writeReproduction } from './reproduce-output.js';
import { renderReproduction, type ReproductionDoc, type SeriesSection } from './reproduce-markdown.js';
import type { LossRow } from './reproduce-reasons.js';
import { conventionSweep, convergenceCheck, initVariants, loadSeries, playersShared, runSeries, type RunSettings, type SeriesRun, type SeriesSpec } from './reproduce-runs.js';
import { makeFolder } from '../inputs/folders.js';
import { openCache } from '../explain/cache.js';
import { analysisFields } from '../contracts/schema/fields.js';

/** Pairs in flight per run, and runs at once (2 workers on the 2-core target machine). */
const PAIR_CONCURRENCY = 4;
const RUNS_IN_FLIGHT = 2;
/** The convergence check runs on this many train and this many test samples. */
const CHECK_PER_SPLIT = 8;
/** How often the load average is sampled during a run. */
const LOAD_SAMPLE_MS = 15_000;
/** Where the figures go, relative to the output folder (and as the document links them). */
const FIGURES_DIR = 'docs/reproduction';
/** The most iterations a decomposition takes (the schema's bound, which the engine enforces as options.iterations). */
const MAX_ITERATIONS = Number((analysisFields.iterations as { readonly maximum?: unknown }).maximum);

/** What --help prints, and what a wrong flag is answered with. */
export const USAGE = `Usage: node dist/engine/interfaces/reproduce.js [options]   (npm run reproduce -- [options])
  --out DIR                 write DIR/REPRODUCTION.md and DIR/docs/reproduction/ (default: the package root; a run of
                            only some series must name another folder)
  --cache DIR               the pair cache (default: .andor-cache in the package root)
  --no-cache                compute every pair
  --series A,B              run only these series of models/manifest.json
  --authors-iterations N    iterations of the authors' optimizer, 1..${MAX_ITERATIONS} (default: ${AUTHORS_DEFAULTS.iterations})
  --quiet                   no progress lines
  --help                    this text
`;

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

/**
 * Reads the arguments.
 * @param argv - the arguments after the script
 * @returns the options, or undefined for --help
 * @throws InvalidOptionError for an unknown flag, a flag without its value, or a value out of range, with the usage
 */
export function options(argv: readonly string[]): ReproduceOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { out: { type: 'string' }, cache: { type: 'string' }, 'no-cache': { type: 'boolean' }, series: { type: 'string' }, 'authors-iterations': { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (cause) {
    // parseArgs's TypeError (ERR_PARSE_ARGS_*) was printed as a Node stack: its message, and what the flags are
    throw new InvalidOptionError(`${(cause as Error).message.replace(/\.?$/, '.')}\n${USAGE}`, { cause });
  }
  if (values.help) return undefined;
  const iterations = values['authors-iterations'] === undefined ? undefined : Number(values['authors-iterations']);
  if (iterations !== undefined && (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS)) {
    throw new InvalidOptionError(`--authors-iterations must be an integer in 1..${MAX_ITERATIONS} (got ${values['authors-iterations']}).`);
  }
  if (values.cache !== undefined && values['no-cache']) throw new InvalidOptionError(`--cache ${values.cache} and --no-cache exclude each other; give one of them.`);
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

/** Whether two paths name one folder (links resolved; a path that does not exist is itself). */
function sameFolder(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p); // not there yet: no link to resolve
    }
  };
  return real(a) === real(b);
}

/**
 * Checks everything a run needs before any folder is made or any pair computed: the series, the output folder
 * (a run of some series only would replace the package's own reproduction of every series with those alone, and
 * deleted the others' figures), the places of every file the run writes, and the cache.
 * @returns the series to run
 */
async function assertRunnable(opts: ReproduceOptions): Promise<SeriesSpec[]> {
  const all = await loadSeries(PACKAGE_ROOT);
  const names = all.map((s) => s.name).join(', ');
  const unknown = (opts.series ?? []).filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) throw new InvalidOptionError(`--series ${unknown.join(',')} ${unknown.length > 1 ? 'are not series' : 'is not a series'} of models/manifest.json. Expected some of: ${names}.`);
  const specs = opts.series ? all.filter((s) => opts.series!.includes(s.name)) : all;
  if (specs.length === 0) throw new InvalidOptionError(`--series matches no series of models/manifest.json. Expected some of: ${names}.`);
  if (specs.length < all.length && sameFolder(opts.out, PACKAGE_ROOT)) {
    throw new InvalidOptionError(
      `--series ${specs.map((s) => s.name).join(',')} runs ${specs.length} of the ${all.length} series, and --out is the package root (${PACKAGE_ROOT}), whose ${DOCUMENT_FILE} reports every series: ` +
        'give --out DIR for a run of some series, or leave --series out.',
    );
  }
  await assertOutputPlaces(opts.out, FIGURES_DIR, figureFiles(specs.map((s) => s.name)));
  // the last check, as it makes the cache folder: a file in its place was named options.cacheDir, after the engine started
  await openCache(opts.cacheDir, '--cache');
  return specs;
}

/**
 * Runs the reproduction and writes its document and figures.
 * @param opts - output folder, cache, series, iterations
 * @returns the document's data and the wall time
 */
export async function reproduce(opts: ReproduceOptions): Promise<{ doc: ReproductionDoc; wallS: number }> {
  // the document and figures are written after minutes of runs: a folder that cannot take them is said first, and
  // the folder is made only once every check has passed (a refused run left an empty OUT/docs/reproduction)
  const specs = await assertRunnable(opts);
  await makeFolder(join(opts.out, FIGURES_DIR)).catch((cause: NodeJS.ErrnoException) => {
    throw new InvalidOptionError(`--out ${opts.out} cannot take the reproduction (${cause.code ?? cause.message}); give a writable folder.`, { cause });
  });
  const started = performance.now();
  const busy = machineBusyS();
  const own = process.cpuUsage();
  const log = (line: string) => void (!opts.quiet && process.stderr.write(`reproduce: ${line}\n`));
  const engine = await createEngine();
  // started only once the engine is: a run refused before, or an engine that did not come up, leaves no timer behind
  const load = sampleLoad();
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
    const verdicts = Object.fromEntries(sections.map((s) => [s.spec.name, Object.fromEntries((['andor', 'authors'] as const).map((c) => [c, Object.fromEntries(Object.entries(s.evidence.checks[c]).map(([id, check]) => [id, check!.verdict]))]))]));
    // the figures are listed so that the next run into this folder replaces exactly them (and no one else's SVG)
    const verdictsText = `${JSON.stringify({ date: doc.date, wallS, cpuS, pairs, otherLoadPct, loadAverage: doc.machine.loadAverage, verdicts, figures: figures.map((f) => f.file) }, null, 1)}\n`;
    await writeReproduction(opts.out, FIGURES_DIR, { document: renderReproduction(doc), verdicts: verdictsText, figures });
    log(`wrote ${join(opts.out, DOCUMENT_FILE)}, ${join(FIGURES_DIR, VERDICTS_FILE)} and ${figures.length} figures in ${wallS.toFixed(0)} s`);
    return { doc, wallS };
  } finally {
    load.stop();
    await engine.dispose();
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const opts = options(process.argv.slice(2));
    if (opts === undefined) process.stdout.write(USAGE);
    else await reproduce(opts);
  } catch (error) {
    // andor's own errors say what to fix: their message; anything else its stack
    process.stderr.write(`reproduce: ${error instanceof EngineError ? `error [${error.code}]: ${error.message}` : (error as Error)?.stack ?? error}\n`);
    process.exitCode = error instanceof InvalidOptionError ? 2 : 1;
  }
}
