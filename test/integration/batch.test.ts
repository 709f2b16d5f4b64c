// Many samples of one model in one run (engine.explainBatch, `andor explain --samples`, POST /explain/batch): each
// sample's result equals a single explain of it, the aggregate is the mean and spread of those results, a rerun
// resumes from the content-addressed cache, cancellation keeps what finished, and every form matches its schema.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchResultSchema, ExplainResultSchema } from '../../dist/engine/contracts/schema/results.js';
import { serve, type Service } from '../../dist/engine/interfaces/serve.js';
import { CancelledError, InvalidOptionError, MODELS, ROOT, batchToJson, createEngine, expectClose, model, type Engine } from '../helpers/index.js';

const SAMPLES = model('breast-cancer.samples.json');
const OPTIONS = { model: model('breast-cancer-mlp.onnx'), players: '0-9', preset: 'none' as const };

describe('batch explanations', () => {
  let engine: Engine;
  let dir: string;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2, threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'andor-batch-'));
  });
  afterAll(async () => {
    await engine?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives each sample the result of a single explain, and aggregates them', async () => {
    const batch = await engine.explainBatch({ ...OPTIONS, samples: SAMPLES, rows: '0-3', cacheDir: false });
    expect(batch.samples.map((s) => s.row)).toEqual([0, 1, 2, 3]);
    expect(batch.results).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      const single = await engine.explain({ ...OPTIONS, sample: SAMPLES, row: i });
      expectClose(batch.results![i].v, single.v, { atol: 1e-12 });
      expectClose(batch.results![i].and, single.and, { atol: 1e-12 });
      expectClose(batch.shapley[i], single.indices.shapley, { atol: 1e-12 });
      expect(batch.samples[i].target).toBe(single.target);
    }
    // the aggregate of one interaction, recomputed from the four results
    const top = batch.all.interactions[0];
    const values = batch.results!.map((r) => r[top.kind][top.mask!]);
    const mean = values.reduce((a, b) => a + b, 0) / 4;
    expectClose(top.mean, mean, { atol: 1e-12 });
    expectClose(top.std, Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / 4), { atol: 1e-12 });
    expect(top.salientIn).toBe(batch.results!.filter((r) => r.salient.some((s) => s.kind === top.kind && s.mask === top.mask)).length);
    expect(Object.values(batch.classes).reduce((a, g) => a + g.count, 0)).toBe(4);
    expect(batch.classNames).toEqual(['malignant', 'benign']);
    // every class lists the batch's interactions with its own samples' values, salient in it or not (a chart per
    // class drew 0 where one was never salient in the class; an adversarial sweep, stop 34)
    const classes = Object.entries(batch.classes);
    expect(classes.length).toBe(2);
    let neverSalient = 0;
    for (const [target, group] of classes) {
      const members = batch.results!.filter((r) => String(r.target) === target);
      for (const i of batch.all.interactions) {
        const listed = group.interactions.find((c) => c.kind === i.kind && c.mask === i.mask);
        expect(listed, `${i.kind} ${i.mask} in class ${target}`).toBeDefined();
        const own = members.map((r) => r[i.kind][i.mask!]);
        expectClose(listed!.meanAbs, own.reduce((a, b) => a + Math.abs(b), 0) / own.length, { atol: 1e-12 });
        expect(listed!.salientIn).toBe(members.filter((r) => r.salient.some((s) => s.kind === i.kind && s.mask === i.mask)).length);
        if (listed!.salientIn === 0) neverSalient++;
      }
    }
    expect(neverSalient).toBeGreaterThan(0); // the case that was drawn as 0
    const json = batchToJson(batch);
    expect([...Compile(BatchResultSchema).Errors(JSON.parse(JSON.stringify(json)))]).toEqual([]);
  });

  it('lists each group\'s 200 strongest by mean |I| as a brute force over every (kind, mask) does, ties by mask, AND first', async () => {
    // salientRatio 0: every one of the 2^(n+1) interactions is salient, more than 200, so the cut is taken
    const batch = await engine.explainBatch({ ...OPTIONS, players: '0-7', salientRatio: 0, samples: SAMPLES, rows: '0-5', cacheDir: false });
    const results = batch.results!;
    const groups: [string, typeof results, typeof batch.all][] = [['all', results, batch.all], ...Object.entries(batch.classes).map(([c, g]): [string, typeof results, typeof g] => [c, results.filter((r) => String(r.target) === c), g])];
    for (const [name, members, group] of groups) {
      const listedInAll = new Set(batch.all.interactions.map((i) => `${i.kind}${i.mask}`));
      const expected: { kind: 'and' | 'or'; mask: number; meanAbs: number; salientIn: number }[] = [];
      for (const kind of ['and', 'or'] as const) {
        for (let mask = 0; mask < 2 ** 8; mask++) {
          const salientIn = members.filter((r) => r.salient.some((s) => s.kind === kind && s.mask === mask)).length;
          if (salientIn === 0 && !(name !== 'all' && listedInAll.has(`${kind}${mask}`))) continue;
          expected.push({ kind, mask, salientIn, meanAbs: members.reduce((a, r) => a + Math.abs(r[kind][mask]), 0) / members.length });
        }
      }
      expected.sort((a, b) => b.meanAbs - a.meanAbs || a.mask - b.mask || (a.kind < b.kind ? -1 : 1));
      const top = expected.slice(0, 200);
      expect(group.interactions.map((i) => [i.kind, i.mask, i.salientIn]), name).toEqual(top.map((e) => [e.kind, e.mask, e.salientIn]));
      group.interactions.forEach((i, k) => {
        expect(i.meanAbs).toBe(top[k].meanAbs);
        expect(i.players).toEqual([...Array(8).keys()].filter((p) => (i.mask! >> p) & 1));
      });
    }
  });

  it('resumes from the cache: a rerun computes nothing and gives the same numbers', async () => {
    const cacheDir = join(dir, 'resume');
    const first = await engine.explainBatch({ ...OPTIONS, samples: SAMPLES, rows: '0-2', cacheDir });
    expect(first.samples.every((s) => !s.cached)).toBe(true);
    const again = await engine.explainBatch({ ...OPTIONS, samples: SAMPLES, rows: '0-2', cacheDir });
    expect(again.samples.every((s) => s.cached)).toBe(true);
    expect(JSON.stringify(batchToJson({ ...again, samples: first.samples, timings: {} }))).toBe(JSON.stringify(batchToJson({ ...first, timings: {} })));
    // other options are other content: nothing is reused
    const other = await engine.explainBatch({ ...OPTIONS, salientRatio: 0.1, samples: SAMPLES, rows: '0-2', cacheDir });
    expect(other.samples.every((s) => !s.cached)).toBe(true);
  });

  it('streams results with progress and an ETA, and a cancelled run keeps what finished', async () => {
    const cacheDir = join(dir, 'cancel');
    const controller = new AbortController();
    const seen: number[] = [];
    const progress: number[] = [];
    const run = engine.explainBatch({
      ...OPTIONS, samples: SAMPLES, rows: '0-7', cacheDir, concurrency: 1, signal: controller.signal,
      onResult: (_r, { row }) => {
        seen.push(row);
        if (seen.length === 2) controller.abort();
      },
      onProgress: (p) => {
        progress.push(p.done);
        expect(p.etaMs).toBeGreaterThanOrEqual(0);
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThan(8);
    expect(progress).toEqual(progress.slice().sort((a, b) => a - b));
    const resumed = await engine.explainBatch({ ...OPTIONS, samples: SAMPLES, rows: '0-7', cacheDir });
    expect(resumed.samples.filter((s) => s.cached).length).toBe(seen.length);
  });

  it('takes the mean baseline over the rows of the sample file, as a single explain does, when no reference is given', async () => {
    const options = { ...OPTIONS, players: '0-3', baseline: 'mean' as const };
    const batch = await engine.explainBatch({ ...options, samples: SAMPLES, rows: '0-1', cacheDir: false });
    for (let i = 0; i < 2; i++) {
      const single = await engine.explain({ ...options, sample: SAMPLES, row: i });
      // v(∅) is the model at the mean of the file's rows, not at the sample itself (which made every interaction 0)
      expectClose(batch.results![i].v, single.v, { atol: 1e-12 });
      expectClose(batch.shapley[i], single.indices.shapley, { atol: 1e-12 });
    }
  });

  it('aggregates text samples whose players are named by their own tokens, naming the players by position', async () => {
    const text = { model: model('token-transformer.onnx'), samples: model('tokens.samples.json'), modality: 'text' as const, players: '0-3', maskToken: 1, preset: 'none' as const };
    const batch = await engine.explainBatch({ ...text, rows: '0-2', cacheDir: false });
    // each sample's players are its tokens ("k@0" and "d@0"): the same positions, refused before as other players
    expect(new Set(batch.results!.map((r) => r.players.join())).size).toBeGreaterThan(1);
    expect(batch.players).toEqual(['player 0', 'player 1', 'player 2', 'player 3']);
    expect(batch.all.count).toBe(3);
  });

  it('refuses rows outside the file and options it does not take', async () => {
    await expect(engine.explainBatch({ ...OPTIONS, samples: SAMPLES, rows: '0-999', cacheDir: false })).rejects.toThrow(/options\.rows: row \d+ is out of range/);
    await expect(engine.explainBatch({ ...OPTIONS, samples: SAMPLES, target: 1 } as never)).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('andor explain --samples writes one JSON line per sample, then the aggregate', async () => {
    const out = join(dir, 'batch.jsonl');
    const cli = join(ROOT, 'dist', 'engine', 'interfaces', 'cli.js');
    await promisify(execFile)(process.execPath, [cli, 'explain', '--model', OPTIONS.model, '--samples', SAMPLES, '--rows', '0-2', '--players', '0-9', '--preset', 'none', '--no-cache', '--out', out, '--quiet'], { cwd: ROOT });
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.schema)).toEqual(['andor.explain/1', 'andor.explain/1', 'andor.explain/1', 'andor.batch/1']);
    for (const line of lines.slice(0, 3)) expect([...Compile(ExplainResultSchema).Errors(line)]).toEqual([]);
    expect([...Compile(BatchResultSchema).Errors(lines[3])]).toEqual([]);
    expect(lines[3].samples.map((s: { row: number }) => s.row)).toEqual([0, 1, 2]);
  });

  it('POST /explain/batch gives the library\'s aggregate', async () => {
    let service: Service | undefined;
    try {
      service = await serve(engine, { modelsDir: MODELS, port: 0 });
      const set = JSON.parse(await readFile(SAMPLES, 'utf8')).samples.slice(0, 3);
      const response = await fetch(`${service.url}/explain/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'breast-cancer-mlp.onnx', samples: set.map((s: { x: number[] }) => s.x), labels: set.map((s: { label: number }) => s.label), players: '0-9', preset: 'none' }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { results: unknown[]; model: { file: string }; all: { interactions: { mean: number }[] } };
      expect([...Compile(BatchResultSchema).Errors(body)]).toEqual([]);
      expect(body.results).toHaveLength(3);
      expect(body.model.file).toBe('breast-cancer-mlp.onnx');
      const local = await engine.explainBatch({ ...OPTIONS, samples: SAMPLES, rows: '0-2', cacheDir: false });
      expectClose(body.all.interactions.map((i: { mean: number }) => i.mean), local.all.interactions.map((i) => i.mean), { atol: 1e-9 });
    } finally {
      await service?.close();
    }
  });
});
