#!/usr/bin/env node
// The andor command line. Flags come from the schema (cli-options.ts); this file turns them into library requests,
// checks output paths before any work, prints a readable summary, writes the JSON result and the report, and turns
// errors into one clear line and a non-zero exit code.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants as osConstants } from 'node:os';
import { existsSync, realpathSync, statSync, type Stats } from 'node:fs';
import { access, constants, lstat, readFile, readlink, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analysisFields, BASELINE_KEYWORDS } from '../contracts/schema/fields.js';
import { didYouMean } from '../inputs/validate.js';
import { preview } from '../inputs/preview.js';
import {
  CancelledError, EngineError, FolderStore, InvalidInputError, InvalidOptionError, chartsOf, createEngine, createQueueExecutor, dynamicsToJson, loadSampleSet, renderReport, resultToJson,
  type Engine, type ExplainRequest, type Logger, type QueueExecutor, type ReportableResult, type WorkerEvent,
} from '../index.js';
import { batchToJson, summarize, summarizeBatch, summarizeDynamics } from '../api/result.js';
import { openOutput, partialPath, printable, settleOutputs, type Output } from './output.js';
import { COMMANDS, commandHelp, fieldsOf, flagOf, parseCommand, spellFields, type Command } from './cli-options.js';
import { PACKAGE_ROOT, VERSION } from './package-info.js';
import { makeFolder } from '../inputs/folders.js';
import { readManifest, withModelDefaults, type Manifest } from './manifest.js';
import { assertReportable } from '../report/check.js';

const MANIFEST = resolve(PACKAGE_ROOT, 'models', 'manifest.json');

const USAGE = `andor ${VERSION}: AND-OR interactions of ONNX models

Usage:
${Object.values(COMMANDS).map((c) => `  andor ${c.name.padEnd(10)} ${c.summary}`).join('\n')}
  andor bench      run the benchmark suites of bench/ (in a clone) and print one table of their targets [--quick]
  andor --version  the package version

Run "andor <command> --help" for a command's options.
`;

type Flags = Record<string, unknown>;

/** The package's manifest (undefined in an installed package without its models: no defaults to offer). */
const packageManifest = (): Promise<Manifest | undefined> => readManifest(MANIFEST);

/** The manifest's argument list with paths resolved against the package root. */
function absoluteArgs(args: readonly string[]): string[] {
  const paths = ['--model', '--sample', '--reference', '--checkpoints', '--losses', '--samples', '--reference-models'];
  const absolute = (a: string) => a.split(',').map((p) => (isAbsolute(p) ? p : resolve(PACKAGE_ROOT, p))).join(',');
  return args.map((a, i) => (paths.includes(args[i - 1] ?? '') ? absolute(a) : a));
}

/** The flags of the first manifest entry, for a command run without a model (explain) or checkpoints (dynamics). */
async function defaultFlags(command: Command, given: Flags): Promise<Flags> {
  const manifest = await packageManifest();
  const args = command.name === 'explain' ? manifest?.models[0]?.explain : manifest?.series[0]?.dynamics;
  if (!args) throw new InvalidOptionError(`andor ${command.name} needs ${command.name === 'explain' ? '--model and --sample (or --values)' : '--checkpoints and --samples'}: this installation has no bundled models to default to.`);
  const defaults: Flags = parseCommand(command, absoluteArgs(args));
  // explain --samples FILE takes the default model, not its one sample
  if (command.name === 'explain' && given.samples !== undefined) {
    delete defaults.sample;
    delete defaults.row;
  }
  return { ...defaults, ...given };
}

/** When --model names a bundled model, its manifest entry fills the model properties the user left out. */
async function bundledDefaults(flags: Flags): Promise<Flags> {
  if (typeof flags.model !== 'string') return flags;
  const manifest = await packageManifest();
  let real: string;
  try {
    real = realpathSync(flags.model);
  } catch {
    return flags; // the library reports a missing model, with its path
  }
  const entry = manifest?.models.find((m) => {
    try {
      return realpathSync(resolve(PACKAGE_ROOT, m.file)) === real;
    } catch {
      return false;
    }
  });
  return withModelDefaults(flags, entry);
}

/** Checks that FILE can be written (its folder exists and is writable; it is not a folder) before any work runs. */
async function assertWritable(file: unknown, flag: string): Promise<void> {
  if (typeof file !== 'string') return;
  // dirname('out/') is '.': the folder would pass, and the write fail after the work
  if (/[\\/]$/.test(file)) throw new InvalidOptionError(`--${flag} ${file} names a folder; give a file name.`);
  const folder = dirname(resolve(file));
  try {
    if (!(await stat(folder)).isDirectory()) throw new Error('not a folder');
    await access(folder, constants.W_OK);
  } catch (cause) {
    throw new InvalidOptionError(`--${flag} ${file}: the folder ${folder} does not exist or is not writable; create it first.`, { cause });
  }
  const existing = await stat(file).catch((cause: NodeJS.ErrnoException) => {
    // absent is the common case; a name too long or a path through a file is not
    if (cause.code === 'ENOENT') return undefined;
    throw new InvalidOptionError(`Cannot write --${flag} ${file.length > 120 ? `${file.slice(0, 120)}…` : file}: ${cause.code ?? cause.message}. Give a shorter or another file name.`, { cause });
  });
  if (existing?.isDirectory()) throw new InvalidOptionError(`--${flag} ${file} is a folder; give a file name.`);
  // a read-only file would be replaced by the rename at the end (output.ts): refused before the work, as a write was
  if (existing?.isFile()) await access(file, constants.W_OK).catch((cause: NodeJS.ErrnoException) => {
    throw new InvalidOptionError(`Cannot write --${flag} ${file}: ${cause.code ?? cause.message}. Give a file you may write, or make it writable.`, { cause });
  });
}

/** Refuses an output file that is one of the run's inputs (the report written over the model, the result over the
 *  samples): the run would read it, then replace it. */
function assertNotInput(outputs: readonly (readonly [string, unknown])[], inputs: readonly (readonly [string, unknown])[]): void {
  for (const output of outputs) {
    for (const input of inputs) {
      const paths = typeof input[1] === 'string' ? input[1].split(',') : [];
      for (const path of paths) {
        assertDistinct([output, [input[0], path]]);
        // a folder of inputs (--checkpoints run/) holds its files: an output inside it would replace one of them
        // (a file there already), or become one (a model) (a dynamics --out run/epoch-0004.onnx replaced that
        // checkpoint by the JSON result; an adversarial sweep, stop 45); a new result.json there is harmless
        const out = output[1];
        if (typeof out === 'string' && isFolder(path) && inside(realOf(out), realOf(path)) && (existsSync(out) || /\.onnx$/i.test(out))) {
          throw new InvalidOptionError(`${output[0]} ${out} is in the folder ${path} of ${input[0]}: it would ${existsSync(out) ? 'replace one of its files' : 'add a model to it'}. Write it elsewhere.`);
        }
      }
    }
  }
}

const isFolder = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** A path with its links resolved (as far as it exists: a file not yet written keeps its name in its real folder). */
function realOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const folder = dirname(resolve(path));
    return folder === resolve(path) ? folder : join(realOf(folder), basename(path));
  }
}

const inside = (path: string, folder: string): boolean => path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/** Refuses two of a command's files that are one file (the HTML report written over the JSON result). */
function assertDistinct(files: readonly (readonly [string, unknown])[]): void {
  const given = files.filter((f): f is readonly [string, string] => typeof f[1] === 'string');
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) {
      if (real(given[i][1]) === real(given[j][1])) throw new InvalidOptionError(`${given[i][0]} and ${given[j][0]} are the same ${given[j][0] === '--cache' ? 'path' : 'file'} (${given[i][1]}): one would overwrite the other. Give them different names.`);
    }
  }
}

/** --baseline: a keyword, an inline JSON array, or a file whose first row is the baseline. */
async function baselineOf(value: unknown): Promise<ExplainRequest['baseline']> {
  if (value === undefined || (BASELINE_KEYWORDS as readonly unknown[]).includes(value)) return value as ExplainRequest['baseline'];
  const text = String(value);
  const exists = await stat(text).then((s) => s.isFile(), () => false);
  if (!exists && !text.trim().startsWith('[')) {
    throw new InvalidOptionError(`--baseline "${text}" is neither a keyword (${BASELINE_KEYWORDS.join(', ')}) nor a JSON array nor a readable file.${didYouMean(text, BASELINE_KEYWORDS)}`);
  }
  // the library reads its first row as the sample is: the masked input by name, columns and layout checked
  return loadSampleSet(text, 'the inline --baseline');
}

/** Every warning this process has printed on stderr: a text summary leaves them out rather than saying them twice. */
const printedWarnings = new Set<string>();

/** Where the CLI's warnings and (with --debug) notes go. */
function loggerFor(flags: Flags): Logger {
  return {
    warn: (m: string) => {
      printedWarnings.add(m);
      process.stderr.write(`andor: warning: ${m}\n`);
    },
    info: (m: string) => void (flags.debug && process.stderr.write(`andor: ${m}\n`)),
  };
}

function engineFor(flags: Flags, maxPlayers?: number, queue?: QueueExecutor) {
  return createEngine(
    dropUndefined({
      backend: flags.backend as never,
      workers: flags.workers as number | undefined,
      threads: flags.threads as number | undefined,
      kernels: flags.kernels as never,
      maxMemoryMb: flags.maxMemoryMb as number | undefined,
      maxPlayers: (flags.maxPlayers as number | undefined) ?? maxPlayers,
      logger: loggerFor(flags),
      queue,
    }),
  );
}

/** With --queue URL --store DIR: the executor that sends the run's units to the queue's workers. */
async function queueFor(flags: Flags): Promise<QueueExecutor | undefined> {
  if (flags.queue === undefined && flags.store === undefined) {
    const stray = (['leaseSeconds', 'shardMasks', 'reconnectMs'] as const).filter((f) => flags[f] !== undefined).map((f) => ({ leaseSeconds: '--lease-seconds', shardMasks: '--shard-masks', reconnectMs: '--reconnect-ms' })[f]);
    if (stray.length > 0) throw new InvalidOptionError(`${stray.join(' and ')} apply to runs on a job queue: add --queue URL --store DIR, or leave ${stray.length > 1 ? 'them' : 'it'} out.`);
    return undefined;
  }
  if (flags.queue === undefined || flags.store === undefined) throw new InvalidOptionError('--queue URL and --store DIR go together: the queue\'s database, and the model store its workers read.');
  if (flags.values !== undefined || (flags.model !== undefined && flags.samples === undefined && flags.checkpoints === undefined)) {
    throw new InvalidOptionError('--queue runs many units: use it with explain --samples FILE or with dynamics (one sample runs here).');
  }
  return createQueueExecutor(dropUndefined({ url: flags.queue as string, store: new FolderStore(flags.store as string), leaseSeconds: flags.leaseSeconds as number | undefined, shardMasks: flags.shardMasks as number | undefined, reconnectMs: flags.reconnectMs as number | undefined, logger: loggerFor(flags) }));
}

const ENGINE_FLAGS = ['backend', 'workers', 'threads', 'kernels', 'maxMemoryMb', 'maxPlayers', 'queue', 'store', 'leaseSeconds', 'shardMasks', 'reconnectMs'];
const OUTPUT_FLAGS = ['out', 'report', 'json', 'arrays', 'quiet', 'debug'];

/** The flags that are request fields (not engine or output settings). */
function requestFields(flags: Flags, drop: readonly string[] = []): Flags {
  return Object.fromEntries(Object.entries(flags).filter(([k, v]) => v !== undefined && ![...ENGINE_FLAGS, ...OUTPUT_FLAGS, ...drop].includes(k)));
}

/** SIGINT and SIGTERM stop the job through this, from the moment the CLI starts (a signal that arrives while the
 *  engine starts up still ends in a clean stop); the exit code is then 130, the shell's code for an interrupt. */
const stop = new AbortController();
/** A job that cannot see the stop within this long (a read blocked in the file system: a FIFO that no one writes) is
 *  ended by the signal itself: one signal stops the CLI, as `timeout` expects. */
const STOP_GRACE_MS = 10_000;
const onStopSignal = (signal: NodeJS.Signals) => {
  // a second signal while the job stops (Ctrl-C twice, `timeout` and its process group) is heard and said, not left
  // to the default action: that ended the CLI with 143 before the run's queued jobs were cancelled, and a worker ran
  // them for a client that was gone (an adversarial sweep, stop 44); the grace below still bounds the stop
  if (stop.signal.aborted) {
    process.stderr.write(`andor: ${signal} again: already stopping (the run's work is being cancelled); it ends within ${STOP_GRACE_MS / 1000} s.\n`);
    return;
  }
  stop.abort();
  setTimeout(() => {
    process.stderr.write(`andor: interrupted: the job did not stop within ${STOP_GRACE_MS / 1000} s of ${signal} (a step that does not hear it, such as writing a large --out, or a read or a write that waits for ever: a FIFO with no writer, or an output FIFO with no reader?); ending by the signal.\n`);
    // not process.exit: Node joins its file-system threads on exit, and the blocked read would hold it for ever
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }, STOP_GRACE_MS).unref();
};

/** Runs `job` with an engine and the stop signal, disposing the engine afterwards. */
async function withEngine<T>(flags: Flags, job: (engine: Engine, signal: AbortSignal) => Promise<T>): Promise<T> {
  const queue = await queueFor(flags);
  try {
    const engine = await engineFor(flags, undefined, queue);
    try {
      if (stop.signal.aborted) throw new CancelledError('Stopped before the job started.');
      return await job(engine, stop.signal);
    } finally {
      await engine.dispose();
    }
  } finally {
    await queue?.close();
  }
}

function progressFor(flags: Flags, unit: string) {
  return process.stderr.isTTY && !flags.quiet ? progressBar(unit) : undefined;
}

async function explain(flags: Flags) {
  return withEngine(flags, async (engine, signal) => {
    if (flags.values !== undefined) {
      if (flags.model !== undefined) throw new InvalidOptionError('Give either --model (explain a model) or --values (explain a game), not both.');
      const { values, names, ...rest } = requestFields(flags);
      // a game's values have no model, sample, players or method to choose: such a flag would be ignored
      const stray = Object.keys(rest).filter((k) => !(k in analysisFields) && rest[k] !== undefined);
      if (stray.length > 0) throw new InvalidOptionError(`--values explains a game given as its 2^n values, exactly: ${stray.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} ${stray.length === 1 ? 'does' : 'do'} not apply to it. Leave ${stray.length === 1 ? 'it' : 'them'} out, or explain a model (--model).`);
      const analysis = Object.fromEntries(Object.entries(rest).filter(([k]) => k in analysisFields));
      return engine.explainValues({ values: values as string, ...(names ? { names: names as string[] } : {}), ...analysis, signal });
    }
    if (flags.sample === undefined) throw new InvalidOptionError('--sample is required with --model: a JSON array or a .json/.csv/.npy file.');
    const progress = progressFor(flags, 'masks');
    const request = { ...requestFields(flags), baseline: await baselineOf(flags.baseline), signal, onProgress: progress } as ExplainRequest;
    try {
      return await engine.explainAuto(dropUndefined(request));
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
    }
  });
}

async function dynamics(flags: Flags) {
  return withEngine(flags, async (engine, signal) => {
    if (flags.samples === undefined) throw new InvalidOptionError('--samples is required: a sample-set JSON whose samples carry "split": train | test | ood and a "label".');
    const progress = progressFor(flags, 'pairs');
    try {
      return await engine.dynamics(
        dropUndefined({
          ...(requestFields(flags) as { checkpoints: string; samples: string }),
          baseline: await baselineOf(flags.baseline),
          signal,
          onProgress: progress && ((p: { done: number; total: number }) => progress(p.done, p.total)),
        }),
      );
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
    }
  });
}

/** Runs bench/run.js (every suite in its own process; it ends with one table of all targets). */
async function benchCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('andor bench: run the benchmark suites of bench/ (in a clone) and print one table of their targets\n\nUsage: andor bench [--quick]\n  --quick                         a smoke run\n');
    return 0;
  }
  const unknown = args.filter((a) => a !== '--quick');
  if (unknown.length) throw new InvalidOptionError(`andor bench takes only --quick (got ${unknown.join(' ')}).`);
  // a signal sent to andor alone (kill, timeout -s INT, a supervisor) is passed on to the runner and its suite, in a
  // process group of their own, and waited for: under spawnSync the CLI died at once and bench/run.js, orphaned, went
  // on starting suites (an adversarial sweep, stop 48); the group's own exit is what andor reports
  const child = spawn(process.execPath, [resolve(PACKAGE_ROOT, 'bench', 'run.js'), ...args], { stdio: 'inherit', detached: true });
  const pass = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group has ended already
    }
  };
  process.on('SIGINT', pass);
  process.on('SIGTERM', pass);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? 128 + (signal ? osConstants.signals[signal] : 1);
  } finally {
    process.off('SIGINT', pass);
    process.off('SIGTERM', pass);
  }
}

/** Runs the HTTP service until SIGINT or SIGTERM, then shuts it down gracefully. */
async function serveCommand(flags: Flags): Promise<number> {
  if (flags.modelsDir === undefined) throw new InvalidOptionError('--models DIR is required: the folder of .onnx files the service may explain.');
  const { serve } = await import('./serve.js');
  const engine = await engineFor(flags, 16);
  try {
    const service = await serve(engine, requestFields(flags) as { modelsDir: string });
    process.stdout.write(`andor: serving ${String(flags.modelsDir)} on ${service.url} (POST /explain, POST /explain/batch, POST /explain/values, GET /models, /health, /openapi.json)\n`);
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stdout.write('andor: shutting down: no new requests; waiting for running jobs\n');
    // a second signal cancels the running jobs now (their clients get 503), then the service exits; a third ends it
    // at once, by the signal's default
    const now = () => {
      process.off('SIGINT', now);
      process.off('SIGTERM', now);
      process.stdout.write('andor: stopping now: cancelling the running jobs\n');
      void service.close(0);
    };
    process.once('SIGINT', now);
    process.once('SIGTERM', now);
    await service.close();
    return 0;
  } finally {
    await engine.dispose();
  }
}

/** How long a worker told to stop at once (a second signal) may take to give its jobs back before it exits anyway. */
const STOP_NOW_MS = 5000;

/** Serves a job queue until SIGINT or SIGTERM: the first lets running units finish; a second cancels them and gives
 *  their jobs back to the queue (another worker takes them at once, not when their lease runs out), then exits; a
 *  third, or STOP_NOW_MS after the second, exits at once. Prints each worker event as a JSON line unless --quiet. */
async function workerCommand(flags: Flags): Promise<number> {
  if (flags.queue === undefined || flags.store === undefined) throw new InvalidOptionError('andor worker needs --queue URL (the PostgreSQL database of the queue) and --store DIR (the model store its clients write).');
  const halt = new AbortController();
  const now = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) halt.abort();
    else if (signals === 2) {
      now.abort();
      setTimeout(() => process.exit(130), STOP_NOW_MS).unref();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const engine = await engineFor(flags);
  try {
    await engine.serveQueue(
      dropUndefined({
        url: flags.queue as string,
        store: new FolderStore(flags.store as string),
        concurrency: flags.concurrency as number | undefined,
        pollMs: flags.pollMs as number | undefined,
        heartbeatMs: flags.heartbeatMs as number | undefined,
        maintenanceIntervalSeconds: flags.maintenanceSeconds as number | undefined,
        reconnectMs: flags.reconnectMs as number | undefined,
        synchronousCommit: flags.synchronousCommit as boolean | undefined,
        signal: halt.signal,
        abort: now.signal,
        logger: loggerFor(flags),
        onEvent: flags.quiet ? undefined : (event: WorkerEvent) => void process.stdout.write(`${JSON.stringify({ ...event, at: Date.now(), pid: process.pid })}\n`),
      }),
    );
    return 0;
  } finally {
    await engine.dispose();
  }
}

function progressBar(unit: string): (done: number, total: number, etaMs?: number) => void {
  let last = 0;
  return (done, total, etaMs) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const eta = etaMs === undefined ? '' : `, about ${etaMs < 90_000 ? `${Math.ceil(etaMs / 1000)} s` : `${Math.ceil(etaMs / 60_000)} min`} left`;
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit}${eta}`);
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Runs explain (one sample, or many with --samples) or dynamics, then writes what the flags ask for. */
async function runStudy(command: Command, given: Flags): Promise<void> {
  const needsDefault = command.name === 'explain' ? given.model === undefined && given.values === undefined : given.checkpoints === undefined;
  let flags = needsDefault ? await defaultFlags(command, given) : given;
  if (command.name === 'explain') flags = await bundledDefaults(flags);
  await assertWritable(flags.out, 'out');
  await assertWritable(flags.report, 'report');
  // --cache DIR is made by the run: an --out or --report of that name failed at the end, with EISDIR (a sweep, stop 47)
  assertDistinct([['--out', flags.out], ['--report', flags.report], ['--cache', flags.cacheDir]]);
  assertNotInput([['--out', flags.out], ['--report', flags.report]], [...['model', 'sample', 'samples', 'values', 'baseline', 'reference', 'losses', 'checkpoints'].map((f) => [`--${f}`, flags[f]] as const), ['--reference-models', flags.referenceModels] as const]);
  const stdout = openOutput(process.stdout);
  if (command.name === 'explain' && flags.samples !== undefined) return batch(flags, stdout);
  if (command.name === 'explain') assertNoBatchFlags(flags);
  const arrays = flags.arrays !== false;
  const [json, text, html] =
    command.name === 'explain'
      ? await explain(flags).then((r) => [resultToJson(r, { arrays }), summarize(r, undefined, printedWarnings), flags.report ? renderReport(resultToJson(r)) : undefined] as const)
      : await dynamics(flags).then((r) => {
          const json = dynamicsToJson(r);
          return [json, summarizeDynamics(r), flags.report ? renderReport(json) : undefined] as const;
        });
  const file = typeof flags.out === 'string' ? openOutput(flags.out) : undefined;
  const report = typeof flags.report === 'string' && html ? openOutput(flags.report, '--report') : undefined;
  await settleOutputs([['--out', file], ['--report', report]], async () => {
    await file?.writeJson(json);
    await report?.write(html as string);
  });
  if (flags.json) await stdout.writeJson(json);
  else if (!flags.quiet) await stdout.write(printable([text, ...[flags.out, flags.report].filter(Boolean).map((f) => `wrote     ${String(f)}`)].join('\n')) + '\n');
}

/** The flags of `explain --samples` (a batch) that one explanation does not take: named, rather than reported as
 *  unknown request options. */
function assertNoBatchFlags(flags: Flags): void {
  const given = (['rows', 'cacheDir', 'concurrency'] as const).filter((f) => flags[f] !== undefined);
  if (given.length === 0) return;
  const names = given.map((f) => (f === 'cacheDir' ? (flags.cacheDir === false ? '--no-cache' : '--cache') : `--${f}`));
  throw new InvalidOptionError(`${names.join(', ')} ${given.length > 1 ? 'go' : 'goes'} with --samples FILE (many samples); one sample (--sample) is explained without a cache. Drop ${given.length > 1 ? 'them' : 'it'}, or give --samples.`);
}

/** andor explain --samples: one andor.explain/1 JSON line per sample as it finishes (to --out, or stdout with
 *  --json), then the andor.batch/1 aggregate as the last line. */
async function batch(flags: Flags, stdout: Output): Promise<void> {
  if (flags.values !== undefined) throw new InvalidOptionError('--samples explains many samples of a model; it does not combine with --values.');
  if (flags.sample !== undefined) throw new InvalidOptionError('Give either --sample (one sample, with --row) or --samples (many, with --rows), not both.');
  if (flags.row !== undefined) throw new InvalidOptionError('--row picks the row of --sample; with --samples, pick rows with --rows (e.g. --rows 2 or --rows 0-9).');
  if (flags.target !== undefined) throw new InvalidOptionError('--target does not combine with --samples: each sample is explained for its own label (else its predicted class).');
  const arrays = flags.arrays !== false;
  const file = typeof flags.out === 'string' ? openOutput(flags.out) : undefined;
  // --out and --json both get the lines, as a single explanation's --out and --json both get its JSON
  const sinks = [file, flags.json ? stdout : undefined].filter((sink): sink is Output => sink !== undefined);
  const lines = { writeJson: async (json: unknown) => { for (const sink of sinks) await sink.writeJson(json); } };
  const report = typeof flags.report === 'string' ? openOutput(flags.report, '--report') : undefined;
  const result = await settleOutputs([['--out', file], ['--report', report]], () => withEngine(flags, async (engine, signal) => {
    const progress = progressFor(flags, 'samples');
    try {
      const { out: _o, report: _r, json: _j, arrays: _a, quiet: _q, debug: _d, sample: _s, row: _w, ...request } = requestFields(flags);
      return await engine.explainBatch({
        ...(request as { model: string; samples: string }),
        baseline: await baselineOf(flags.baseline),
        signal,
        onResult: async (r) => void (await lines.writeJson(resultToJson(r, { arrays }))),
        onProgress: progress && ((p) => progress(p.done, p.total, p.etaMs)),
      });
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
    }
  }).then(async (result) => {
    const json = batchToJson(result, { arrays });
    await lines.writeJson(json);
    await report?.write(renderReport(json));
    return result;
  }));
  if (!flags.json && !flags.quiet) await stdout.write(printable(summarizeBatch(result) + (file ? `\nwrote     ${String(flags.out)}` : '')) + '\n');
}

/** Reads a saved result: one JSON document, or the JSON lines of `andor explain --samples` (the per-sample results,
 *  then the batch aggregate, which gets them back as its results). */
async function readResult(file: string): Promise<ReportableResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError(`Cannot read the result ${file}: ${(cause as NodeJS.ErrnoException).code ?? cause}.`, { cause });
  }
  // a BOM, as an editor may write; a pretty-printed document (jq ., json.tool) is one document over many lines
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let wholeError: Error | undefined;
  try {
    return assertReportable(JSON.parse(text) as unknown, file);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    wholeError = error;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parse = (line: string, at: string) => {
    try {
      return JSON.parse(line) as { schema?: string };
    } catch (cause) {
      throw new InvalidInputError(`${file}${at} is not JSON: ${(cause as Error).message}. Give a result written by andor --out.`, { cause });
    }
  };
  if (lines.length <= 1) return assertReportable(parse(text, ''), file);
  // a pretty-printed document cut off is not JSON lines: its first line alone ("{") was blamed (a sweep, stop 47)
  try {
    JSON.parse(lines[0]);
  } catch {
    throw new InvalidInputError(`${file} is not JSON, as one document (${wholeError.message}: cut off?) nor as JSON lines (its first line is not a whole value). Give a result written by andor --out.`, { cause: wholeError });
  }
  const values = lines.map((l, i) => parse(l, ` line ${i + 1}`));
  const last = values[values.length - 1] as { schema?: string; results?: unknown[] };
  // an interrupted batch's FILE.partial holds the finished samples' results and no aggregate: the rerun reads them back
  // from the cache (an adversarial sweep, stop 43: the message said only what the last line was not)
  if (last.schema !== 'andor.batch/1') {
    throw new InvalidInputError(
      `${file} holds ${lines.length} JSON lines, but its last line is not an andor.batch/1 aggregate (got schema ${preview(last.schema)}). ` +
        'An interrupted batch leaves its finished samples in FILE.partial without one: rerun the batch (its cache holds those samples) to get the whole result.',
    );
  }
  const results = last.results ?? values.slice(0, -1);
  assertLinesMatch(results, last as { samples?: unknown }, file);
  return assertReportable({ ...last, results }, file);
}

/**
 * The per-sample lines of a batch's JSON lines are the samples its aggregate counts, each once (in any order: a line
 * is written as its sample finishes): a line deleted, doubled or from another run was drawn beside the aggregate in
 * silence (a sweep, stop 47).
 * @throws InvalidInputError naming the first row that differs
 */
function assertLinesMatch(results: readonly unknown[], aggregate: { samples?: unknown }, file: string): void {
  const rows = (list: readonly unknown[], of: (x: unknown) => unknown) => list.map(of).map((r) => (typeof r === 'number' ? r : Number.NaN)).sort((a, b) => a - b);
  const counted = rows(Array.isArray(aggregate.samples) ? aggregate.samples : [], (s) => (s as { row?: unknown } | null)?.row);
  const lined = rows(results, (r) => (r as { sample?: { row?: unknown } } | null)?.sample?.row);
  if (counted.length === lined.length && counted.every((row, i) => row === lined[i])) return;
  const missing = counted.filter((row) => !lined.includes(row));
  const extra = lined.filter((row, i) => !counted.includes(row) || lined.indexOf(row) !== i);
  throw new InvalidInputError(
    `${file} holds ${lined.length} per-sample line(s) for the ${counted.length} sample(s) its aggregate counts` +
      `${missing.length > 0 ? `; no line for row(s) ${missing.slice(0, 5).join(', ')}` : ''}${extra.length > 0 ? `; row(s) ${extra.slice(0, 5).join(', ')} ${missing.length > 0 ? 'are' : 'is'} extra or given twice` : ''}. ` +
      'The lines and the aggregate are one run\'s output as written: rerun the batch (its cache holds the samples) rather than edit them.',
  );
}

/** A file `andor report` writes: the --out report, or one chart of --svg DIR. */
interface ReportTarget {
  /** Begins a message about it: "--out r.html is written", "--svg D writes the chart force.svg to D/force.svg". */
  readonly says: string;
  /** Where it goes, as given. */
  readonly path: string;
  /** What to give instead when it is refused. */
  readonly fix: string;
}

/**
 * Refuses a file `andor report` would write over the result it reads or over the --out report, links followed (a
 * chart's own file, or its FILE.partial written before the rename): a chart DIR/waterfall.svg that was the result, the
 * --out report or a link to either was written over it in silence, exit 0 (an adversarial sweep, stop 48).
 * @throws InvalidOptionError naming both files
 */
function assertNoReportOverwrite(result: string, out: ReportTarget | undefined, charts: readonly ReportTarget[]): void {
  const kept = [{ label: 'the result', path: result, fix: 'move the result', self: undefined as ReportTarget | undefined }, ...(out ? [{ label: 'the --out file', path: out.path, fix: 'another --out', self: out }] : [])];
  const linked = (path: string, real: string) => (resolve(path) === real ? '' : `, a link to ${real}`);
  for (const target of [...(out ? [out] : []), ...charts]) {
    const real = realOf(target.path);
    for (const file of kept) {
      const other = realOf(file.path);
      const through = partialPath(real) === other ? ` through ${partialPath(target.path)}` : '';
      if (file.self === target || (real !== other && through === '')) continue;
      throw new InvalidOptionError(`${target.says}${linked(target.path, real)}${through}, which is ${file.label} (${file.path}${linked(file.path, other)}): it would be overwritten. Give ${target.fix}, or ${file.fix}.`);
    }
  }
}

/** What is at a path, in words (not a regular file). */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Refuses a chart's place in --svg DIR that holds something other than a regular file (or a link to one) or a file
 * it may not write: a folder there failed the run after --out and some charts were written, and a FIFO blocked it
 * for ever (an adversarial sweep, stop 48). --out written to a pipe or a device is a choice; a chart's name is not.
 * @throws InvalidOptionError naming the file and what is there
 */
async function assertChartPlace(chart: ReportTarget): Promise<void> {
  const refused = (cause: NodeJS.ErrnoException, what: string) => new InvalidOptionError(`${chart.says}, ${what} (${cause.code ?? cause.message}). Remove it, or give ${chart.fix}.`, { cause });
  const own = await lstat(chart.path).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'ENOENT') return undefined;
    throw refused(cause, 'which cannot be looked at');
  });
  if (own === undefined) return;
  // a link to nothing (or a loop) would be written in place, through the link, not put in place with the others
  const existing = await stat(chart.path).catch(async (cause: NodeJS.ErrnoException) => {
    throw refused(cause, `a link to ${await readlink(chart.path)} that names no file`);
  });
  if (!existing.isFile()) throw new InvalidOptionError(`${chart.says}, which is ${kindOf(existing)}${own.isSymbolicLink() ? ` (through a link to ${realOf(chart.path)})` : ''}: a chart is written to a file. Move it, or give ${chart.fix}.`);
  await access(chart.path, constants.W_OK).catch((cause: NodeJS.ErrnoException) => {
    throw new InvalidOptionError(`${chart.says}, which it may not write (${cause.code ?? cause.message}). Make it writable, or give ${chart.fix}.`, { cause });
  });
}

/** andor report RESULT.json --out FILE.html [--svg DIR]: re-renders a saved result. The report and the charts are put
 *  in place together (settleOutputs): all of them, or, when one cannot be written, none. */
async function reportCommand(flags: Flags): Promise<number> {
  const [file] = (flags.positionals as string[] | undefined) ?? [];
  if (file === undefined) throw new InvalidOptionError('andor report needs the result file: andor report RESULT.json --out FILE.html.');
  if (typeof flags.out !== 'string' && typeof flags.svg !== 'string') throw new InvalidOptionError('andor report needs --out FILE.html (and/or --svg DIR for one SVG file per chart).');
  await assertWritable(flags.out, 'out');
  assertDistinct([['the result', file], ['--out', flags.out], ['--svg', flags.svg]]);
  // both outputs are checked before any is written: a --svg that cannot be a folder failed after --out was written
  const svg = flags.svg;
  if (typeof svg === 'string') {
    await makeFolder(svg).catch((cause: NodeJS.ErrnoException) => {
      throw new InvalidOptionError(`--svg ${svg} cannot be made a folder (${cause.code ?? cause.message}); give a folder for the SVG files.`, { cause });
    });
  }
  const result = await readResult(file);
  const html = renderReport(result);
  const out = typeof flags.out === 'string' ? { says: `--out ${flags.out} is written`, path: flags.out, fix: 'another --out' } : undefined;
  const charts =
    typeof svg === 'string'
      ? chartsOf(result).map((chart) => ({ says: `--svg ${svg} writes the chart ${chart.id}.svg to ${join(svg, `${chart.id}.svg`)}`, path: join(svg, `${chart.id}.svg`), fix: 'another --svg folder', svg: chart.svg }))
      : [];
  // the charts' files are known only from the result: checked now, before any file is written
  assertNoReportOverwrite(file, out, charts);
  for (const chart of charts) await assertChartPlace(chart);
  // report has no cache: a failed write's message does not advise one
  const outputs = [
    ...(out ? [{ option: '--out', text: html, output: openOutput(out.path, '--out', false) }] : []),
    ...charts.map((chart) => ({ option: chart.path, text: chart.svg, output: openOutput(chart.path, '--svg', false) })),
  ];
  // what was written of a chart or a report is not kept as FILE.partial, as a run's result is: a rerun renders it
  // again from the result, and a folder of N .partial charts is only for the user to clear
  await settleOutputs(outputs.map((o) => [o.option, o.output] as const), async () => {
    for (const { output, text } of outputs) await output.write(text);
  }, { keep: false });
  if (!flags.quiet) process.stdout.write([flags.out, svg].filter(Boolean).map((f) => `wrote     ${String(f)}`).join('\n') + '\n');
  return 0;
}

/**
 * Runs the CLI.
 * @param argv - arguments after the executable and script
 * @returns the process exit code
 */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  let running: Command | undefined;
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (name === '--version' || name === '-v' || name === 'version') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (name === 'bench') return benchCommand(rest);
    const command = COMMANDS[name];
    if (!command) {
      const names = [...Object.keys(COMMANDS), 'bench'];
      throw new InvalidOptionError(`Unknown command "${name}".${didYouMean(name, names)} Expected one of: ${names.join(', ')}. Run "andor --help".`);
    }
    running = command;
    const flags = parseCommand(command, rest);
    if (flags.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (flags.version) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (command.name === 'serve') return await serveCommand(flags);
    if (command.name === 'report') return await reportCommand(flags);
    if (command.name === 'worker') return await workerCommand(flags);
    process.on('SIGINT', onStopSignal);
    process.on('SIGTERM', onStopSignal);
    await runStudy(command, flags);
    return 0;
  } catch (error) {
    if (stop.signal.aborted && error instanceof CancelledError) {
      process.stderr.write(`andor: interrupted: ${printable(error.message)}\n`);
      return 130;
    }
    if (error instanceof EngineError) {
      // the library's options.<field> is this command's --flag
      const message = running ? spellFields(error.message, Object.keys(fieldsOf(running)), (f) => `--${flagOf(f)}`) : error.message;
      process.stderr.write(`andor: error [${error.code}]: ${printable(message)}\n`);
      if (debug) process.stderr.write(`${error.stack}\n`);
      return error instanceof InvalidOptionError ? 2 : 1;
    }
    process.stderr.write(`andor: unexpected error: ${printable(String(debug ? (error as Error).stack : (error as Error)?.message ?? error))}\n`);
    if (!debug) process.stderr.write('andor: run again with --debug for the stack trace.\n');
    return 1;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
