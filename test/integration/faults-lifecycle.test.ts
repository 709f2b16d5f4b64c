// Lifecycles that must not leak, hang or run on: the open sessions stay bounded (least recently used released, and
// opened again on demand with the same results), dispose() stops a running job on the calling thread, and a worker
// that dies is replaced and its task retried once, a second death ending in WorkerCrashedError with its cause.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolRunner } from '../../dist/engine/pipeline/pool.js';
import type { LocalRunner } from '../../dist/engine/pipeline/runner.js';
import { MAX_OPEN_MODELS } from '../../dist/engine/pipeline/lru.js';
import { candidatesFor } from '../../dist/engine/pipeline/registry.js';
import { DisposedError, WorkerCrashedError, createEngine, model, type Engine, type ExplainResult } from '../helpers/index.js';

const MLP = model('breast-cancer-mlp.onnx');
const SAMPLES = model('breast-cancer.samples.json');
/** Twelve distinct training checkpoints of one network (models/checkpoint-series.py): distinct bytes, same I/O. */
const CHECKPOINTS = ['0000', '0001', '0002', '0004', '0008', '0016'].map((epoch) => model(`bc-mlp-series/epoch-${epoch}.onnx`));
const SERIES_SAMPLES = model('bc-mlp-series/samples.json');
/** How long dispose() and a stopped job may take: one batch or one chunk of iterations, with a wide margin. */
const PROMPT_MS = 3_000;
const SLOW_TEST_MS = 120_000;

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.dispose()));
});
async function engineWith(options: Parameters<typeof createEngine>[0]): Promise<Engine> {
  const engine = await createEngine(options);
  engines.push(engine);
  return engine;
}
const runnerOf = <R>(engine: Engine) => (engine as unknown as { runner: R }).runner;

describe('open sessions are bounded', () => {
  const explainCheckpoint = (engine: Engine, file: string) => engine.explain({ model: file, sample: SERIES_SAMPLES, players: '0-5', preset: 'none' });

  it(`the calling thread keeps at most ${MAX_OPEN_MODELS} sessions, and reopens an evicted model with the same result`, async () => {
    const engine = await engineWith({ backend: 'cpu', workers: 0 });
    const runner = runnerOf<LocalRunner>(engine);
    const first: ExplainResult[] = [];
    for (const [i, file] of CHECKPOINTS.entries()) {
      first.push(await explainCheckpoint(engine, file));
      expect(runner.openSessions).toBe(Math.min(i + 1, MAX_OPEN_MODELS));
    }
    // the first two were evicted (released); explaining them again opens them again
    for (const [i, file] of CHECKPOINTS.slice(0, 2).entries()) {
      const again = await explainCheckpoint(engine, file);
      expect(Array.from(again.v)).toEqual(Array.from(first[i].v));
      expect(runner.openSessions).toBe(MAX_OPEN_MODELS);
    }
    // the checkpoints are distinct models: their rewards differ
    expect(first[0].v[63]).not.toBe(first[5].v[63]);
  }, SLOW_TEST_MS);

  it(`a pool keeps at most ${MAX_OPEN_MODELS} models, and each worker at most as many sessions`, async () => {
    const engine = await engineWith({ backend: 'cpu', workers: 1, threads: 1 });
    const runner = runnerOf<PoolRunner>(engine);
    const first: ExplainResult[] = [];
    for (const [i, file] of CHECKPOINTS.entries()) {
      first.push(await explainCheckpoint(engine, file));
      expect(runner.openModels).toBe(Math.min(i + 1, MAX_OPEN_MODELS));
      expect(await runner.workerSessions()).toBe(Math.min(i + 1, MAX_OPEN_MODELS));
    }
    const again = await explainCheckpoint(engine, CHECKPOINTS[0]);
    expect(Array.from(again.v)).toEqual(Array.from(first[0].v));
    expect(runner.openModels).toBe(MAX_OPEN_MODELS);
    expect(await runner.workerSessions()).toBe(MAX_OPEN_MODELS);
  }, SLOW_TEST_MS);

  it('dispose releases every session and refuses later work', async () => {
    const engine = await createEngine({ backend: 'cpu', workers: 0 });
    const runner = runnerOf<LocalRunner>(engine);
    await explainCheckpoint(engine, CHECKPOINTS[0]);
    await explainCheckpoint(engine, CHECKPOINTS[1]);
    expect(runner.openSessions).toBe(2);
    await engine.dispose();
    expect(runner.openSessions).toBe(0);
    await expect(explainCheckpoint(engine, CHECKPOINTS[0])).rejects.toThrowError(DisposedError);
  });
});

describe('dispose() stops a job running on the calling thread (workers: 0)', () => {
  it('during the evaluation of the masks', async () => {
    const engine = await engineWith({ backend: 'cpu', workers: 0 });
    let disposed: Promise<void> | undefined;
    let disposedAt = 0;
    // 2^20 masks: many seconds of evaluation on the calling thread
    const job = engine.explain({
      model: MLP, sample: SAMPLES, players: '0-19', preset: 'none',
      onProgress: () => {
        if (disposed) return;
        disposedAt = performance.now();
        disposed = engine.dispose();
      },
    });
    // DisposedError, as every method ends when dispose() stops it (it was a CancelledError here, and 'The decomposition
    // was cancelled.' on the pool; an adversarial sweep, stop 48)
    await expect(job).rejects.toThrowError(DisposedError);
    await disposed;
    expect(disposed).toBeDefined();
    expect(performance.now() - disposedAt).toBeLessThan(PROMPT_MS);
    expect(engine.state).toBe('disposed');
  }, SLOW_TEST_MS);

  it('during the decomposition', async () => {
    const engine = await engineWith({ backend: 'cpu', workers: 0 });
    let disposed: Promise<void> | undefined;
    let disposedAt = 0;
    // 2^12 masks evaluate in a moment; ten million iterations of the decomposition would take many minutes
    const job = engine.explain({
      model: MLP, sample: SAMPLES, players: '0-11', iterations: 10_000_000,
      onProgress: (done, total) => {
        if (done < total || disposed) return;
        // the evaluation is over: dispose once the decomposition has started
        disposed = new Promise((resolve, reject) => setTimeout(() => {
          disposedAt = performance.now();
          engine.dispose().then(resolve, reject);
        }, 200));
      },
    });
    await expect(job).rejects.toThrowError(/The engine was disposed while the job ran/);
    await expect(job).rejects.toThrowError(DisposedError);
    await disposed;
    expect(disposedAt).toBeGreaterThan(0);
    expect(performance.now() - disposedAt).toBeLessThan(PROMPT_MS);
  }, SLOW_TEST_MS);
});

describe('dispose() while a pool runs a job (workers: 2)', () => {
  it('stops the job and ends the process cleanly, whenever it comes (an adversarial sweep, stop 43)', async () => {
    // a worker terminated while onnxruntime ran in it aborted the whole process ("terminate called after throwing an
    // instance of 'Napi::Error'", exit 134): 14 of 20 disposals 185–280 ms into this explanation. In a child process,
    // which such an abort would end: eight disposals from the model's opening to the decomposition
    const script = `
      import { createEngine } from ${JSON.stringify(new URL('../../dist/engine/index.js', import.meta.url).href)};
      const outcomes = [];
      for (const delay of [0, 60, 120, 180, 200, 220, 250, 300]) {
        const engine = await createEngine({ workers: 2, threads: 1 });
        const run = engine.explain({ model: ${JSON.stringify(MLP)}, sample: ${JSON.stringify(SAMPLES)}, players: '0-15', iterations: 1000000 });
        await new Promise((resolve) => setTimeout(resolve, delay));
        const [ran] = await Promise.allSettled([run, engine.dispose()]);
        outcomes.push(ran.status === 'fulfilled' ? 'done' : ran.reason.constructor.name);
      }
      console.log(JSON.stringify(outcomes));`;
    const child = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: SLOW_TEST_MS - 10_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, signal: error ? ((error as { signal?: string }).signal ?? null) : null, stdout, stderr }));
    });
    expect(child.stderr).not.toMatch(/Napi::Error|terminate called/);
    expect([child.code, child.signal]).toEqual([0, null]);
    const outcomes = JSON.parse(child.stdout) as string[];
    expect(outcomes).toHaveLength(8);
    // the caller aborted nothing: a stopped run says the engine was disposed, never that it was cancelled
    for (const outcome of outcomes) expect(['done', 'DisposedError']).toContain(outcome);
    expect(outcomes).toContain('DisposedError');
  }, SLOW_TEST_MS);
});

describe('a process started with V8 options', () => {
  it('creates an engine with workers, which gives the same rewards (an adversarial sweep, stop 43)', async () => {
    // the workers were given the process's options, and refused its V8 and process-wide ones: createEngine threw
    // ERR_WORKER_INVALID_EXEC_ARGV under node --max-old-space-size=…, and andor serve did not start
    const script = `
      import { createEngine } from ${JSON.stringify(new URL('../../dist/engine/index.js', import.meta.url).href)};
      const engine = await createEngine({ workers: 2, threads: 1 });
      const result = await engine.explain({ model: ${JSON.stringify(MLP)}, sample: ${JSON.stringify(SAMPLES)}, players: '0-5', preset: 'none' });
      await engine.dispose();
      console.log(JSON.stringify(Array.from(result.v)));`;
    const child = await new Promise<{ error: Error | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--max-old-space-size=2048', '--expose-gc', '--stack-size=2000', '--input-type=module', '-e', script], { timeout: 60_000 }, (error, stdout, stderr) => resolve({ error, stdout, stderr }));
    });
    expect(child.stderr).not.toMatch(/ERR_WORKER_INVALID_EXEC_ARGV/);
    expect(child.error).toBeNull();
    const here = await (await engineWith({ workers: 0 })).explain({ model: MLP, sample: SAMPLES, players: '0-5', preset: 'none' });
    expect(JSON.parse(child.stdout)).toEqual(Array.from(here.v));
  }, SLOW_TEST_MS);
});

describe('a worker that dies', () => {
  const plan = {
    n: 4,
    inputs: [{ name: 'features', dtype: 'float32', sampleDims: [30], values: Float64Array.from({ length: 30 }, (_, i) => (i % 7) / 7) }],
    masked: [{ name: 'features', offsets: Int32Array.of(0, 1, 2, 3, 4), indices: Int32Array.of(0, 1, 2, 3), baseline: new Float64Array(30) }],
    reward: { kind: 'gt-log-odds', target: 1, output: 'logits' },
    batchAxis: { kind: 'dynamic' },
    batchSize: 16,
  } as const;
  let marker: string | undefined;
  afterEach(async () => {
    if (marker) await rm(marker, { recursive: true, force: true });
    delete process.env.ANDOR_CRASH_ONCE_MARKER;
  });

  /** The plan's rewards from a healthy pool, and a pool of `workers` whose module is the fixture, its crash marker
   *  set (ANDOR_CRASH_ONCE_MARKER). */
  async function crashingPool(fixture: string, workers: number): Promise<{ expected: Float64Array; runner: PoolRunner; crashed: string }> {
    const bytes = await readFile(MLP);
    const healthy = new PoolRunner({ workers: 1, threads: 1 });
    await healthy.open('mlp', bytes, candidatesFor('cpu'));
    const expected = await healthy.evaluate('mlp', plan as never);
    await healthy.dispose();
    marker = await mkdtemp(join(tmpdir(), 'andor-crash-'));
    const crashed = join(marker, 'crashed');
    process.env.ANDOR_CRASH_ONCE_MARKER = crashed;
    const runner = new PoolRunner({ workers, threads: 1, filename: new URL(`../fixtures/${fixture}`, import.meta.url).href });
    await runner.open('mlp', bytes, candidatesFor('cpu'));
    return { expected, runner, crashed };
  }

  it('once is replaced, and its task retried with the same rewards', async () => {
    const { expected, runner, crashed } = await crashingPool('crash-once-worker.mjs', 1);
    const v = await runner.evaluate('mlp', plan as never);
    expect(await readFile(crashed, 'utf8')).toBe('crashed'); // it did die once
    expect(Array.from(v)).toEqual(Array.from(expected));
    expect(runner.threads.length).toBe(1);
    await runner.dispose();
  }, SLOW_TEST_MS);

  it('after claiming a unit of a mask list: the unit runs again, and the list gets every reward', async () => {
    const { expected: v, runner, crashed } = await crashingPool('crash-claiming-worker.mjs', 2);
    // 600 masks before the model's speed is known: units of 75 rows, claimed by both workers
    const masks = { n: 4, count: 600, words: 1, bits: Uint32Array.from({ length: 600 }, (_, r) => (r * 7 + (r >> 4)) % 16) };
    const values = await runner.evaluateMasks('mlp', plan as never, masks);
    expect(await readFile(crashed, 'utf8')).toMatch(/^claimed unit \d+ of 8$/);
    expect(Array.from(values)).toEqual(Array.from(masks.bits, (m) => v[m]));
    expect(runner.threads.length).toBe(2);
    await runner.dispose();
  }, SLOW_TEST_MS);

  it('twice gives WorkerCrashedError with the cause, and nothing hangs', async () => {
    const runner = new PoolRunner({ workers: 1, threads: 1, filename: new URL('../fixtures/crashing-worker.mjs', import.meta.url).href });
    await runner.open('mlp', await readFile(MLP), candidatesFor('cpu'));
    const started = performance.now();
    const error = await runner.evaluate('mlp', plan as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as WorkerCrashedError).code).toBe('WORKER_CRASHED');
    expect((error as Error).message).toMatch(/A worker thread died twice while evaluating masks 0\.\.15: worker exited with code: 1/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(((error as Error).cause as Error).message).toMatch(/exited with code: 1/);
    expect(performance.now() - started).toBeLessThan(30_000);
    // the pool is still there: a task that does not crash runs on the replacement thread
    const full = await runner.probe('mlp', plan as never);
    expect(full.length).toBe(2);
    expect(full.every(Number.isFinite)).toBe(true);
    const closing = performance.now();
    await runner.dispose();
    expect(performance.now() - closing).toBeLessThan(PROMPT_MS);
  }, SLOW_TEST_MS);
});
