// Masked evaluation on every backend and in the worker pool, on every bundled model: the same v everywhere, the
// token transformer's known formula recovered, fixed-batch / multi-input / int32 / float64 models, a killed worker
// replaced, and cancellation that stops the work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolRunner } from '../../dist/engine/pipeline/pool.js';
import { candidatesFor } from '../../dist/engine/pipeline/registry.js';
import { CancelledError, createEngine, expectClose, model, type Engine, type ExplainResult } from '../helpers/index.js';
import { EXACT_MODELS, explainOptions } from '../helpers/manifest.js';
import { readFile } from 'node:fs/promises';

// the sparse models (tokens-40, patches-49) have no 2^n v to compare; test/integration/sparse-*.test.ts cover them
const MODELS = EXACT_MODELS;
const hasCuda = process.env.ANDOR_TEST_CUDA === '1';

describe.each(MODELS.map((m) => [m.name, m] as const))('every backend gives the same v on %s', (_name, entry) => {
  let reference: ExplainResult;
  const engines: Engine[] = [];
  beforeAll(async () => {
    const engine = await createEngine({ backend: 'cpu', workers: 0 });
    engines.push(engine);
    reference = await engine.explain({ ...explainOptions(entry), preset: 'none' } as never);
  });
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.dispose()));
  });

  const configs = [
    ['cpu, 2 workers', { backend: 'cpu', workers: 2, threads: 1 }, 'ort-node/cpu'],
    ['wasm, main thread', { backend: 'wasm', workers: 0, threads: 1 }, 'ort-web/wasm'],
    ['wasm, 1 worker', { backend: 'wasm', workers: 1, threads: 1 }, 'ort-web/wasm'],
  ] as const;

  it.each(configs)('%s agrees with cpu on the main thread', async (_label, options, backend) => {
    const engine = await createEngine(options);
    engines.push(engine);
    const result = await engine.explain({ ...explainOptions(entry), preset: 'none' } as never);
    expect(engine.backend).toBe(backend);
    // float32 models: the same inputs through different kernels and batch sizes agree to float32 rounding
    const scale = Math.max(...Array.from(reference.v, Math.abs));
    expectClose(result.v, reference.v, { atol: 1e-4 * Math.max(1, scale) });
  });

  // with ANDOR_TEST_CUDA=1 (a machine with CUDA) the model must run on CUDA; elsewhere asking for it must say so once
  // and give the CPU's v, never a silent difference
  it(hasCuda ? 'cuda agrees with cpu' : 'cuda, where it is absent, warns and gives the cpu\'s v', async () => {
    const warnings: string[] = [];
    const engine = await createEngine({ backend: 'cuda', workers: 1, logger: { warn: (m) => void warnings.push(m), info: () => undefined } });
    engines.push(engine);
    const result = await engine.explain({ ...explainOptions(entry), preset: 'none' } as never);
    expect(engine.backend).toBe(hasCuda ? 'ort-node/cuda' : 'ort-node/cpu');
    expect(warnings).toHaveLength(hasCuda ? 0 : 1);
    if (!hasCuda) expect(warnings[0]).toMatch(/CUDA was requested but cannot be used/);
    expectClose(result.v, reference.v, { atol: 1e-3 });
  });
});

describe('model shapes and dtypes', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2, threads: 1 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  const byName = (name: string) => explainOptions(MODELS.find((m) => m.name === name)!);

  it('a fixed-batch (16) model gives the same v as its dynamic-batch twin', async () => {
    const fixed = await engine.explain({ ...byName('digits-cnn-fixed'), preset: 'none' } as never);
    const dynamic = await engine.explain({ ...byName('digits-cnn'), preset: 'none' } as never);
    expectClose(fixed.v, dynamic.v, { atol: 1e-4 });
  });

  it('a fixed batch of 1 with logits of extra dims [1, 1, 2] gives the same v as its dynamic twin', async () => {
    const b1 = await engine.explain({ ...byName('shapes-b1'), preset: 'none' } as never);
    const dynamic = await engine.explain({ ...byName('shapes-dynamic'), preset: 'none' } as never);
    expectClose(b1.v, dynamic.v, { atol: 1e-5 });
  });

  it('int32 and int64 token inputs, and a two-input model (ids + attention mask), agree', async () => {
    const i64 = await engine.explain({ ...byName('token-transformer'), preset: 'none' } as never);
    const i32 = await engine.explain({ ...byName('token-transformer-i32'), preset: 'none' } as never);
    expectClose(i32.v, i64.v, { atol: 1e-4 });
  });

  it('a float64 model runs and its rewards track the float32 model of the same task', async () => {
    const f64 = await engine.explain({ ...byName('tabular-f64'), preset: 'none' } as never);
    expect(f64.v.length).toBe(1024);
    expect(f64.matching.relativeError).toBeLessThan(1e-9);
  });

  it('attention-mask masking zeroes the mask instead of replacing tokens', async () => {
    const attention = await engine.explain({ ...byName('token-transformer'), maskMode: 'attention', maskToken: undefined, preset: 'none' } as never);
    expect(attention.model?.input).toBe('attention_mask');
    expect(attention.v[1023]).toBeCloseTo((await engine.explain({ ...byName('token-transformer'), preset: 'none' } as never)).v[1023], 4);
  });
});

describe('the token transformer recovers its synthetic formula (b AND e) OR j', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine();
  });
  afterAll(async () => {
    await engine.dispose();
  });

  const entry = MODELS.find((m) => m.name === 'token-transformer')!;
  const ids = entry.groundTruth!.ids;

  it.each(Array.from({ length: 12 }, (_, row) => row))('row %i', async (row) => {
    const samples = JSON.parse(await readFile(model('tokens.samples.json'), 'utf8')).samples;
    const inputIds: number[] = samples[row].x.input_ids;
    const at = (id: number) => inputIds.map((t, p) => (t === id ? p : -1)).filter((p) => p >= 0);
    const [b, e, j] = [at(ids.b), at(ids.e), at(ids.j)];
    const r = await engine.explain({ ...explainOptions(entry), row } as never);
    const max = Math.max(...r.salient.map((s) => Math.abs(s.value)));
    if (r.target === 0) {
      // the formula is false on every masking: no interaction matters next to the output itself
      expect(max).toBeLessThan(0.05 * Math.abs(r.v[0]));
      return;
    }
    const relevant = new Set([...b, ...e, ...j]);
    const strong = r.salient.filter((s) => Math.abs(s.value) >= 0.1 * max);
    for (const s of strong) expect(s.players.every((p) => relevant.has(p))).toBe(true);
    // the strong interactions alone rebuild the formula on every masking
    const lift = r.v[1023] - r.v[0];
    for (let t = 0; t < 1024; t++) {
      const present = (ps: number[]) => ps.some((p) => (t >> p) & 1);
      const truth = r.v[0] + lift * Number((present(b) && present(e)) || present(j));
      let surrogate = r.and[0];
      for (const s of strong) {
        const fires = s.kind === 'and' ? (s.mask & t) === s.mask : (s.mask & t) !== 0;
        if (fires) surrogate += s.value;
      }
      expect(Math.abs(surrogate - truth)).toBeLessThan(0.1 * Math.abs(lift));
    }
  });
});

describe('worker pool', () => {
  const MLP = model('breast-cancer-mlp.onnx');
  const SAMPLES = model('breast-cancer.samples.json');

  // each explanation makes plans of its own, and a runner's batch builder of an earlier plan hands its buffers to the
  // next builder of the same shape (BuilderCache): nothing of the earlier sample may stay in them
  it.each([
    ['the MLP, 2 workers', { workers: 2, threads: 1 }, { model: MLP, sample: SAMPLES, players: '0-11' }],
    ['the MLP, the calling thread', { workers: 0, threads: 1 }, { model: MLP, sample: SAMPLES, players: '0-11' }],
    ['the two-input token transformer (two int64 inputs of one shape), 2 workers', { workers: 2, threads: 1 }, explainOptions(MODELS.find((m) => m.name === 'token-transformer')!)],
  ] as const)('samples explained one after another give what a fresh engine gives each: %s', async (_label, options, request) => {
    const rows = [0, 1, 0];
    const engine = await createEngine(options);
    const seen: Float64Array[] = [];
    for (const row of rows) seen.push((await engine.explain({ ...request, row, preset: 'none' } as never)).v);
    await engine.dispose();
    for (const row of [0, 1]) {
      const fresh = await createEngine(options);
      const v = (await fresh.explain({ ...request, row, preset: 'none' } as never)).v;
      await fresh.dispose();
      rows.forEach((r, k) => {
        if (r === row) expect(Array.from(seen[k])).toEqual(Array.from(v));
      });
    }
    // the rows differ: the comparison above could tell a stale batch
    expect(Array.from(seen[1])).not.toEqual(Array.from(seen[0]));
  });

  it('replaces a worker killed mid-job and retries its task', async () => {
    const engine = await createEngine({ workers: 2, threads: 1 });
    const expected = await engine.explain({ model: MLP, sample: SAMPLES, players: '0-15', preset: 'none' });
    const runner = (engine as unknown as { runner: PoolRunner }).runner;
    let killed = false;
    const result = await engine.explain({
      model: MLP, sample: SAMPLES, players: '0-15', preset: 'none',
      onProgress: () => {
        if (!killed) {
          killed = true;
          void runner.threads[0].terminate();
        }
      },
    });
    expect(killed).toBe(true);
    expectClose(result.v, expected.v, { atol: 1e-9 });
    expect(runner.threads.length).toBe(2);
    await engine.dispose();
  });

  it('fails with WorkerCrashedError when the retry dies too', async () => {
    const filename = new URL('../fixtures/crashing-worker.mjs', import.meta.url).href;
    const runner = new PoolRunner({ workers: 1, threads: 1, filename });
    await runner.open('mlp', await readFile(MLP), candidatesFor('cpu'));
    const plan = {
      n: 4,
      inputs: [{ name: 'features', dtype: 'float32', sampleDims: [30], values: new Float64Array(30) }],
      masked: [{ name: 'features', offsets: Int32Array.of(0, 1, 2, 3, 4), indices: Int32Array.of(0, 1, 2, 3), baseline: new Float64Array(30) }],
      reward: { kind: 'gt-log-odds', target: 1, output: 'logits' },
      batchAxis: { kind: 'dynamic' },
      batchSize: 16,
    } as const;
    await expect(runner.evaluate('mlp', plan as never)).rejects.toThrowError(/A worker thread died twice while evaluating masks 0..15/);
    expect(runner.threads.length).toBe(1); // replaced again
    await runner.dispose();
  });

  it('cancellation stops the work, and the pool stays usable', async () => {
    const engine = await createEngine({ workers: 2, threads: 1 });
    const controller = new AbortController();
    let progressCalls = 0;
    const started = performance.now();
    const job = engine.explain({
      model: MLP, sample: SAMPLES, players: '0-19', preset: 'none', signal: controller.signal,
      onProgress: () => {
        progressCalls++;
        controller.abort();
      },
    });
    await expect(job).rejects.toThrowError(CancelledError);
    expect(progressCalls).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(10_000); // 2^20 masks take far longer than the cancelled job
    const after = await engine.explain({ model: MLP, sample: SAMPLES, players: '0-9', preset: 'none' });
    expect(after.v.length).toBe(1024);
    await engine.dispose();
  });

  it('an already-aborted signal cancels before any work', async () => {
    const engine = await createEngine({ workers: 1 });
    await expect(engine.explain({ model: MLP, sample: SAMPLES, players: '0-9', signal: AbortSignal.abort() })).rejects.toThrowError(CancelledError);
    await engine.dispose();
  });
});
