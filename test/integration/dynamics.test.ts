// `dynamics` on the bundled breast-cancer checkpoint series: the report's fields, resuming an interrupted run from
// the cache without recomputing finished pairs, and the CLI.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, InvalidInputError, ROOT, createEngine, model, seriesSamples, type Engine } from '../helpers/index.js';

const SERIES = model('bc-mlp-series');
const CHECKPOINTS = ['epoch-0000', 'epoch-0016', 'epoch-1024'].map((c) => join(SERIES, `${c}.onnx`));

describe('dynamics', () => {
  let engine: Engine;
  let dir: string;
  let samples: string;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2, threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'andor-dyn-'));
    samples = await seriesSamples(SERIES, join(dir, 'samples.json'));
  });
  afterAll(async () => {
    await engine.dispose();
  });

  const request = () => ({
    checkpoints: CHECKPOINTS,
    samples,
    losses: join(SERIES, 'losses.json'),
    referenceModels: [join(SERIES, 'reference-0.onnx')],
    players: '0-9',
    iterations: 300,
  });

  it('reports per checkpoint strength, κ, loss gap, theory, Jaccard and generalization', async () => {
    const r = await engine.dynamics({ ...request(), cacheDir: false });
    expect(r.checkpoints.map((c) => c.name)).toEqual(['epoch-0000', 'epoch-0016', 'epoch-1024']);
    expect(r.samples).toEqual({ train: 3, test: 3, ood: 2 });
    const losses = JSON.parse(await readFile(join(SERIES, 'losses.json'), 'utf8')).checkpoints;
    for (const c of r.checkpoints) {
      expect(c.orders.positive).toHaveLength(11);
      expect(c.normalized.slice(1).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      const l = losses.find((x: { name: string }) => x.name === c.name);
      expect(c.lossGap).toBeCloseTo(l.testLoss - l.trainLoss, 12);
      expect(c.theory!.error).toHaveLength(11);
      expect(c.jaccard).toHaveLength(11);
      expect(c.generalization!.ratio).toBeGreaterThanOrEqual(0);
      expect(c.ood!.normalized).toHaveLength(11);
    }
    expect(r.turningPoint).toBeGreaterThanOrEqual(1);
    expect(r.theory!.sigma2).toHaveLength(3);
    expect(r.pairs).toEqual({ computed: 3 * 8 + 6, cached: 0 });
    // at initialization the interactions are spread over middle orders; after 16 epochs they sit on low orders
    expect(r.checkpoints[1].kappa).toBeLessThan(r.checkpoints[0].kappa);
  });

  it('resumes an interrupted run without recomputing finished pairs', async () => {
    const cacheDir = join(dir, 'cache');
    const controller = new AbortController();
    const first = engine.dynamics({
      ...request(), cacheDir, concurrency: 1, signal: controller.signal,
      onProgress: (p) => p.done === 7 && controller.abort(),
    });
    await expect(first).rejects.toThrowError(CancelledError);
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.bin'))).toHaveLength(7);
    let computedAgain = 0;
    const second = await engine.dynamics({ ...request(), cacheDir, onProgress: (p) => (computedAgain = p.done - p.cached) });
    expect(second.pairs).toEqual({ computed: 30 - 7, cached: 7 });
    expect(computedAgain).toBe(23);
    const third = await engine.dynamics({ ...request(), cacheDir });
    expect(third.pairs).toEqual({ computed: 0, cached: 30 });
    expect(third.checkpoints.map((c) => c.kappa)).toEqual(second.checkpoints.map((c) => c.kappa));
  });

  it('rejects unlabelled or unsplit samples and missing checkpoints', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ samples: [{ x: new Array(30).fill(0), split: 'ood', label: 1 }] }));
    await expect(engine.dynamics({ ...request(), samples: bad, cacheDir: false })).rejects.toThrowError(/no samples with split "train" or "test"/);
    await expect(engine.dynamics({ ...request(), checkpoints: join(dir, 'nowhere'), cacheDir: false })).rejects.toThrowError(InvalidInputError);
  });

  it('runs from the CLI on a folder, taking only its epoch-* checkpoints', async () => {
    const out = join(dir, 'dyn.json');
    const args = [
      join(ROOT, 'dist/engine/interfaces/cli.js'), 'dynamics', '--checkpoints', SERIES, '--samples', samples, '--losses', join(SERIES, 'losses.json'),
      '--players', '0-9', '--iterations', '100', '--preset', 'default', '--no-cache', '--out', out, '--workers', '2',
    ];
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT });
    expect(stdout).toMatch(/turning\s+checkpoint \d+ \(epoch-\d+\)/);
    const json = JSON.parse(await readFile(out, 'utf8'));
    expect(json.schema).toBe('andor.dynamics/1');
    expect(json.checkpoints).toHaveLength(12); // reference-*.onnx in the folder are not checkpoints
    expect(json.checkpoints[0]).toMatchObject({ name: 'epoch-0000', kappa: expect.any(Number), lossGap: expect.any(Number) });
    expect(json.checkpoints[0].orders.positive).toHaveLength(11);
    expect(json.theory.sigma2).toHaveLength(12);
    expect(json.theory.error).toHaveLength(12);
    expect(json.jaccard).toHaveLength(11);
    expect(typeof json.turningPoint).toBe('number');
  });
});
