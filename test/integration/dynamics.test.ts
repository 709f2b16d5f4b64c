// `dynamics` on the bundled breast-cancer checkpoint series: the report's fields, resuming an interrupted run from
// the cache without recomputing finished pairs, and the CLI.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORS_CONVENTIONS } from '../../dist/engine/explain/conventions.js';
import { summarizeDynamics } from '../../dist/engine/api/result.js';
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

  it('applies conventions authors to every pair, as the options it stands for (an adversarial sweep, stop 33)', async () => {
    const small = { ...request(), players: '0-5', referenceModels: undefined, cacheDir: false as const };
    const authors = await engine.dynamics({ ...small, conventions: 'authors' });
    const spelled = await engine.dynamics({ ...small, ...AUTHORS_CONVENTIONS });
    const andor = await engine.dynamics(small);
    expect(authors.checkpoints.map((c) => c.kappa)).toEqual(spelled.checkpoints.map((c) => c.kappa));
    expect(authors.checkpoints.map((c) => c.kappa)).not.toEqual(andor.checkpoints.map((c) => c.kappa));
  });

  it('resumes an interrupted run without recomputing finished pairs', async () => {
    const cacheDir = join(dir, 'cache');
    const controller = new AbortController();
    const first = engine.dynamics({
      ...request(), cacheDir, concurrency: 1, signal: controller.signal,
      onProgress: (p) => p.done === 7 && controller.abort(),
    });
    await expect(first).rejects.toThrowError(CancelledError);
    // 7 pairs, and the signatures of the 3 checkpoints and the reference model (read before any pair: a rerun opens
    // no model for them)
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.bin'))).toHaveLength(7 + 4);
    let computedAgain = 0;
    const second = await engine.dynamics({ ...request(), cacheDir, onProgress: (p) => (computedAgain = p.done - p.cached) });
    expect(second.pairs).toEqual({ computed: 30 - 7, cached: 7 });
    expect(computedAgain).toBe(23);
    // read whole from the cache, by an engine that opens no model at all (the checkpoints' signatures are cached too)
    const fresh = await createEngine({ workers: 0, threads: 1 });
    try {
      const third = await fresh.dynamics({ ...request(), cacheDir });
      expect(third.pairs).toEqual({ computed: 0, cached: 30 });
      expect(third.checkpoints.map((c) => c.kappa)).toEqual(second.checkpoints.map((c) => c.kappa));
      expect(fresh.backend).toBeUndefined();
    } finally {
      await fresh.dispose();
    }
  });

  it('takes the mean baseline over the rows of the sample file when no reference is given', async () => {
    const options = { ...request(), checkpoints: CHECKPOINTS.slice(1), referenceModels: undefined, players: '0-3', baseline: 'mean' as const, iterations: 50, cacheDir: false as const };
    const implicit = await engine.dynamics(options);
    const explicit = await engine.dynamics({ ...options, reference: samples });
    // each pair alone made the mean of its own sample: v(∅) = v(N) and no interaction at all
    expect(implicit.checkpoints[0].kappa).toBeGreaterThan(0);
    expect(implicit.checkpoints.map((c) => c.kappa)).toEqual(explicit.checkpoints.map((c) => c.kappa));
  });

  it('rejects unlabelled or unsplit samples and missing checkpoints', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ samples: [{ x: new Array(30).fill(0), split: 'ood', label: 1 }] }));
    await expect(engine.dynamics({ ...request(), samples: bad, cacheDir: false })).rejects.toThrowError(/no samples with split "train" or "test"/);
    await writeFile(bad, JSON.stringify({ samples: [{ x: new Array(30).fill(0), split: 'train', label: 1 }, { x: new Array(30).fill(0), label: 0 }] }));
    await expect(engine.dynamics({ ...request(), samples: bad, cacheDir: false })).rejects.toThrowError(/1 sample\(s\) of .* have no "split"; dynamics compares train, test and ood samples/);
    await expect(engine.dynamics({ ...request(), checkpoints: join(dir, 'nowhere'), cacheDir: false })).rejects.toThrowError(InvalidInputError);
    // a listed checkpoint that is not there (its name in the losses file) is named as one (it said "--model"; an
    // adversarial sweep, stop 43)
    await expect(engine.dynamics({ ...request(), checkpoints: [CHECKPOINTS[0], join(dir, 'epoch-0001.onnx')], cacheDir: false })).rejects.toThrowError(/Cannot read the model file .*epoch-0001\.onnx: ENOENT\. Check the path \(--checkpoints\)\./);
  });

  it('refuses a checkpoint listed twice, or two checkpoints that are one model, and says one checkpoint has no turning point (stop 33)', async () => {
    const twice = engine.dynamics({ ...request(), checkpoints: [CHECKPOINTS[0], CHECKPOINTS[0], CHECKPOINTS[1]], cacheDir: false });
    await expect(twice).rejects.toThrowError(InvalidInputError);
    await expect(twice).rejects.toThrowError(/are one file listed twice; give each checkpoint of the training run once/);
    const copy = join(dir, 'copy-of-epoch-0000.onnx');
    await writeFile(copy, await readFile(CHECKPOINTS[0]));
    await expect(engine.dynamics({ ...request(), checkpoints: [CHECKPOINTS[0], copy], losses: undefined, cacheDir: false })).rejects.toThrowError(/are the same model \(sha256 /);
    // two models of one name: their losses, result and report rows were one checkpoint's (an adversarial sweep, stop 45)
    await mkdir(join(dir, 'other'), { recursive: true });
    const namesake = join(dir, 'other', basename(CHECKPOINTS[0]));
    await writeFile(namesake, await readFile(CHECKPOINTS[1]));
    await expect(engine.dynamics({ ...request(), checkpoints: [CHECKPOINTS[0], namesake], cacheDir: false })).rejects.toThrowError(
      new RegExp(`^The checkpoints .*${basename(CHECKPOINTS[0])} and .*other/${basename(CHECKPOINTS[0])} are both named "${basename(CHECKPOINTS[0], '.onnx')}": the losses, the result and the report tell checkpoints apart by their file names\\.`),
    );
    const one = await engine.dynamics({ ...request(), checkpoints: [CHECKPOINTS[1]], losses: undefined, referenceModels: undefined, players: '0-4', cacheDir: false });
    const summary = summarizeDynamics(one);
    expect(summary).toMatch(/^turning   one checkpoint: no turning point/m);
    expect(summary).not.toMatch(/◀ turning point/);
  });

  it('refuses losses whose gap overflows before any pair runs (stop 33)', async () => {
    const losses = join(dir, 'overflow-losses.json');
    const table = JSON.parse(await readFile(join(SERIES, 'losses.json'), 'utf8'));
    table.checkpoints[1] = { ...table.checkpoints[1], trainLoss: -1e308, testLoss: 1e308 };
    await writeFile(losses, JSON.stringify(table));
    let progressed = 0;
    const run = engine.dynamics({ ...request(), losses, cacheDir: false, onProgress: () => progressed++ });
    await expect(run).rejects.toThrowError(InvalidInputError);
    await expect(run).rejects.toThrowError(/checkpoints\[1\] .* has losses whose gap testLoss − trainLoss overflows to Infinity/);
    expect(progressed).toBe(0);
    // a loss JSON cannot hold (1e999) is named as read, not as the null its entry's JSON shows; an empty table says so
    // (it said "its entries are named ." with nothing after; an adversarial sweep, stop 45)
    await writeFile(losses, JSON.stringify(table).replace('-1e+308', '1e999'));
    await expect(engine.dynamics({ ...request(), losses, cacheDir: false })).rejects.toThrowError(/checkpoints\[1\] must be .* with finite numbers \(got .*: trainLoss is Infinity\)\./);
    await writeFile(losses, '{"checkpoints": []}');
    await expect(engine.dynamics({ ...request(), losses, cacheDir: false })).rejects.toThrowError(/has no losses for the checkpoint\(s\) .*; it has no entries\. Name each entry after its checkpoint file\./);
  });

  it('marks the samples whose split diverged, warns once with their count, and the same when they come from the cache (stops 33 and 44)', async () => {
    const warnings: string[] = [];
    const own = await createEngine({ workers: 0, logger: { warn: (m: string) => warnings.push(m), info: () => undefined, error: () => undefined, debug: () => undefined } as never });
    try {
      // the authors' raw lr (preset reference) diverges on this MLP at 10 players
      const diverging = { ...request(), checkpoints: CHECKPOINTS.slice(0, 2), referenceModels: undefined, losses: undefined, preset: 'reference' as const, lr: 100, iterations: 200, cacheDir: join(dir, 'diverging-cache') };
      const first = await own.dynamics(diverging);
      const marked = first.checkpoints.flatMap((c) => c.samples.filter((s) => s.diverged)).length;
      expect(marked).toBeGreaterThan(0);
      // the first pair's divergence said as it ran, the others counted at the end (warnings.ts), not one by one
      const computedWarnings = warnings.length;
      const pairs = first.pairs.computed + first.pairs.cached;
      expect(warnings[0]).toMatch(/^the objective rose from /);
      expect(warnings.slice(1)).toEqual(marked > 1 ? [`${marked} of ${pairs} pairs had a decomposition that diverged (their interactions are those of the best iterate); the first said so above, the others were not said one by one.`] : []);
      const again = await own.dynamics(diverging);
      expect(again.pairs.computed).toBe(0);
      expect(again.checkpoints.flatMap((c) => c.samples.filter((s) => s.diverged)).length).toBe(marked);
      // read from the cache, the pairs say what they said when computed (the first to arrive may be another pair):
      // the warnings are read from each result
      const fromCache = warnings.slice(computedWarnings);
      expect(fromCache).toHaveLength(computedWarnings);
      expect(fromCache[0]).toMatch(/^the objective rose from /);
      expect(fromCache.slice(1)).toEqual(warnings.slice(1, computedWarnings));
    } finally {
      await own.dispose();
    }
  });

  it('warns before any pair runs when no class has both train and test samples, whose Jaccard is then NaN (an adversarial sweep, stop 34)', async () => {
    const all = JSON.parse(await readFile(join(SERIES, 'samples.json'), 'utf8'));
    const pick = [...all.samples.filter((s: { split: string; label: number }) => s.split === 'train' && s.label === 1).slice(0, 2), ...all.samples.filter((s: { split: string; label: number }) => s.split === 'test' && s.label === 0).slice(0, 2)];
    const disjoint = join(dir, 'disjoint.json');
    await writeFile(disjoint, JSON.stringify({ ...all, samples: pick }));
    const warnings: string[] = [];
    const own = await createEngine({ workers: 0, logger: { warn: (m: string) => warnings.push(m), info: () => undefined, error: () => undefined, debug: () => undefined } as never });
    try {
      const run = await own.dynamics({ ...request(), samples: disjoint, checkpoints: CHECKPOINTS.slice(0, 2), referenceModels: undefined, losses: undefined, players: '0-3', preset: 'none', iterations: undefined, cacheDir: false });
      expect(warnings).toEqual([expect.stringMatching(/^No class of .*disjoint\.json has both train and test samples \(train: classes 1; test: 0\): the train\/test Jaccard is per class, so it is NaN at every order\./)]);
      expect(Array.from(run.jaccard!.slice(1)).every(Number.isNaN)).toBe(true);
      // the other measures stand
      expect(run.checkpoints.every((c) => Number.isFinite(c.kappa))).toBe(true);
    } finally {
      await own.dispose();
    }
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
