// The marginal baseline (--baseline marginal): each mask is evaluated once per reference row, its absent players at
// that row's values, and v(T) is the mean reward over the rows. Checked against a brute-force loop over a plain
// onnxruntime-node session, against a given baseline (one row), through the mask lists of the sparse method, in a
// worker and on the calling thread, in a batch and in the CLI, and for the inputs it refuses.
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { InvalidOptionError, createEngine, expectClose, model, type Engine } from '../helpers/index.js';

const MLP = model('breast-cancer-mlp.onnx');
const SAMPLES = model('breast-cancer.samples.json');
const PLAYERS = 6;

/** gt-log-odds of class y from logits z (the engine's stable form). */
function logOdds(z: ArrayLike<number>, y: number): number {
  const others = Array.from(z).filter((_, c) => c !== y);
  const max = Math.max(...others);
  return z[y] - max - Math.log(others.reduce((a, b) => a + Math.exp(b - max), 0));
}

describe.each([['the calling thread', 0], ['one worker', 1]] as const)('the marginal baseline, on %s', (_where, workers) => {
  let engine: Engine;
  let set: { samples: { x: number[] }[] };
  let rows: number[][];
  beforeAll(async () => {
    engine = await createEngine({ workers, threads: 1 });
    set = JSON.parse(await readFile(SAMPLES, 'utf8')) as typeof set;
    rows = set.samples.slice(3, 8).map((s) => s.x);
  });
  afterAll(async () => {
    await engine.dispose();
  });
  const request = { model: MLP, sample: SAMPLES, players: `0-${PLAYERS - 1}`, preset: 'none' as const };
  const reference = () => JSON.stringify({ samples: rows });

  it('gives v(T) = the mean over the reference rows of the reward with the absent players at that row\'s values', async () => {
    const result = await engine.explain({ ...request, baseline: 'marginal', reference: reference() });
    expect(result.baseline).toBe('marginal');
    const session = await ort.InferenceSession.create(MLP);
    try {
      const x = set.samples[0].x;
      for (let mask = 0; mask < 2 ** PLAYERS; mask++) {
        let sum = 0;
        for (const row of rows) {
          const input = Float32Array.from(x.map((value, d) => (d < PLAYERS && !((mask >>> d) & 1) ? row[d] : value)));
          const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 30]) });
          sum += logOdds(out[session.outputNames[0]].data as Float32Array, result.target!);
        }
        expectClose(result.v[mask], sum / rows.length, { atol: 1e-9 });
      }
    } finally {
      await session.release();
    }
    // the rows differ from the sample: v(∅) is not v(N)
    expect(Math.abs(result.v[0] - result.v[2 ** PLAYERS - 1])).toBeGreaterThan(0.1);
  });

  it('with one reference row is that row as the baseline, bit for bit', async () => {
    const one = await engine.explain({ ...request, baseline: 'marginal', reference: JSON.stringify({ samples: [rows[2]] }) });
    const given = await engine.explain({ ...request, baseline: rows[2] });
    expect(Array.from(one.v)).toEqual(Array.from(given.v));
  });

  it('reaches the sparse method through mask lists: with the budget covering 2^n its AND terms are the Möbius terms of the exact v', async () => {
    const players = '0-9';
    const exact = await engine.explain({ ...request, players, baseline: 'marginal', reference: reference() });
    const sparse = await engine.explain({ model: MLP, sample: SAMPLES, players, baseline: 'marginal', reference: reference(), method: 'sparse', budget: 1024, maxOrder: 10 });
    expect(sparse.recovery).toBe('exact');
    const m = await engine.mobius(exact.v);
    const scale = Math.max(...Array.from(m, Math.abs));
    const found = new Map(sparse.and.map((t) => [t.players.reduce((a, i) => a | (1 << i), 0), t.value]));
    for (let s = 0; s < 1024; s++) expectClose(found.get(s) ?? 0, m[s], { atol: 1e-10 * scale });
    // and below 2^n, the values it evaluated are the exact path's: v(∅) and v(N)
    const below = await engine.explain({ model: MLP, sample: SAMPLES, players, baseline: 'marginal', reference: reference(), method: 'sparse', budget: 800, maxOrder: 2 });
    expect(below.recovery).toBe('adaptive');
    expect(below.values).toEqual({ empty: exact.v[0], full: exact.v[1023] });
  });

  it('takes the sample file\'s rows when no reference is given, in one explain and in a batch', async () => {
    const all = await engine.explain({ ...request, players: '0-3', baseline: 'marginal' });
    const given = await engine.explain({ ...request, players: '0-3', baseline: 'marginal', reference: SAMPLES });
    expect(Array.from(all.v)).toEqual(Array.from(given.v));
    const batch = await engine.explainBatch({ model: MLP, preset: 'none', players: '0-3', samples: SAMPLES, rows: '0-1', baseline: 'marginal', cacheDir: false });
    expect(Array.from(batch.results![0].v)).toEqual(Array.from(all.v));
  });

  it('refuses --background mask, and a reference of more rows than it will evaluate per mask', async () => {
    const masked = engine.explain({ ...request, baseline: 'marginal', reference: reference(), background: 'mask' });
    await expect(masked).rejects.toThrowError(InvalidOptionError);
    await expect(masked).rejects.toThrowError(/baseline "marginal" takes each absent player from every reference row in turn.*use background "keep"/);
    const huge = { samples: Array.from({ length: 10_001 }, () => set.samples[0].x) };
    await expect(engine.explain({ ...request, baseline: 'marginal', reference: JSON.stringify(huge) })).rejects.toThrowError(/the reference has 10001 rows \(at most 10000\)\. Give fewer rows/);
  });
});

describe('the marginal baseline, refused', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('for a model whose batch axis is fixed: it runs a mask once per reference row in one batch', async () => {
    const run = engine.explain({ model: model('digits-cnn-fixed.onnx'), sample: model('digits.samples.json'), modality: 'image', players: '0-3', preset: 'none', baseline: 'marginal' });
    await expect(run).rejects.toThrowError(InvalidOptionError);
    await expect(run).rejects.toThrowError(/baseline "marginal" runs each mask once per reference row \(12 rows\) in one batch, but input "\w+" has a batch fixed at \d+ rows\. Export the model with a dynamic batch axis/);
  });

  it('for text, whose absent tokens take the mask token', async () => {
    const run = engine.explain({ model: model('tokens-40.onnx'), sample: model('tokens-40.samples.json'), modality: 'text', maskToken: 1, players: '0-3', baseline: 'marginal' });
    await expect(run).rejects.toThrowError(InvalidOptionError);
  });

  it('runs from the CLI with --reference, and says so in the result', async () => {
    const run = await runCli(['explain', '--model', MLP, '--sample', SAMPLES, '--players', '0-3', '--preset', 'none', '--baseline', 'marginal', '--reference', SAMPLES, '--json', '--workers', '0']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { baseline: string; v: number[] };
    expect(result.baseline).toBe('marginal');
    const library = await engine.explain({ model: MLP, sample: SAMPLES, players: '0-3', preset: 'none', baseline: 'marginal' });
    expect(result.v).toEqual(Array.from(library.v));
  }, 30_000);
});
