// Many samples by the sparse method (engine.explainBatch with method 'sparse', `andor explain --samples --method
// sparse`, POST /explain/batch): each sample's result is the single sparse explain of it, the aggregate is the mean
// and spread of their term lists (a term a sample does not list counts as 0), it agrees with the exact batch where the
// budget covers 2^n, the cache keeps sparse results apart from exact ones, and every form matches its schema.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchResultSchema, SparseResultSchema } from '../../dist/engine/contracts/schema/results.js';
import { serve, type Service } from '../../dist/engine/interfaces/serve.js';
import { InvalidOptionError, MODELS, ROOT, batchToJson, createEngine, expectClose, model, resultToJson, type Engine, type SparseResult } from '../helpers/index.js';

const PATCHES = { model: model('patches-49.onnx'), grid: '7x7', modality: 'image' as const, method: 'sparse' as const, budget: 1500, maxOrder: 3 };
const PATCH_SAMPLES = model('patches-49.samples.json');
const MLP = model('breast-cancer-mlp.onnx');
const MLP_SAMPLES = model('breast-cancer.samples.json');

/** A sample's value of (kind, players) in its term lists: 0 where it lists no such term. */
function termValue(r: SparseResult, kind: 'and' | 'or', players: readonly number[]): number {
  return r[kind].find((t) => t.players.join(',') === players.join(','))?.value ?? 0;
}

describe('batch explanations by the sparse method', () => {
  let engine: Engine;
  let dir: string;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2, threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'andor-sparse-batch-'));
  });
  afterAll(async () => {
    await engine?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('explains 49 patches of each sample as a single sparse explain does, and aggregates their term lists', async () => {
    const batch = await engine.explainBatch({ ...PATCHES, samples: PATCH_SAMPLES, rows: '0-5', cacheDir: false });
    expect(batch.method).toBe('sparse');
    expect(batch.n).toBe(49);
    expect(batch.results).toHaveLength(6);
    for (let i = 0; i < 6; i++) {
      const single = await engine.explain({ ...PATCHES, sample: PATCH_SAMPLES, row: i });
      const r = batch.results![i];
      // the search is seeded: the same terms, value for value
      expect(r.and).toEqual(single.and);
      expect(r.or).toEqual(single.or);
      expect(batch.samples[i]).toMatchObject({ row: i, target: single.target, evaluations: single.evaluations, r2: single.faithfulness.r2 });
      expect(batch.samples[i].evaluations).toBeLessThanOrEqual(PATCHES.budget);
      expect(batch.samples[i].r2).toBeGreaterThan(0.95);
      expectClose(batch.shapley[i], single.indices.shapley, { atol: 0 });
    }
    // every aggregate interaction, recomputed from the six term lists; some are missing from some samples
    const results = batch.results!;
    let missing = 0;
    for (const agg of batch.all.interactions) {
      expect(agg.mask).toBeUndefined();
      const values = results.map((r) => termValue(r, agg.kind, agg.players));
      missing += values.filter((v) => v === 0).length;
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      expectClose(agg.mean, mean, { atol: 1e-12 });
      expectClose(agg.std, Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length), { atol: 1e-12 });
      expectClose(agg.meanAbs, values.reduce((a, b) => a + Math.abs(b), 0) / values.length, { atol: 1e-12 });
      expect(agg.salientIn).toBe(results.filter((r) => r.salient.some((s) => s.kind === agg.kind && s.players.join(',') === agg.players.join(','))).length);
      expect(agg.salientIn).toBeGreaterThan(0);
    }
    expect(missing).toBeGreaterThan(0);
    const strengths = batch.all.interactions.map((i) => i.meanAbs);
    expect(strengths).toEqual([...strengths].sort((a, b) => b - a));
    // per-order strength: the mean of the samples' own
    for (let k = 0; k <= 49; k++) expectClose(batch.all.orders.positive[k], results.reduce((a, r) => a + r.orders.positive[k], 0) / 6, { atol: 1e-12 });
    // both classes are present, and their groups split the samples
    expect(Object.keys(batch.classes).sort()).toEqual(['0', '1']);
    expect(Object.values(batch.classes).reduce((a, g) => a + g.count, 0)).toBe(6);
    const json = JSON.parse(JSON.stringify(batchToJson(batch)));
    expect([...Compile(BatchResultSchema).Errors(json)]).toEqual([]);
    expect(json.results.map((r: { schema: string }) => r.schema)).toEqual(Array(6).fill('andor.sparse/1'));
  });

  it('agrees with the exact batch where the budget covers all 2^n masks', async () => {
    const rows = '0-5';
    const sparse = await engine.explainBatch({ model: MLP, samples: MLP_SAMPLES, rows, players: '0-5', method: 'sparse', budget: 64, maxOrder: 6, cacheDir: false });
    const exact = await engine.explainBatch({ model: MLP, samples: MLP_SAMPLES, rows, players: '0-5', decomposition: 'and', preset: 'none', cacheDir: false });
    expect(exact.method).toBe('exact');
    for (let i = 0; i < 6; i++) {
      const r = sparse.results![i];
      expect(r.recovery).toBe('exact');
      // AND: the Möbius terms of v, as the exact method's dividends (q = 0 without a split); terms not listed are 0
      const dense = new Float64Array(64);
      for (const t of r.and) dense[t.players.reduce((m, p) => m | (1 << p), 0)] = t.value;
      expectClose(dense, exact.results![i].and, { atol: 1e-12 });
      expectClose(sparse.shapley[i], exact.shapley[i], { atol: 1e-12 });
      expect(sparse.samples[i].r2).toBe(1); // on all 2^n masks
    }
    // the aggregate of every AND interaction the sparse batch reports, from the exact arrays
    const ands = sparse.all.interactions.filter((i) => i.kind === 'and');
    expect(ands.length).toBeGreaterThan(3);
    for (const agg of ands) {
      const mask = agg.players.reduce((m, p) => m | (1 << p), 0);
      const values = exact.results!.map((r) => r.and[mask]);
      expectClose(agg.mean, values.reduce((a, b) => a + b, 0) / 6, { atol: 1e-12 });
    }
    expect([...Compile(BatchResultSchema).Errors(JSON.parse(JSON.stringify(batchToJson(sparse))))]).toEqual([]);
  });

  it('caches sparse results apart from exact ones, and a rerun gives the same JSON', async () => {
    const cacheDir = join(dir, 'cache');
    const request = { model: MLP, samples: MLP_SAMPLES, rows: '0-3', players: '0-13', cacheDir };
    const exact = await engine.explainBatch({ ...request, preset: 'none' });
    expect(exact.samples.every((s) => !s.cached)).toBe(true);
    const first = await engine.explainBatch({ ...request, method: 'sparse', budget: 2000, maxOrder: 3 });
    expect(first.samples.every((s) => !s.cached)).toBe(true);
    expect(first.method).toBe('sparse');
    const again = await engine.explainBatch({ ...request, method: 'sparse', budget: 2000, maxOrder: 3 });
    expect(again.samples.every((s) => s.cached)).toBe(true);
    const stable = (b: typeof first) => JSON.stringify(batchToJson({ ...b, samples: b.samples.map((s) => ({ ...s, cached: false })), timings: {}, results: b.results!.map((r) => ({ ...r, timings: {} })) }, { arrays: true }));
    expect(stable(again)).toBe(stable(first));
    // the budget is part of the content: another budget computes again
    const other = await engine.explainBatch({ ...request, budget: 2400, maxOrder: 3 });
    expect(other.samples.every((s) => !s.cached)).toBe(true);
    expect(other.method).toBe('sparse');
  });

  it('caches a result whose budget a caller\'s maxBudget capped apart from an uncapped one', async () => {
    const cacheDir = join(dir, 'capped');
    // n = 10 without a budget: 2^10 = 1024 evaluations, exact; under maxBudget 600, 600 of them, adaptive
    const request = { model: MLP, samples: MLP_SAMPLES, rows: '0', players: '0-9', method: 'sparse', maxOrder: 2, cacheDir } as const;
    const capped = await engine.explainBatch(request, { maxBudget: 600 });
    expect(capped.results![0]).toMatchObject({ budget: 600, recovery: 'adaptive' });
    const free = await engine.explainBatch(request);
    expect(free.samples[0].cached).toBe(false);
    expect(free.results![0]).toMatchObject({ budget: 1024, recovery: 'exact' });
    // each is read back under its own cap
    expect((await engine.explainBatch(request, { maxBudget: 600 })).samples[0].cached).toBe(true);
    expect((await engine.explainBatch(request)).samples[0].cached).toBe(true);
  });

  it('refuses what a sparse batch cannot take, by name', async () => {
    await expect(engine.explainBatch({ ...PATCHES, samples: PATCH_SAMPLES, rows: '0-1', preset: 'none', cacheDir: false })).rejects.toThrow(/options\.preset tunes the learned AND-OR split/);
    await expect(engine.explainBatch({ ...PATCHES, samples: PATCH_SAMPLES, rows: '0-1', budget: 10, cacheDir: false })).rejects.toThrow(InvalidOptionError);
    await expect(engine.explainBatch({ ...PATCHES, samples: PATCH_SAMPLES, rows: '0-1', cacheDir: false }, { maxSparsePlayers: 16 })).rejects.toThrow(/49 players exceed this service's limit of 16 players/);
    // without the sparse options, 49 players are the exact method's error, which names the sparse method
    const { method: _m, budget: _b, maxOrder: _o, ...exactOnly } = PATCHES;
    await expect(engine.explainBatch({ ...exactOnly, samples: PATCH_SAMPLES, rows: '0', cacheDir: false })).rejects.toThrow(/sparse/);
  });

  it('andor explain --samples --method sparse writes andor.sparse/1 lines, then the aggregate, and andor report draws it', async () => {
    const out = join(dir, 'sparse.jsonl');
    const cli = join(ROOT, 'dist', 'engine', 'interfaces', 'cli.js');
    const flags = ['--model', PATCHES.model, '--samples', PATCH_SAMPLES, '--rows', '0-2', '--grid', '7x7', '--modality', 'image', '--method', 'sparse', '--budget', '1500', '--max-order', '3', '--no-cache'];
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'explain', ...flags, '--out', out], { cwd: ROOT });
    expect(stdout).toMatch(/method {4}sparse: \d+–\d+ evaluations per sample; held-out R² of the AND expansion ≥ 0\.9\d+ \(row \d\)/);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.schema)).toEqual(['andor.sparse/1', 'andor.sparse/1', 'andor.sparse/1', 'andor.batch/1']);
    for (const line of lines.slice(0, 3)) expect([...Compile(SparseResultSchema).Errors(line)]).toEqual([]);
    expect([...Compile(BatchResultSchema).Errors(lines[3])]).toEqual([]);
    expect(lines[3].method).toBe('sparse');
    // the lines are the library's results
    const local = await engine.explainBatch({ ...PATCHES, samples: PATCH_SAMPLES, rows: '0-2', cacheDir: false });
    for (let i = 0; i < 3; i++) expect(lines.slice(0, 3).find((l) => l.sample.row === i).and).toEqual(resultToJson(local.results![i]).and);
    const html = join(dir, 'sparse.html');
    await promisify(execFile)(process.execPath, [cli, 'report', out, '--out', html], { cwd: ROOT });
    const page = await readFile(html, 'utf8');
    expect(page).toContain('Each sample was explained by the sparse method');
    expect(page).toContain('held-out R² (AND)');
    // the per-order charts stop at maxOrder: no empty orders up to 49
    expect(page).toContain('the per-order charts stop at order 3, the highest recovered');
    expect(page).not.toContain('order 4<');
  });

  it('says a poor fit once for the batch, with how many samples had one, not once per sample', async () => {
    const warnings: string[] = [];
    const logged = await createEngine({ workers: 2, threads: 1, logger: { info: () => undefined, warn: (message: string) => warnings.push(message) } });
    try {
      // 784 pixels at 2000 evaluations: most rows' expansions fit poorly (held-out R² 0.34–0.63 here)
      const cacheDir = await mkdtemp(join(dir, 'poor-fit-cache-'));
      const poorFits = { ...PATCHES, grid: '28x28', players: '0-783', budget: 2000, maxOrder: 5, indexOrder: 0, samples: PATCH_SAMPLES, rows: '0-3', cacheDir };
      const batch = await logged.explainBatch(poorFits);
      const poor = batch.results!.filter((r) => Math.min(r.faithfulness.r2, r.faithfulness.or!.r2) < 0.5).length;
      expect(poor).toBeGreaterThan(1);
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(/^The sparse expansions explain little of the model's output on masks they never saw/);
      expect(warnings[1]).toBe(`${poor} of 4 samples had sparse expansions with a held-out R² below 0.5 (their terms are a rough account); the first said so above, the others were not said one by one.`);
      // read back from the cache (as from a queue's results), the same results say the same: the warnings are read
      // from each result, wherever it ran (a queued run, whose units ran on workers, said none; stop 44)
      const again = await logged.explainBatch(poorFits);
      expect(again.results!.every((r, i) => r.faithfulness.r2 === batch.results![i].faithfulness.r2)).toBe(true);
      // (read back, the samples may come in another order: the first said may be another sample's)
      expect(warnings).toHaveLength(4);
      expect(warnings[2]).toMatch(/^The sparse expansions explain little of the model's output on masks they never saw/);
      expect(warnings[3]).toBe(warnings[1]);
    } finally {
      await logged.dispose();
    }
  });

  it('POST /explain/batch takes the sparse method within the service\'s limits', async () => {
    let service: Service | undefined;
    try {
      service = await serve(engine, { modelsDir: MODELS, port: 0, maxBudget: 2000, maxSparsePlayers: 64 });
      const set = JSON.parse(await readFile(PATCH_SAMPLES, 'utf8')).samples.slice(0, 2);
      const post = (body: object) => fetch(`${service!.url}/explain/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const body = { model: 'patches-49.onnx', samples: set.map((s: { x: unknown }) => s.x), labels: set.map((s: { label: number }) => s.label), grid: '7x7', modality: 'image', method: 'sparse', budget: 1500, maxOrder: 3 };
      const response = await post(body);
      expect(response.status).toBe(200);
      const json = (await response.json()) as { method: string; results: { schema: string }[]; all: { interactions: { mean: number }[] } };
      expect([...Compile(BatchResultSchema).Errors(json)]).toEqual([]);
      expect(json.method).toBe('sparse');
      expect(json.results.map((r) => r.schema)).toEqual(['andor.sparse/1', 'andor.sparse/1']);
      const local = await engine.explainBatch({ ...PATCHES, samples: PATCH_SAMPLES, rows: '0-1', cacheDir: false });
      expectClose(json.all.interactions.map((i) => i.mean), local.all.interactions.map((i) => i.mean), { atol: 1e-12 });
      // a budget above the service's limit, and more players than it allows: 400, saying which limit
      const over = await post({ ...body, budget: 5000 });
      expect(over.status).toBe(400);
      expect(((await over.json()) as { error: { message: string } }).error.message).toContain("above this service's limit of 2000 evaluations");
      await service.close();
      service = await serve(engine, { modelsDir: MODELS, port: 0, maxSparsePlayers: 16 });
      const many = await post(body);
      expect(many.status).toBe(400);
      expect(((await many.json()) as { error: { message: string } }).error.message).toContain("49 players exceed this service's limit of 16 players");
    } finally {
      await service?.close();
    }
  });
});
