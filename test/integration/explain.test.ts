// The whole pipeline on the bundled default model (real onnxruntime-node, real kernels): v against direct runs of
// the model, universal matching, game input against model input, and the typed errors of bad input.
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelledError, InvalidInputError, InvalidOptionError, MemoryLimitError, ModelLoadError, NonFiniteError, ShapeMismatchError,
  createEngine, expectClose, loadSampleSet, model, popcount, type Engine, type ExplainResult,
} from '../helpers/index.js';

const MLP = model('breast-cancer-mlp.onnx');
const LOGIT = model('breast-cancer-logit.onnx');
const SAMPLES = model('breast-cancer.samples.json');
const PLAYERS = '0-9';

/** gt-log-odds from logits in float64, written out independently of the engine. */
function logOdds(z: Float32Array, y: number): number {
  const others = Array.from(z).filter((_, c) => c !== y);
  const m = Math.max(...others);
  return z[y] - m - Math.log(others.reduce((s, zc) => s + Math.exp(zc - m), 0));
}

describe('explain on the bundled breast-cancer MLP', () => {
  let engine: Engine;
  let result: ExplainResult;
  let x: Float64Array;
  beforeAll(async () => {
    engine = await createEngine();
    // preset none: the unlearned split (γ = q = 0), which rebuilds v itself; learned splits are tested in decompose.test.ts
    result = await engine.explain({ model: MLP, sample: SAMPLES, players: PLAYERS, baseline: 'zero', preset: 'none' });
    const set = await loadSampleSet(SAMPLES);
    x = set.samples[0].values as Float64Array;
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('reports n, names, target and backend', () => {
    expect(result.n).toBe(10);
    expect(result.players[0]).toBe('mean radius');
    expect(result.v.length).toBe(1024);
    expect(result.target).toBe(1); // the label of test-0
    expect(engine.backend).toBe('ort-node/cpu');
  });

  it('gives the same v as direct single-sample runs of the model on several masks', async () => {
    const session = await ort.InferenceSession.create(MLP);
    for (const mask of [0, 1, 0b1010101010, 0b0111000111, 1023]) {
      const masked = Float32Array.from(x, (value, d) => (d < 10 && !((mask >> d) & 1) ? 0 : value));
      const out = await session.run({ features: new ort.Tensor('float32', masked, [1, 30]) });
      expectClose(result.v[mask], logOdds(out.logits.data as Float32Array, 1), { atol: 1e-4, rtol: 1e-5 });
    }
    await session.release();
  });

  it('rebuilds v on every mask from the interactions (universal matching)', () => {
    expect(result.matching.relativeError).toBeLessThan(1e-9);
  });

  it('has AND and OR vectors that sum to v(N) and put the ∅ term in AND', () => {
    const total = result.and.reduce((s, a) => s + a, 0) + result.or.reduce((s, o) => s + o, 0);
    expectClose(total, result.v[1023], { atol: 1e-9 });
    expectClose(result.and[0], result.v[0], { atol: 1e-12 });
    for (let i = 0; i < 10; i++) expect(result.or[1 << i]).toBe(0); // reorganized
  });

  it('reports salient interactions above 5% of the largest one, and their per-order sums', () => {
    let max = 0;
    for (let m = 1; m < 1024; m++) max = Math.max(max, Math.abs(result.and[m]), Math.abs(result.or[m]));
    expectClose(result.threshold, 0.05 * max, { atol: 1e-12 });
    expect(result.salient.length).toBeGreaterThan(0);
    const positive = new Float64Array(11);
    for (const s of result.salient) {
      expect(Math.abs(s.value)).toBeGreaterThanOrEqual(result.threshold);
      expect(s.players.length).toBe(popcount(s.mask));
      if (s.value > 0) positive[s.players.length] += s.value;
    }
    expectClose(result.orders.positive, positive, { atol: 1e-9 });
  });

  it('gives the same interactions from the values alone (game input)', async () => {
    const game = await engine.explainValues({ values: result.v, names: [...result.players], preset: 'none' });
    expectClose(game.and, result.and, { atol: 1e-12 });
    expectClose(game.or, result.or, { atol: 1e-12 });
    expect(game.salient.map((s) => s.mask)).toEqual(result.salient.map((s) => s.mask));
  });

  it('and-only decomposition leaves OR empty and AND = Möbius(v)', async () => {
    const and = await engine.explain({ model: MLP, sample: SAMPLES, players: PLAYERS, decomposition: 'and', preset: 'none' });
    expect(and.or.every((o) => o === 0)).toBe(true);
    expectClose(and.and, await engine.mobius(result.v), { atol: 1e-12 });
  });

  it('-v0 rewards subtract v(∅), logit reads z_y', async () => {
    const v0 = await engine.explain({ model: MLP, sample: SAMPLES, players: PLAYERS, reward: 'gt-log-odds-v0' });
    expect(v0.v[0]).toBe(0);
    expectClose(v0.v, result.v.map((v) => v - result.v[0]), { atol: 1e-12 });
    const logit = await engine.explain({ model: MLP, sample: SAMPLES, players: PLAYERS, reward: 'logit', target: 0 });
    expect(logit.target).toBe(0);
  });

  it('a single-logit model gives v = z for class 1 and −z for class 0', async () => {
    const one = await engine.explain({ model: LOGIT, sample: SAMPLES, players: PLAYERS, target: 1, preset: 'none' });
    const zero = await engine.explain({ model: LOGIT, sample: SAMPLES, players: PLAYERS, target: 0, preset: 'none' });
    expectClose(zero.v, one.v.map((v) => -v), { atol: 1e-12 });
    expect(one.matching.relativeError).toBeLessThan(1e-9);
  });

  it('mean baseline uses the reference rows; background mask replaces non-players', async () => {
    const mean = await engine.explain({ model: MLP, sample: SAMPLES, players: '0-2', baseline: 'mean' });
    const set = await loadSampleSet(SAMPLES);
    const rows = set.samples.map((s) => s.values as Float64Array);
    const session = await ort.InferenceSession.create(MLP);
    const masked = Float32Array.from(x, (value, d) => (d < 3 ? rows.reduce((s, r) => s + r[d], 0) / rows.length : value));
    const out = await session.run({ features: new ort.Tensor('float32', masked, [1, 30]) });
    expectClose(mean.v[0], logOdds(out.logits.data as Float32Array, 1), { atol: 1e-4 });
    const bg = await engine.explain({ model: MLP, sample: SAMPLES, players: '0-2', background: 'mask' });
    const all0 = await session.run({ features: new ort.Tensor('float32', new Float32Array(30), [1, 30]) });
    expectClose(bg.v[0], logOdds(all0.logits.data as Float32Array, 1), { atol: 1e-4 });
    await session.release();
  });
});

describe('explain rejects bad input with typed errors', () => {
  let engine: Engine;
  let dir: string;
  beforeAll(async () => {
    engine = await createEngine();
    dir = await mkdtemp(join(tmpdir(), 'andor-'));
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('a missing model file', async () => {
    await expect(engine.explain({ model: join(dir, 'nope.onnx'), sample: SAMPLES })).rejects.toThrowError(ModelLoadError);
  });

  it('a malformed ONNX file', async () => {
    const bad = join(dir, 'bad.onnx');
    await writeFile(bad, 'this is not a protobuf');
    await expect(engine.explain({ model: bad, sample: SAMPLES })).rejects.toThrowError(/could not load the model/);
  });

  it('a sample that does not fit the model input', async () => {
    await expect(engine.explain({ model: MLP, sample: '[1, 2, 3]' })).rejects.toThrowError(ShapeMismatchError);
    await expect(engine.explain({ model: MLP, sample: '[1, 2, 3]' })).rejects.toThrowError(/takes 30 values per sample, but the sample has 3/);
  });

  it('a player index out of range', async () => {
    await expect(engine.explain({ model: MLP, sample: SAMPLES, players: '0-30' })).rejects.toThrowError(/feature column 30 is out of range; valid feature columns are 0..29/);
  });

  it('a bad players list, named options.players (it said "players[0]", which the service could not spell body.players[0])', async () => {
    await expect(engine.explain({ model: MLP, sample: SAMPLES, players: [1e300] })).rejects.toThrowError(/^options\.players\[0\] must be a non-negative integer \(got 1e\+300\)\.$/);
    await expect(engine.explain({ model: MLP, sample: SAMPLES, players: '0-30' })).rejects.toThrowError(/^options\.players: feature column 30 is out of range/);
  });

  it('qthres with preset none, as lr: refused, since γ = q = 0 leaves no q to bound (it was ignored in silence)', async () => {
    await expect(engine.explain({ model: MLP, sample: SAMPLES, players: '0-3', preset: 'none', qthres: 0.1 })).rejects.toThrowError(/^options\.qthres tunes the solver, which preset "none" \(γ = q = 0\) does not run: leave it out, or choose another preset\.$/);
    // the authors' conventions fill qthres: a value the request did not give is not refused
    const authors = await engine.explain({ model: MLP, sample: SAMPLES, players: '0-3', preset: 'none', conventions: 'authors' });
    expect(authors.decomposition.preset).toBe('none');
  });

  it('a batch label out of range, named as the sample\'s label, not as options.target (which a batch does not take)', async () => {
    const set = JSON.parse(await readFile(SAMPLES, 'utf8'));
    const samples = join(dir, 'labels.json');
    // no "classes": the set's own check (labels below the number of classes) does not apply
    await writeFile(samples, JSON.stringify({ samples: [{ ...set.samples[0], label: 1 }, { ...set.samples[1], label: 5 }] }));
    const error = await engine.explainBatch({ model: MLP, samples, players: '0-3', preset: 'none', cacheDir: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(/, sample row 1: Target class 5 \(the sample's label\) is out of range: output "logits" has 2 value\(s\) per sample, so valid targets are 0\.\.1\. Fix the sample's label in options\.samples\.$/);
  });

  it('too many players for the memory limit', async () => {
    const small = await createEngine({ maxMemoryMb: 16 });
    await expect(small.explain({ model: MLP, sample: SAMPLES, players: '0-19' })).rejects.toThrowError(MemoryLimitError);
    await expect(small.explainValues({ values: new Float64Array(1 << 18) })).rejects.toThrowError(/Use at most 16 players/);
    await small.dispose();
  });

  it('a target class out of range', async () => {
    await expect(engine.explain({ model: MLP, sample: SAMPLES, players: PLAYERS, target: 2 })).rejects.toThrowError(/valid targets are 0..1/);
  });

  it('a values file of the wrong length', async () => {
    const file = join(dir, 'v.json');
    await writeFile(file, JSON.stringify([1, 2, 3]));
    await expect(engine.explainValues({ values: file })).rejects.toThrowError(ShapeMismatchError);
    const raw = join(dir, 'v.bin');
    await writeFile(raw, Buffer.alloc(12));
    await expect(engine.explainValues({ values: raw })).rejects.toThrowError(/not a whole number of little-endian float64/);
    // no value, or one (n = 0), says n from 1 (it said "n in 0..30" for none; an adversarial sweep, stop 43)
    await expect(engine.explainValues({ values: [1, 2, 3] })).rejects.toThrowError(/^The values vector has 3 values; it must hold 2\^n values \(one per mask\) for some n in 1\.\.30\.$/);
    for (const [values, count] of [[[], 'no value'], [[5], '1 value']] as const) {
      await expect(engine.explainValues({ values: [...values] })).rejects.toThrowError(new RegExp(`^The values vector has ${count}: a game needs at least one player \\(2 values, for ∅ and \\{0\\}\\), 2\\^n values for some n in 1\\.\\.30\\.$`));
    }
  });

  it('a signal already aborted cancels explainValues under every preset (preset none and the default gave a result)', async () => {
    const signal = AbortSignal.abort();
    for (const preset of ['none', 'default', 'reference'] as const) {
      await expect(engine.explainValues({ values: [0, 1, 2, 4], preset, signal }), preset).rejects.toThrowError(CancelledError);
    }
  });

  it('NaN or Inf rewards', async () => {
    await expect(engine.explainValues({ values: [0, 1, NaN, 2] })).rejects.toThrowError(NonFiniteError);
    await expect(engine.explainValues({ values: '[0, 1, null, 2]' })).rejects.toThrowError(/non-finite/);
    // a baseline far outside the data drives the logits to ±Inf in float32
    const huge = new Float64Array(30).fill(1e38);
    await expect(engine.explain({ model: MLP, sample: SAMPLES, players: PLAYERS, baseline: huge })).rejects.toThrowError(NonFiniteError);
  });

  it('unknown options and bad values name the field', async () => {
    await expect(engine.explain({ model: MLP, sample: SAMPLES, colour: 'red' } as never)).rejects.toThrowError(/Unknown option options.colour/);
    await expect(engine.explain({ model: MLP, sample: SAMPLES, reward: 'odds' as never })).rejects.toThrowError(InvalidOptionError);
    await expect(createEngine({ workers: -1 })).rejects.toThrowError(/options.workers must be an integer in 0..256 \(got -1\)/);
    await expect(createEngine({ backend: 'tpu' as never })).rejects.toThrowError(/Expected one of: auto, cpu, cuda, wasm|must be one of: auto, cpu, cuda, wasm/);
  });

  it('an unreadable sample', async () => {
    await expect(engine.explain({ model: MLP, sample: join(dir, 'missing.json') })).rejects.toThrowError(InvalidInputError);
    await expect(engine.explain({ model: MLP, sample: SAMPLES, row: 99 })).rejects.toThrowError(/rows 0..7/);
  });

  it('the same model file read twice gives the same result', async () => {
    const bytes = await readFile(MLP);
    const a = await engine.explain({ model: bytes, sample: SAMPLES, players: PLAYERS });
    const b = await engine.explain({ model: MLP, sample: SAMPLES, players: PLAYERS });
    expect(a.v).toEqual(b.v);
  });
});
