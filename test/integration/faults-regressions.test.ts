// Regression tests for the classes of issue 10 that no other suite held: each sends the bad input the issue found
// (through the library, `andor serve` or the CLI, on the bundled models and models/faults/) and asserts the fixed
// behaviour: the typed error and the words of its message, the HTTP status and code, the exit code, or the numbers.
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDynamics, resolveCheckpoints, type PairRecord } from '../../dist/engine/studies/dynamics.js';
import { serve, type Service } from '../../dist/engine/interfaces/serve.js';
import { runCli } from '../helpers/cli.js';
import {
  CancelledError, EngineError, InvalidInputError, InvalidOptionError, ModelLoadError, ShapeMismatchError, batchToJson, createEngine, expectClose, model, renderReport, resultToJson, type Engine, type SampleSet,
} from '../helpers/index.js';

const MLP = model('breast-cancer-mlp.onnx');
const MLP_SAMPLES = model('breast-cancer.samples.json');
const TOKENS = model('token-transformer.onnx');
const TOKENS_I32 = model('token-transformer-i32.onnx');
const TOKEN_SAMPLES = model('tokens.samples.json');
const DIGITS = model('digits-cnn.onnx');
const DIGITS_SAMPLES = model('digits.samples.json');
const SERIES = model('bc-mlp-series');
const WIDE = model('faults/wide-output.onnx');
/** models/faults/make.py: wide-output.onnx has WIDE_CLASSES logits s · (j / WIDE_CLASSES − 1/2), s = x · WS. */
const WIDE_CLASSES = 200_000;
const WS = [1, -2, 1, 0.5];
/** Integer features: s = 3.5 on the full sample, so the predicted class is the last one. */
const WIDE_SAMPLE = [2, 1, 3, 1];
/** A refusal that must come before any expansion or model run (the defects took minutes, or aborted V8). */
const FAST_MS = 1_000;
/** One CLI run: Node's start and the engine's load, on a loaded 2-core machine. */
const CLI_MS = 30_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const readJson = async (file: string): Promise<Json> => JSON.parse(await readFile(file, 'utf8'));

/** The error a promise rejects with; fails when it resolves. */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then((value) => ({ value }), (error: Error) => ({ error }));
  if (!('error' in outcome)) return expect.fail(`expected a typed error, got a result: ${JSON.stringify(outcome.value)?.slice(0, 200)}`);
  return outcome.error;
}

/** The error a call throws; fails when it returns. */
function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  return expect.fail('expected a typed error, got a result');
}

describe('issue 10 regressions, in the library', () => {
  let engine: Engine;
  let dir: string;
  const warnings: string[] = [];
  let mlpSet: Json;
  /** A sample file of `samples`, in the form of the breast-cancer set (its features and classes). */
  const sampleFile = async (name: string, samples: readonly Json[]) => {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify({ ...mlpSet, samples }));
    return file;
  };
  beforeAll(async () => {
    engine = await createEngine({ workers: 0, logger: { warn: (m) => void warnings.push(m), info: () => {} } });
    dir = await mkdtemp(join(tmpdir(), 'andor-regressions-'));
    mlpSet = await readJson(join(SERIES, 'samples.json'));
  });
  afterAll(async () => {
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  describe('a sweep of the library, stop 48', () => {
    it('hears an abort that comes after the split, before the interactions: the analysis checks the signal between its steps (it ran to its end and resolved; at n = 22 for seconds)', async () => {
      // preset none: the split is γ = q = 0 at once; the abort comes in the turn after it (a microtask queued after the
      // call), while the interactions and indices of 2^12 masks are still to be computed
      const values = Float64Array.from({ length: 2 ** 12 }, (_, m) => Math.sin(m));
      const controller = new AbortController();
      const run = engine.explainValues({ values, preset: 'none', signal: controller.signal });
      queueMicrotask(() => controller.abort());
      const error = await refusal(run);
      expect(error).toBeInstanceOf(CancelledError);
      expect(error.message).toMatch(/cancelled/);
    });

    it('takes a baseline of another typed array of numbers as its values (a Float32Array was read as a keyword), and refuses a BigInt array', async () => {
      const row = (await readJson(MLP_SAMPLES)).samples[0].x as number[];
      const base = row.map((x) => Math.fround(x / 2));
      const asF64 = await engine.explain({ model: MLP, sample: MLP_SAMPLES, baseline: Float64Array.from(base), players: '0-3', preset: 'none' });
      const asF32 = await engine.explain({ model: MLP, sample: MLP_SAMPLES, baseline: Float32Array.from(base) as never, players: '0-3', preset: 'none' });
      expect(Array.from(asF32.v)).toEqual(Array.from(asF64.v));
      expect(asF32.v[0]).not.toBe(asF32.v[15]);
      const bigints = await refusal(engine.explain({ model: MLP, sample: MLP_SAMPLES, baseline: new BigInt64Array(30) as never, players: '0-3', preset: 'none' }));
      expect(bigints).toBeInstanceOf(InvalidOptionError);
      expect(bigints.message).toBe('options.baseline is a BigInt64Array; give one number per input element: a Float64Array (or another typed array of numbers) or a number[].');
    });

    it('says a sample object with "x" is a file row, refuses a shape that is not its values\' (shape [31] with 30 values was taken), and reads inline JSON losses (they were read as a file name: ENOENT)', async () => {
      const row = (await readJson(MLP_SAMPLES)).samples[0];
      const asRow = await refusal(engine.explain({ model: MLP, sample: row as never, players: '0-3', preset: 'none' }));
      expect(asRow).toBeInstanceOf(InvalidOptionError);
      expect(asRow.message).toMatch(/It has "x", the key of a row in a sample file: as an object it is \{values: \[\.\.\.\]\}/);
      const shaped = await refusal(engine.explain({ model: MLP, sample: { values: Float64Array.from(row.x), shape: [31] } as never, players: '0-3', preset: 'none' }));
      expect(shaped).toBeInstanceOf(InvalidInputError);
      expect(shaped.message).toBe('options.sample.shape [31] holds 31 elements, but options.sample.values has 30; give the shape of the values, or leave it out.');
      const fits = await engine.explain({ model: MLP, sample: { values: Float64Array.from(row.x), shape: [30] } as never, players: '0-3', preset: 'none' });
      expect(fits.n).toBe(4);
      const request = { checkpoints: SERIES, samples: join(SERIES, 'samples.json'), players: '0-3', preset: 'none' as const, cacheDir: false as const };
      const list = await refusal(engine.dynamics({ ...request, losses: '[1, 2]' }));
      expect(list).toBeInstanceOf(InvalidInputError);
      expect(list.message).toMatch(/^the inline losses \(options\.losses\) must be \{"checkpoints"/);
      const unnamed = await refusal(engine.dynamics({ ...request, losses: ' {"checkpoints": [{"name": "nowhere", "trainLoss": 1, "testLoss": 2}]}' }));
      expect(unnamed.message).toMatch(/^the inline losses \(options\.losses\) has no losses for the checkpoint\(s\) /);
    });
  });

  describe('2h: values a float32 input cannot hold, and options another option makes ignored (a sweep of the service, stop 47)', () => {
    it('refuses 1e39 in the sample or the baseline of a float32 input, naming the element (its NaN output was blamed on the model)', async () => {
      const row = (await readJson(MLP_SAMPLES)).samples[0].x as number[];
      const big = Float64Array.from(row, (x, i) => (i === 29 ? 1e39 : x));
      const inSample = await refusal(engine.explain({ model: MLP, sample: { values: big }, players: '0-3', preset: 'none' }));
      expect(inSample).toBeInstanceOf(InvalidInputError);
      expect(inSample.message).toMatch(/^Input ".+" is float32, but the sample has 1e\+39 at element 29, beyond float32's range \(±3\.4028235e\+38\): it would reach the model as Infinity\. Rescale the values\.$/);
      const inBaseline = await refusal(engine.explain({ model: MLP, sample: { values: Float64Array.from(row) }, baseline: Float64Array.from(row, (_, i) => (i === 3 ? -1e39 : 0)), players: '0-3', preset: 'none' }));
      expect(inBaseline.message).toMatch(/the baseline \(options\.baseline\) has -1e\+39 at element 3, beyond float32's range .* as -Infinity/);
      // the largest float32 itself is taken
      const edge = await engine.explain({ model: MLP, sample: { values: Float64Array.from(row) }, baseline: Float64Array.from(row, (x, i) => (i === 20 ? 3.4028234663852886e38 : x)), players: '0-3', preset: 'none' });
      expect(edge.n).toBe(4);
    });

    it('refuses token masking of an attention-mask input (the mask token 1 attended every position: v constant, all interactions 0)', async () => {
      const error = await refusal(engine.explain({ model: TOKENS, sample: TOKEN_SAMPLES, modality: 'text', input: 'attention_mask', maskToken: 1, players: '0-3', preset: 'none' }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toBe('options.input "attention_mask" is an attention mask, and maskMode "token" writes the mask token over its absent positions. Mask the token ids ("input_ids") with maskMode "token", or the attention mask with options.maskMode "attention".');
      // the attention mask masked as such is a game
      const attention = await engine.explain({ model: TOKENS, sample: TOKEN_SAMPLES, modality: 'text', input: 'attention_mask', maskMode: 'attention', players: '0-3', preset: 'none' });
      expect(attention.v[0]).not.toBe(attention.v[15]);
    });

    it('refuses class names that are not one per class of the model (the target was named by another class, or by none)', async () => {
      const row = (await readJson(MLP_SAMPLES)).samples[0].x as number[];
      const file = join(dir, 'three-classes.samples.json');
      await writeFile(file, JSON.stringify({ samples: [{ x: row, label: 1 }], classes: ['a', 'b', 'c'] }));
      for (const method of ['exact', 'sparse'] as const) {
        const error = await refusal(engine.explain({ model: model('breast-cancer-logit.onnx'), sample: file, players: '0-3', method, ...(method === 'exact' ? { preset: 'none' as const } : {}) }));
        expect(error, method).toBeInstanceOf(InvalidInputError);
        expect(error.message).toMatch(/three-classes\.samples\.json names 3 class\(es\) \("a", "b", "c"\), but output "logit" gives 2 \(one logit: two classes\): the target would be named by another class's name, or by none\. Give one name per class of the model, in its order\.$/);
      }
      // the raw output element reads no class name
      const raw = await engine.explain({ model: model('breast-cancer-logit.onnx'), sample: file, players: '0-3', reward: 'output', target: 0, preset: 'none' });
      expect(raw.targetName).toBe('a');
    });

    it('refuses an empty player name, which read as no player in a term ("{a · }")', async () => {
      for (const names of [['a', '', 'b'], ['a', 'b', ' ']]) {
        const error = await refusal(engine.explainValues({ values: Float64Array.from({ length: 8 }, (_, m) => (m === 7 ? 1 : 0)), names, preset: 'none' }));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toMatch(/^options\.names has an empty name for player (1 \(between "a" and "b"\)|2 \(between "b" and the end\)); give each player a name\.$/);
      }
    });

    it('says a token id past the vocabulary in the sample is the sample\'s, not a failed model run (it was a 500 with onnxruntime\'s words alone)', async () => {
      const tokens = (await readJson(TOKEN_SAMPLES)).samples[0];
      const ids = [...tokens.x.input_ids.slice(0, -1), 99_999];
      for (const method of ['exact', 'sparse'] as const) {
        const error = await refusal(engine.explain({ model: TOKENS, sample: { values: { input_ids: Float64Array.from(ids), attention_mask: Float64Array.from(tokens.x.attention_mask) } }, modality: 'text', maskToken: 1, players: '0-3', method }));
        expect(error, method).toBeInstanceOf(InvalidInputError);
        expect(error.message).toMatch(/^The model failed on the sample itself, before any player was masked: .*idx=99999.*\. An index out of range there comes from a value of an integer input \("input_ids", "attention_mask"\): a token id past the model's vocabulary/);
      }
    });

    it('refuses reference rows with a baseline that does not read them, a blur σ without blur, a mask token with attention masking (each was dropped in silence), and takes the rows with mean', async () => {
      for (const [baseline, named] of [[undefined, 'options.baseline "zero" (the default)'], ['zero', 'options.baseline "zero"'], [new Float64Array(30), 'options.baseline given as values']] as const) {
        const error = await refusal(engine.explain({ model: MLP, sample: MLP_SAMPLES, reference: MLP_SAMPLES, ...(baseline === undefined ? {} : { baseline }), players: '0-3', preset: 'none' }));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(`options.reference is read only with options.baseline "mean" or "marginal", and the request has ${named}: it would be ignored. Give options.baseline "mean" or "marginal", or leave options.reference out.`);
      }
      // so are a blur σ without the blur baseline, and a mask token where absent tokens lose their attention instead
      const blur = await refusal(engine.explain({ model: DIGITS, sample: DIGITS_SAMPLES, modality: 'image', grid: '2x2', blurSigma: 1, players: '0-3', preset: 'none' }));
      expect(blur.message).toBe('options.blurSigma is read only with options.baseline "blur", and the request has options.baseline "zero" (the default): it would be ignored. Give options.baseline "blur", or leave options.blurSigma out.');
      const token = await refusal(engine.explain({ model: TOKENS, sample: TOKEN_SAMPLES, modality: 'text', maskMode: 'attention', maskToken: 1, players: '0-3', preset: 'none' }));
      expect(token.message).toBe('options.maskToken is read only with options.maskMode "token" (the default), and the request has options.maskMode "attention": it would be ignored. Give options.maskMode "token", or leave options.maskToken out.');
      const mean = await engine.explain({ model: MLP, sample: MLP_SAMPLES, reference: MLP_SAMPLES, baseline: 'mean', players: '0-3', preset: 'none' });
      const zero = await engine.explain({ model: MLP, sample: MLP_SAMPLES, players: '0-3', preset: 'none' });
      expect(mean.v[0]).not.toBe(zero.v[0]); // the reference was read
    });
  });

  describe('2f: a misspelt extra input name', () => {
    it('is a ShapeMismatchError that names it and suggests the input it stands for ("attn_mask" → "attention_mask"), in a sample object and a sample file', async () => {
      const tokens = (await readJson(TOKEN_SAMPLES)).samples[0];
      const file = join(dir, 'attn-mask.samples.json');
      await writeFile(file, JSON.stringify({ samples: [{ x: { input_ids: tokens.x.input_ids, attn_mask: tokens.x.attention_mask }, label: tokens.label }] }));
      const object = { values: { input_ids: Float64Array.from(tokens.x.input_ids), attn_mask: Float64Array.from(tokens.x.attention_mask) }, label: tokens.label };
      for (const sample of [object, file]) {
        const error = await refusal(engine.explain({ model: TOKENS, sample, modality: 'text', players: '0-3', maskToken: 1, preset: 'none' }));
        expect(error).toBeInstanceOf(ShapeMismatchError);
        // before the fix the model ran with an all-ones attention mask in its place
        expect(error.message).toMatch(/^The sample gives "attn_mask", which is not an input of the model\. Did you mean "attention_mask"\? The model's inputs are: input_ids, attention_mask\.$/);
      }
    });

    it('is refused also when every input is given besides it (an extra "input_idz" was dropped in silence; a sweep, stop 47)', async () => {
      const tokens = (await readJson(TOKEN_SAMPLES)).samples[0];
      const values = { input_ids: Float64Array.from(tokens.x.input_ids), attention_mask: Float64Array.from(tokens.x.attention_mask), input_idz: Float64Array.of(0) };
      const error = await refusal(engine.explain({ model: TOKENS, sample: { values, label: tokens.label }, modality: 'text', players: '0-3', maskToken: 1, preset: 'none' }));
      expect(error).toBeInstanceOf(ShapeMismatchError);
      expect(error.message).toMatch(/^The sample gives "input_idz", which is not an input of the model\. Did you mean "input_ids"\? The model's inputs are: input_ids, attention_mask\.$/);
    });
  });

  describe('2g: dynamics over samples with different players', () => {
    it('refuses a sample of 29 values among samples of 30: as the file is read, or (a set without a shape) naming the checkpoint and row', async () => {
      const [a, b] = [mlpSet.samples.find((s: Json) => s.split === 'train'), mlpSet.samples.find((s: Json) => s.split === 'test')];
      const cacheDir = join(dir, '2g-cache');
      // in a sample file whose shape is [30]: refused as the file is read
      const file = await sampleFile('ragged.samples.json', [a, { ...b, x: b.x.slice(0, 29) }]);
      const fromFile = await refusal(engine.dynamics({ checkpoints: [join(SERIES, 'epoch-0000.onnx')], samples: file, players: '0-5', preset: 'none', cacheDir }));
      expect(fromFile).toBeInstanceOf(ShapeMismatchError);
      expect(fromFile.message).toMatch(/ragged\.samples\.json: sample 1 has 29 values but the set's shape \[30\] needs 30/);
      await expect(stat(cacheDir)).rejects.toThrow(/ENOENT/);
      // as a SampleSet without a shape: refused by the model, with the checkpoint and the row named
      const set: SampleSet = { source: 'ragged', samples: [{ values: Float64Array.from(a.x), label: a.label, split: 'train' }, { values: Float64Array.from(b.x.slice(0, 29)), label: b.label, split: 'test' }] };
      const fromSet = await refusal(engine.dynamics({ checkpoints: [join(SERIES, 'epoch-0000.onnx')], samples: set, players: '0-5', preset: 'none', cacheDir: false }));
      expect(fromSet).toBeInstanceOf(ShapeMismatchError);
      expect(fromSet.message).toMatch(/epoch-0000\.onnx, sample row 1: .*takes 30 values per sample, but the sample has 29/);
    });

    it('refuses pairs of 3 and 2 players when they reach the aggregation, instead of averaging them', async () => {
      const record = (n: number): PairRecord => {
        const size = 2 ** n;
        const zeros = () => new Float64Array(n + 1);
        return { and: new Float64Array(size).fill(1), or: new Float64Array(size), threshold: 0.1, positive: zeros(), negative: zeros(), output: 1, players: Array.from({ length: n }, (_, i) => `x${i}`) };
      };
      const samples = [{ values: new Float64Array(3), label: 0, split: 'train' }, { values: new Float64Array(2), label: 0, split: 'test' }];
      const error = thrown(() => aggregateDynamics({ checkpoints: [{ file: 'epoch-0.onnx', sha256: '0', records: [record(3), record(2)] }], references: [], samples, gapTolerance: 0.02, salientRatio: 0.05 }));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toBe('Sample 1 on checkpoint 0 has 2 players [x0, x1], but sample 0 has 3 [x0, x1, x2]; dynamics averages over samples with the same players.');
    });

    it('averages samples whose players are their own parts (a text\'s tokens) and names the players by position', async () => {
      const record = (names: string[], weight: number): PairRecord => {
        const zeros = () => new Float64Array(names.length + 1);
        return { and: new Float64Array(2 ** names.length).fill(weight), or: new Float64Array(2 ** names.length), threshold: 0.1, positive: zeros(), negative: zeros(), output: 1, players: names };
      };
      const samples = [{ values: new Float64Array(2), label: 0, split: 'train' }, { values: new Float64Array(2), label: 0, split: 'test' }];
      const records = [record(['the@0', 'cat@1'], 1), record(['a@0', 'dog@1'], 3)];
      const result = aggregateDynamics({ checkpoints: [{ file: 'epoch-0.onnx', sha256: '0', records }], references: [], samples, gapTolerance: 0.02, salientRatio: 0.05 });
      expect(result.players).toEqual(['player 0', 'player 1']);
      expect(result.n).toBe(2);
      // the same names on every sample keep them
      const same = aggregateDynamics({ checkpoints: [{ file: 'epoch-0.onnx', sha256: '0', records: [record(['x0', 'x1'], 1), record(['x0', 'x1'], 3)] }], references: [], samples, gapTolerance: 0.02, salientRatio: 0.05 });
      expect(same.players).toEqual(['x0', 'x1']);
    });
  });

  describe('2i: arrays: "no"', () => {
    it('is an InvalidOptionError in resultToJson and batchToJson, not a true', async () => {
      const result = await engine.explain({ model: MLP, sample: MLP_SAMPLES, players: '0-3', preset: 'none' });
      for (const arrays of ['no', 0, 'false']) {
        const error = thrown(() => resultToJson(result, { arrays } as never));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(`options.arrays must be true or false (got ${JSON.stringify(arrays)}).`);
      }
      const batch = await engine.explainBatch({ model: MLP, samples: MLP_SAMPLES, rows: '0', players: '0-3', preset: 'none', cacheDir: false });
      expect(thrown(() => batchToJson(batch, { arrays: 'no' } as never))).toBeInstanceOf(InvalidOptionError);
      // the booleans keep their meaning
      expect(resultToJson(result, { arrays: false }).v).toEqual([]);
      expect(resultToJson(result, { arrays: true }).v).toHaveLength(16);
    });

    it.each([
      ['explain', (engine: Engine) => engine.explain({ model: MLP, sample: MLP_SAMPLES, players: '0-3', arrays: 'no' } as never)],
      ['explainBatch', (engine: Engine) => engine.explainBatch({ model: MLP, samples: MLP_SAMPLES, players: '0-3', arrays: 'no', cacheDir: false } as never)],
    ])('is an unknown option of %s, named with the valid ones', async (_what, call) => {
      const error = await refusal(call(engine));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(/^Unknown option options\.arrays\. Expected one of: options\.model, /);
    });
  });

  describe('2j: integer mask tokens and token ids', () => {
    it.each([1.5, 4294967297, -2147483649])('refuses maskToken %s with an InvalidOptionError naming maskToken and its range (explain, explainBatch)', async (maskToken) => {
      const request = { model: TOKENS, modality: 'text', players: '0-3', maskToken, preset: 'none' } as const;
      for (const error of [await refusal(engine.explain({ ...request, sample: TOKEN_SAMPLES })), await refusal(engine.explainBatch({ ...request, samples: TOKEN_SAMPLES, rows: '0', cacheDir: false }))]) {
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(`options.maskToken must be an integer in 0..2147483647 (got ${maskToken}).`);
      }
    });

    /** Token sample 0 with `id` at position 9. */
    const withId = async (id: number) => {
      const tokens = (await readJson(TOKEN_SAMPLES)).samples[0];
      const ids = Float64Array.from(tokens.x.input_ids);
      ids[9] = id;
      return { values: { input_ids: ids, attention_mask: Float64Array.from(tokens.x.attention_mask) }, label: tokens.label };
    };
    const explainTokens = async (file: string, id: number) => engine.explain({ model: file, sample: await withId(id), modality: 'text', players: '0-3', maskToken: 1, preset: 'none' });

    it('refuses the token id 3.5 in a sample with an InvalidInputError, on the int64 and the int32 twin alike', async () => {
      // before: int64 rounded it to 4 and int32 truncated it to 3, two answers for one sample
      for (const [file, dtype, range] of [[TOKENS, 'int64', '-9007199254740991..9007199254740991'], [TOKENS_I32, 'int32', '-2147483648..2147483647']]) {
        const error = await refusal(explainTokens(file, 3.5));
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(error.message).toBe(`Input "input_ids" is ${dtype}, but the sample has 3.5 at element 9; give integers in ${range}.`);
      }
    });

    it('refuses the token id 2^32 + 5 for int32 (it wrapped to 5) and hands it to the int64 model unchanged', async () => {
      const wrapped = await refusal(explainTokens(TOKENS_I32, 2 ** 32 + 5));
      expect(wrapped).toBeInstanceOf(InvalidInputError);
      expect(wrapped.message).toBe('Input "input_ids" is int32, but the sample has 4294967301 at element 9; give integers in -2147483648..2147483647.');
      // int64 holds it: the model itself refuses an id beyond its vocabulary of 16, on the sample (stop 47: said so)
      const intact = await refusal(explainTokens(TOKENS, 2 ** 32 + 5));
      expect(intact).toBeInstanceOf(InvalidInputError);
      expect(intact.message).toMatch(/idx=4294967301 must be within the inclusive range \[-16,15\]/);
    });

    it('refuses 2^32 + 5 and 5.4 for int32 in a given baseline and in marginal or mean reference rows (they were wrapped to 5 and rounded to 5 in silence; an adversarial sweep)', async () => {
      const tokens = (await readJson(TOKEN_SAMPLES)).samples[1];
      const ids = tokens.x.input_ids as number[];
      const request = { model: TOKENS_I32, sample: TOKEN_SAMPLES, modality: 'tabular', players: '0-3', preset: 'none', target: 1 } as const;
      const plain = await engine.explain({ ...request, baseline: Float64Array.from(ids) });
      const row = (first: number) => JSON.stringify([{ x: { input_ids: [first, ...ids.slice(1)] } }]);
      // the rows as given are the baseline itself, bit for bit
      expect(Array.from((await engine.explain({ ...request, baseline: 'marginal', reference: row(ids[0]) })).v)).toEqual(Array.from(plain.v));
      for (const bad of [2 ** 32 + ids[0], ids[0] + 0.4]) {
        for (const baseline of ['marginal', 'mean'] as const) {
          const error = await refusal(engine.explain({ ...request, baseline, reference: row(bad) }));
          expect(error).toBeInstanceOf(InvalidInputError);
          expect(error.message).toBe(`Input "input_ids" is int32, but reference row 0 of the inline options.reference has ${bad} at element 0; give integers in -2147483648..2147483647.`);
        }
        const given = await refusal(engine.explain({ ...request, baseline: Float64Array.from([bad, ...ids.slice(1)]) }));
        expect(given).toBeInstanceOf(InvalidInputError);
        expect(given.message).toBe(`Input "input_ids" is int32, but the baseline (options.baseline) has ${bad} at element 0; give integers in -2147483648..2147483647.`);
      }
    });
  });

  describe('3: the cache is keyed by content, not by path', () => {
    it('recomputes a batch after its --reference rows file or its samples file is edited in place, and gives the new numbers', async () => {
      const cacheDir = join(dir, '3-batch-cache');
      const samples = await sampleFile('3-batch.samples.json', mlpSet.samples.slice(0, 2));
      const reference = await sampleFile('3-reference.samples.json', mlpSet.samples.slice(2, 6));
      const run = () => engine.explainBatch({ model: MLP, samples, rows: '0', players: '0-5', baseline: 'mean', reference, preset: 'none', cacheDir });
      const first = await run();
      expect(first.samples[0].cached).toBe(false);
      const again = await run();
      expect(again.samples[0].cached).toBe(true);
      expect(Array.from(again.results![0].v)).toEqual(Array.from(first.results![0].v));

      await sampleFile('3-reference.samples.json', mlpSet.samples.slice(6, 10)); // same path, other rows
      const newReference = await run();
      expect(newReference.samples[0].cached).toBe(false);
      expect(Array.from(newReference.results![0].v)).not.toEqual(Array.from(first.results![0].v));

      const edited = structuredClone(mlpSet.samples.slice(0, 2));
      edited[0].x[0] += 1; // player 0 of row 0
      await sampleFile('3-batch.samples.json', edited);
      const newSample = await run();
      expect(newSample.samples[0].cached).toBe(false);
      expect(Array.from(newSample.results![0].v)).not.toEqual(Array.from(newReference.results![0].v));
    });

    it('recomputes a dynamics run after its reference rows file is edited in place', async () => {
      const cacheDir = join(dir, '3-dynamics-cache');
      const pick = (split: string) => mlpSet.samples.find((s: Json) => s.split === split);
      const samples = await sampleFile('3-dynamics.samples.json', [pick('train'), pick('test')]);
      const reference = await sampleFile('3-dynamics-reference.samples.json', mlpSet.samples.slice(2, 6));
      const run = () => engine.dynamics({ checkpoints: [join(SERIES, 'epoch-1024.onnx')], samples, players: '0-5', baseline: 'mean', reference, preset: 'none', cacheDir });
      const first = await run();
      expect(first.pairs).toEqual({ computed: 2, cached: 0 });
      expect((await run()).pairs).toEqual({ computed: 0, cached: 2 });
      await sampleFile('3-dynamics-reference.samples.json', mlpSet.samples.slice(6, 10));
      const edited = await run();
      expect(edited.pairs).toEqual({ computed: 2, cached: 0 });
      expect(Array.from(edited.checkpoints[0].orders.positive)).not.toEqual(Array.from(first.checkpoints[0].orders.positive));
    });
  });

  describe('4: two identical samples', () => {
    it('a batch over a set holding one sample twice completes with the cache on, and gives both the same numbers', async () => {
      const cacheDir = join(dir, '4-batch-cache');
      const samples = await sampleFile('4-twice.samples.json', [mlpSet.samples[0], mlpSet.samples[0]]);
      const r = await engine.explainBatch({ model: MLP, samples, players: '0-5', iterations: 200, cacheDir, concurrency: 2 });
      expect(r.samples.map((s) => s.cached)).toEqual([false, false]);
      const [a, b] = r.results!;
      expect(Array.from(b.v)).toEqual(Array.from(a.v));
      expect(Array.from(b.and)).toEqual(Array.from(a.and));
      expect(Array.from(b.or)).toEqual(Array.from(a.or));
      expect((await readdir(cacheDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });

    it('dynamics over identical samples (the same cache key written by several pairs at once) completes', async () => {
      // a checkpoint listed twice doubled the collisions here; it is refused since stop 33 (dynamics.test)
      const cacheDir = join(dir, '4-dynamics-cache');
      const train = mlpSet.samples.find((s: Json) => s.split === 'train');
      const samples = await sampleFile('4-dynamics.samples.json', [train, train, train, { ...train, split: 'test' }]);
      const checkpoints = ['epoch-0016', 'epoch-0032'].map((c) => join(SERIES, `${c}.onnx`));
      const r = await engine.dynamics({ checkpoints, samples, players: '0-5', iterations: 200, cacheDir, concurrency: 4 });
      expect(r.pairs.computed + r.pairs.cached).toBe(8);
      const [first] = r.checkpoints;
      expect(first.samples.map((s) => s.kappa)).toEqual(new Array(4).fill(first.samples[0].kappa));
      expect((await readdir(cacheDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  });

  describe('9b: a 200 000-wide model output', () => {
    it('gives a result whose target is the argmax, with the numbers of the output, not a stack overflow', async () => {
      const sample = { values: Float64Array.from(WIDE_SAMPLE) };
      const predicted = await engine.explain({ model: WIDE, sample, preset: 'none' });
      expect(predicted.target).toBe(WIDE_CLASSES - 1); // s = 3.5 > 0: the last logit is the largest
      expect(predicted.v.every(Number.isFinite)).toBe(true);
      // v(∅): every logit is 0, so the log-odds of one class among 200 000 is −ln(199 999)
      expectClose(predicted.v[0], -Math.log(WIDE_CLASSES - 1), { atol: 1e-9 });
      const output = await engine.explain({ model: WIDE, sample, preset: 'none', reward: 'output', target: WIDE_CLASSES - 1 });
      // float32, as the graph computes it: s_m · (j · (1 / 200 000) − 1/2) at j = 199 999
      const ramp = Math.fround(Math.fround(Math.fround(WIDE_CLASSES - 1) * Math.fround(1 / WIDE_CLASSES)) - 0.5);
      const expected = Float64Array.from({ length: 16 }, (_, m) => Math.fround(WIDE_SAMPLE.reduce((s, x, i) => s + ((m >> i) & 1) * x * WS[i], 0) * ramp));
      expectClose(output.v, expected, { atol: 1e-7 });
    });

    it('renders the report of an n = 17 game (262 144 interactions) without a stack overflow', async () => {
      const v = Float64Array.from({ length: 2 ** 17 }, (_, m) => Math.sin(m) + (m % 7));
      const result = await engine.explainValues({ values: v, preset: 'none', indexOrder: 0 });
      const html = renderReport(resultToJson(result));
      expect(html).toMatch(/Sparsity: every AND and OR interaction, sorted by strength/);
    });
  });

  describe('9g: a corrupt or mismatched checkpoint among a run\'s checkpoints', () => {
    it.each([
      ['corrupt bytes', async (folder: string) => {
        const file = join(folder, 'epoch-0001.onnx');
        await writeFile(file, 'this is not an ONNX file');
        return file;
      }, ModelLoadError, /epoch-0001\.onnx, sample row 0: The runtime could not load the model \(24 bytes\)/],
      ['a model of other inputs', async (folder: string) => {
        const file = join(folder, 'epoch-0002.onnx');
        await copyFile(model('faults/linear-f32.onnx'), file);
        return file;
        // refused before any pair, as not the same network (stop 48), not at its first pair as a sample that does not fit
      }, InvalidInputError, /^The checkpoints .*epoch-0000\.onnx and .*epoch-0002\.onnx are not one network saved at two epochs: input "features" is \[batch, 30\] in epoch-0000\.onnx but \[batch, 4\] in epoch-0002\.onnx; output "logits" is \[batch, 2\] in epoch-0000\.onnx but \[batch, 3\] in epoch-0002\.onnx \(width 2 vs 3\)\./],
    ])('is named in the error, with the sample row (%s)', async (_what, make, ErrorClass, message) => {
      const folder = await mkdtemp(join(dir, '9g-'));
      const good = join(folder, 'epoch-0000.onnx');
      await copyFile(join(SERIES, 'epoch-0000.onnx'), good);
      const bad = await make(folder);
      const pick = (split: string) => mlpSet.samples.find((s: Json) => s.split === split);
      const samples = await sampleFile(`9g-${basename(bad)}.samples.json`, [pick('train'), pick('test')]);
      const error = await refusal(engine.dynamics({ checkpoints: [good, bad], samples, players: '0-5', preset: 'none', cacheDir: false }));
      expect(error).toBeInstanceOf(ErrorClass);
      expect(error.message).toMatch(message);
      expect(error.message).toContain(bad);
    });
  });

  describe('9n: a sample set given as an object', () => {
    it('takes a sample file\'s parsed JSON as the file itself, and refuses anything else with a typed error', async () => {
      const request = { model: MLP, rows: '0-1', players: '0-3', preset: 'none', cacheDir: false } as const;
      const fromFile = await engine.explainBatch({ ...request, samples: MLP_SAMPLES });
      const fromObject = await engine.explainBatch({ ...request, samples: (await readJson(MLP_SAMPLES)) as never });
      expect(Array.from(fromObject.shapley[1])).toEqual(Array.from(fromFile.shapley[1]));
      for (const junk of [{ samples: 3 }, { samples: [{ y: [1] }] }, 42]) {
        const error = await refusal(engine.explainBatch({ ...request, samples: junk as never }));
        expect(error).toBeInstanceOf(EngineError);
        expect(error.message).toMatch(/options\.samples/);
      }
      const error = await refusal(engine.dynamics({ checkpoints: [join(SERIES, 'epoch-0000.onnx')], samples: { samples: 'x' } as never, players: '0-3', cacheDir: false }));
      expect(error).toBeInstanceOf(EngineError);
    });
  });

  describe('9h: a bad losses file', () => {
    const names = ['epoch-0000', 'epoch-0016', 'epoch-1024'];
    const entry = (name: string, trainLoss: unknown = 0.5, testLoss: unknown = 0.6) => ({ name, trainLoss, testLoss });
    it.each([
      ['names that match no checkpoint', 'names', JSON.stringify({ checkpoints: names.map((n) => entry(n.replace('epoch', 'ckpt'))) }), /has no losses for the checkpoint\(s\) epoch-0000, epoch-0016, epoch-1024; its entries are named ckpt-0000, ckpt-0016, ckpt-1024\. Name each entry after its checkpoint file\./],
      ['a NaN written as null', 'null', JSON.stringify({ checkpoints: [entry(names[0]), entry(names[1], null), entry(names[2])] }), /checkpoints\[1\] must be \{"name": string, "trainLoss": number, "testLoss": number, "epoch"\?: number\} with finite numbers \(got \{"name":"epoch-0016","trainLoss":null/],
      ['a NaN written as a string', 'string', JSON.stringify({ checkpoints: [entry(names[0]), entry(names[1]), entry(names[2], 0.5, 'NaN')] }), /checkpoints\[2\] must be .* with finite numbers/],
      ['a bare NaN (not JSON)', 'bare', '{"checkpoints": [{"name": "epoch-0000", "trainLoss": NaN, "testLoss": 0.6}]}', /losses-bare\.json is not valid JSON: Unexpected token 'N'/],
      ['no checkpoints list', 'shape', JSON.stringify({ epochs: [] }), /must be \{"checkpoints": \[\{"name", "trainLoss", "testLoss"\}, \.\.\.\]\}/],
      // the last entry of a name won, in silence (an adversarial sweep, stop 32)
      ['a checkpoint named twice', 'twice', JSON.stringify({ checkpoints: [...names.map((n) => entry(n)), entry(names[0], 99, 0)] }), /checkpoints\[3\] names "epoch-0000" again; give each checkpoint one entry\./],
      // a misspelt key was read as absent: "Epoch" lost the epochs in silence (stop 46)
      ['a misspelt key', 'key', JSON.stringify({ checkpoints: names.map((n, i) => ({ ...entry(n), Epoch: i, accuracy: 0.9 })) }), /checkpoints\[0\] has the key "Epoch", which andor does not read, and no "epoch": did you mean "epoch"\?/],
      // a list against its epochs ran backwards in time, in silence (stop 46)
      ['a list out of training order', 'order', JSON.stringify({ checkpoints: names.map((n, i) => ({ ...entry(n), epoch: [1024, 16, 0][i] })) }), /options\.checkpoints lists epoch-0016 \(epoch 16\) after epoch-0000 \(epoch 1024\); dynamics reads the checkpoints in training order/],
    ])('is an InvalidInputError before any pair runs (%s)', async (_what, tag, text, message) => {
      const losses = join(dir, `losses-${tag}.json`);
      await writeFile(losses, text);
      const cacheDir = join(dir, `9h-cache-${tag}`);
      const pick = (split: string) => mlpSet.samples.find((s: Json) => s.split === split);
      const samples = await sampleFile('9h.samples.json', [pick('train'), pick('test')]);
      let progressed = 0;
      const started = performance.now();
      const error = await refusal(engine.dynamics({
        checkpoints: names.map((n) => join(SERIES, `${n}.onnx`)), samples, losses, players: '0-9', cacheDir, onProgress: () => void progressed++,
      }));
      expect(performance.now() - started).toBeLessThan(FAST_MS);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toMatch(message);
      expect(progressed).toBe(0);
      await expect(stat(cacheDir)).rejects.toThrow(/ENOENT/); // not even the cache was opened
    });
  });

  describe('9i: a checkpoint folder read in training order (a sweep of the CLI, stop 47)', () => {
    const folderOf = async (tag: string, names: readonly string[]) => {
      const folder = join(dir, `9i-${tag}`);
      await mkdir(folder);
      for (const name of names) await copyFile(join(SERIES, 'epoch-0000.onnx'), join(folder, `${name}.onnx`));
      return folder;
    };

    it('sorts epoch-<number> names by their number, decimals too (epoch-1.5 came before epoch-1.25, epoch-0.5 before epoch-0)', async () => {
      const folder = await folderOf('decimal', ['epoch-2', 'epoch-1.5', 'epoch-1.25', 'epoch-0.5', 'epoch-0', 'epoch-0016']);
      expect((await resolveCheckpoints(folder)).map((f) => basename(f))).toEqual(['epoch-0.onnx', 'epoch-0.5.onnx', 'epoch-1.25.onnx', 'epoch-1.5.onnx', 'epoch-2.onnx', 'epoch-0016.onnx']);
      // a name without a number keeps the natural order of names
      const named = await folderOf('named', ['epoch-12', 'epoch-1024', 'epoch-final']);
      expect((await resolveCheckpoints(named)).map((f) => basename(f))).toEqual(['epoch-12.onnx', 'epoch-1024.onnx', 'epoch-final.onnx']);
    });

    it('refuses two names of one epoch (epoch-1 and epoch-01), and a losses file giving two checkpoints one epoch, before any pair runs', async () => {
      const twins = await folderOf('twins', ['epoch-0', 'epoch-1', 'epoch-01']);
      await expect(resolveCheckpoints(twins)).rejects.toThrow(/holds epoch-01\.onnx and epoch-1\.onnx, both epoch 1: dynamics reads one checkpoint per epoch, in training order\. Remove one/);
      const losses = join(dir, 'losses-9i.json');
      await writeFile(losses, JSON.stringify({ checkpoints: ['epoch-0000', 'epoch-0016', 'epoch-1024'].map((name, i) => ({ name, trainLoss: 0.5, testLoss: 0.6, epoch: [0, 5, 5][i] })) }));
      const pick = (split: string) => mlpSet.samples.find((s: Json) => s.split === split);
      const samples = await sampleFile('9i.samples.json', [pick('train'), pick('test')]);
      let progressed = 0;
      const three = join(dir, '9i-three');
      await mkdir(three);
      for (const name of ['epoch-0000', 'epoch-0016', 'epoch-1024']) await copyFile(join(SERIES, `${name}.onnx`), join(three, `${name}.onnx`));
      const error = await refusal(engine.dynamics({ checkpoints: three, samples, losses, players: '0-3', cacheDir: false, onProgress: () => void progressed++ }));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toMatch(/^options\.checkpoints: the losses give epoch-0016 and epoch-1024 both epoch 5; dynamics reads one checkpoint per epoch/);
      expect(progressed).toBe(0);
    });
  });

  describe('9j: a checkpoint list against the epochs of its names (a sweep of the CLI, stop 47)', () => {
    it('refuses a list out of the order of its epoch-<number> names, with losses that give no epochs or no losses, before any pair runs', async () => {
      const pick = (split: string) => mlpSet.samples.find((s: Json) => s.split === split);
      const samples = await sampleFile('9j.samples.json', [pick('train'), pick('test')]);
      const losses = join(dir, 'losses-9j.json');
      await writeFile(losses, JSON.stringify({ checkpoints: ['epoch-0000', 'epoch-0064', 'epoch-1024'].map((name) => ({ name, trainLoss: 0.5, testLoss: 0.6 })) }));
      const backwards = ['epoch-1024', 'epoch-0064', 'epoch-0000'].map((n) => join(SERIES, `${n}.onnx`));
      for (const extra of [{ losses }, {}]) {
        let progressed = 0;
        const error = await refusal(engine.dynamics({ checkpoints: backwards, samples, players: '0-3', cacheDir: false, onProgress: () => void progressed++, ...extra }));
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(error.message).toBe('options.checkpoints lists epoch-0064 (epoch 64) after epoch-1024 (epoch 1024); dynamics reads the checkpoints in training order, one per epoch. List them by epoch, or give their folder (sorted by the numbers in their names).');
        expect(progressed).toBe(0);
      }
    });
  });

  describe('10a: a decomposition that diverges', () => {
    it('is marked diverged in the result and its JSON, and warned about through the engine\'s logger', async () => {
      // v of the bundled MLP at n = 12: the authors' raw lr makes the objective rise from n = 11
      // (test/unit/decompose-divergence.test.ts)
      const game = await engine.explain({ model: MLP, sample: MLP_SAMPLES, players: '0-11', preset: 'none', indexOrder: 0 });
      warnings.length = 0;
      const r = await engine.explainValues({ values: game.v, preset: 'reference', indexOrder: 0 });
      expect(r.decomposition.diverged).toBe(true);
      expect(r.decomposition.objective.final).toBeLessThanOrEqual(r.decomposition.objective.initial); // the best iterate
      const json = resultToJson(r);
      expect(json.decomposition.diverged).toBe(true);
      expect(json.decomposition.warning).toMatch(/^the objective rose from 209\.5 to \d+(\.\d+)? in 10000 iterations: lr 1e-5 is too large for n = 12.*Use --preset authors/);
      expect(warnings).toEqual([json.decomposition.warning]);
      // a run that does not diverge warns about nothing
      warnings.length = 0;
      const quiet = await engine.explainValues({ values: game.v, indexOrder: 0 });
      expect(quiet.decomposition.diverged).toBe(false);
      expect(warnings).toEqual([]);
    });

    it('is warned about on the CLI\'s stderr, with --json too', async () => {
      const game = await engine.explain({ model: MLP, sample: MLP_SAMPLES, players: '0-11', preset: 'none', indexOrder: 0 });
      const values = join(dir, 'v12.json');
      await writeFile(values, JSON.stringify(Array.from(game.v)));
      const run = await runCli(['explain', '--values', values, '--preset', 'reference', '--index-order', '0', '--json', '--workers', '0']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).decomposition.diverged).toBe(true);
      expect(run.stderr).toMatch(/^andor: warning: the objective rose from 209\.5 to .*Use --preset authors/m);
    }, CLI_MS);

    it('is said once in text mode: on stderr, and not again in the summary', async () => {
      const game = await engine.explain({ model: MLP, sample: MLP_SAMPLES, players: '0-11', preset: 'none', indexOrder: 0 });
      const values = join(dir, 'v12-text.json');
      await writeFile(values, JSON.stringify(Array.from(game.v)));
      const run = await runCli(['explain', '--values', values, '--preset', 'reference', '--index-order', '0', '--workers', '0']);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/^andor: warning: the objective rose from 209\.5 to /m);
      expect(run.stdout).toMatch(/^split {5}and-or/m);
      expect(`${run.stdout}${run.stderr}`.match(/the objective rose/g)).toHaveLength(1);
    }, CLI_MS);
  });
});

describe('issue 10 regressions, in andor serve', () => {
  let engine: Engine;
  let service: Service;
  let modelsDir: string;
  let X: number[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const post = async (path: string, body: unknown): Promise<{ status: number; body: any; ms: number }> => {
    const started = performance.now();
    const response = await fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json(), ms: performance.now() - started };
  };
  const healthy = async () => expect((await fetch(`${service.url}/health`)).status).toBe(200);

  beforeAll(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'andor-regressions-models-'));
    await copyFile(MLP, join(modelsDir, 'breast-cancer-mlp.onnx'));
    await copyFile(WIDE, join(modelsDir, 'wide-output.onnx'));
    await mkdir(join(modelsDir, 'folder.onnx'));
    await writeFile(join(modelsDir, 'folder.onnx', 'inside.txt'), 'a folder named like a model');
    X = (await readJson(MLP_SAMPLES)).samples[0].x;
    engine = await createEngine({ workers: 0, maxPlayers: 16 });
    service = await serve(engine, { modelsDir, port: 0 });
  });
  afterAll(async () => {
    await service.close();
    await engine.dispose();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it.each([
    ['/explain', () => ({ model: 'breast-cancer-mlp.onnx', sample: X, players: '0-99999999999' })],
    ['/explain/batch', () => ({ model: 'breast-cancer-mlp.onnx', samples: [X, X], players: '0-99999999999' })],
  ])('1b: POST %s with players "0-99999999999" is a quick 400 INVALID_OPTION, and the service stays up', async (path, body) => {
    const reply = await post(path, body());
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('INVALID_OPTION');
    expect(reply.body.error.message).toMatch(/feature column 30 is out of range; valid feature columns are 0\.\.29 \(in the range "0-99999999999"\)/);
    expect(reply.ms).toBeLessThan(FAST_MS);
    await healthy();
  });

  it.each([
    ['/explain', 'arrays', 'no', /^body\.arrays must be true or false \(got "no"\)\.$/],
    ['/explain/batch', 'arrays', 'no', /^body\.arrays must be true or false \(got "no"\)\.$/],
    ['/explain', 'maskToken', 1.5, /body\.maskToken must be an integer in 0\.\.2147483647 \(got 1\.5\)/],
    ['/explain', 'maskToken', 4294967297, /body\.maskToken must be an integer in 0\.\.2147483647 \(got 4294967297\)/],
  ])('2i/2j: POST %s with %s = %j is a 400 INVALID_OPTION naming the field', async (path, field, value, message) => {
    const base = path === '/explain' ? { sample: X } : { samples: [X] };
    const reply = await post(path, { model: 'breast-cancer-mlp.onnx', ...base, players: '0-3', [field]: value });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('INVALID_OPTION');
    expect(reply.body.error.message).toMatch(message);
    await healthy();
  });

  it('9b: POST /explain on a 200 000-wide output answers 200 with the argmax class', async () => {
    const reply = await post('/explain', { model: 'wide-output.onnx', sample: WIDE_SAMPLE, preset: 'none', arrays: false });
    expect(reply.status).toBe(200);
    expect(reply.body.target).toBe(WIDE_CLASSES - 1);
  });

  it.each([
    ['not JSON', '{"models": ['],
    ['a JSON list', '[1, 2, 3]'],
    ['models that is not a list', '{"models": 5}'],
    ['entries of the wrong types', '{"models": [null, 7, "x", {"file": 3, "name": []}, {"name": "no file"}]}'],
    ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b])],
  ])('9j: GET /models answers 200 and lists the models unnamed when manifest.json is %s', async (_what, manifest) => {
    await writeFile(join(modelsDir, 'manifest.json'), manifest);
    const response = await fetch(`${service.url}/models`);
    expect(response.status).toBe(200);
    const { models } = (await response.json()) as Json;
    expect(models.map((m: Json) => m.model)).toEqual(['breast-cancer-mlp.onnx', 'wide-output.onnx']);
    expect(models.every((m: Json) => m.name === undefined)).toBe(true);
  });

  it('9j: GET /models still names the models of the well-formed entries of a manifest that has bad ones', async () => {
    await writeFile(join(modelsDir, 'manifest.json'), JSON.stringify({ models: [null, { file: 'models/breast-cancer-mlp.onnx', name: 'breast-cancer-mlp', modality: 'tabular' }] }));
    const { models } = (await (await fetch(`${service.url}/models`)).json()) as Json;
    expect(models[0]).toMatchObject({ model: 'breast-cancer-mlp.onnx', name: 'breast-cancer-mlp', modality: 'tabular' });
  });

  it('serves the models of a manifest whose entries are malformed as models without defaults: no 500, no 400 for a field the client did not send (an adversarial sweep)', async () => {
    const entries: Record<string, Json> = {
      'unknown-flag.onnx': { explain: ['--bogus'] },
      'explain-string.onnx': { explain: '--modality image' },
      'explain-numbers.onnx': { explain: [1, 2, 3] },
      'modality-number.onnx': { modality: 5, name: { x: 1 } },
      'modality-list.onnx': { modality: ['tabular'] },
      'grid-banana.onnx': { explain: ['--grid', 'banana'] },
    };
    const before = await readFile(join(modelsDir, 'manifest.json'), 'utf8').catch(() => undefined);
    await writeFile(join(modelsDir, 'manifest.json'), JSON.stringify({ models: Object.entries(entries).map(([file, entry]) => ({ file, ...entry })) }));
    for (const file of Object.keys(entries)) await copyFile(MLP, join(modelsDir, file));
    try {
      for (const file of Object.keys(entries)) {
        // they were a 500 INTERNAL "stray.replace is not a function", or a 400 about body.modality or body.grid
        const reply = await post('/explain', { model: file, sample: X, players: '0-3', preset: 'none', arrays: false });
        expect(reply.status, `${file}: ${JSON.stringify(reply.body)}`).toBe(200);
      }
      const { models } = (await (await fetch(`${service.url}/models`)).json()) as Json;
      const listed = models.find((m: Json) => m.model === 'modality-number.onnx');
      expect(listed).toEqual({ model: 'modality-number.onnx', bytes: listed.bytes }); // no name {x: 1}, no modality 5
    } finally {
      for (const file of Object.keys(entries)) await rm(join(modelsDir, file));
      if (before === undefined) await rm(join(modelsDir, 'manifest.json'));
      else await writeFile(join(modelsDir, 'manifest.json'), before);
    }
    await healthy();
  });

  it('9k: POST /explain with a folder named like a model is a 400 INVALID_OPTION that does not hold the server\'s path', async () => {
    const reply = await post('/explain', { model: 'folder.onnx', sample: X });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toEqual({ code: 'INVALID_OPTION', message: 'body.model "folder.onnx" is a folder, not a model file. GET /models lists them.' });
    expect(JSON.stringify(reply.body)).not.toContain(modelsDir);
    // a FIFO named like a model is not called a folder (and its open would block: it is not opened)
    execFileSync('mkfifo', [join(modelsDir, 'pipe.onnx')]);
    try {
      const pipe = await post('/explain', { model: 'pipe.onnx', sample: X });
      expect(pipe.body.error).toEqual({ code: 'INVALID_OPTION', message: 'body.model "pipe.onnx" is a device, pipe or socket, not a model file. GET /models lists them.' });
    } finally {
      await rm(join(modelsDir, 'pipe.onnx'));
    }
    await healthy();
  });

  it('says an empty list of samples is refused for being empty (it said "must be a list of lists, or an object"), and a long one for its length', async () => {
    const reply = await post('/explain/batch', { model: 'breast-cancer-mlp.onnx', samples: [] });
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toBe('body.samples must be a non-empty list (at most 10000 items), each item a non-empty list, or an object (got []).');
    // 20 000 samples were told only what a sample is, not the most a batch takes (an adversarial sweep, stop 43)
    const long = await post('/explain/batch', { model: 'breast-cancer-mlp.onnx', samples: Array.from({ length: 20_000 }, () => [0]) });
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/^body\.samples must be a non-empty list \(at most 10000 items\), each item a non-empty list, or an object \(got an array of 20000 items\)\.$/);
  });

  it('answers a body sent as text/plain, or any type but JSON, with 415 and what to send', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await fetch(`${service.url}/explain`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify({ model: 'breast-cancer-mlp.onnx', sample: X }) });
      expect(response.status, type).toBe(415);
      expect(await response.json()).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json.' } });
    }
    await healthy();
  });

  it('answers a compressed body (Content-Encoding gzip) with 415 and to send it uncompressed, not "not valid JSON (Unexpected token \'\\u001f\')" (an adversarial sweep)', async () => {
    const body = gzipSync(JSON.stringify({ model: 'breast-cancer-mlp.onnx', sample: X, players: '0-3' }));
    const response = await fetch(`${service.url}/explain`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
    expect(response.status).toBe(415);
    expect(response.headers.get('accept-encoding')).toBe('identity');
    expect(await response.json()).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body is sent with Content-Encoding gzip, which this service does not decode: send it uncompressed, as application/json.' } });
    const plain = await fetch(`${service.url}/explain`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, body: JSON.stringify({ model: 'breast-cancer-mlp.onnx', sample: X, players: '0-3' }) });
    expect(plain.status).toBe(200);
    await healthy();
  });

  it('answers a request that is not HTTP, headers over the limit and an undecodable URL as every other error, {error: {code, message}} (an adversarial sweep)', async () => {
    const { port } = new URL(service.url);
    const raw = (request: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        let reply = '';
        socket.on('data', (chunk) => (reply += chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(reply));
        socket.write(request);
      });
    const cases: [string, number, string][] = [
      ['HELLO WORLD\r\n\r\n', 400, 'BAD_REQUEST'],
      ['GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400, 'BAD_REQUEST'],
      [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'BAD_URL'],
    ];
    for (const [request, status, code] of cases) {
      // they were Fastify's {"error": "Bad Request", "message": "Client Error", "statusCode": 400}
      const reply = await raw(request);
      expect(reply, request.slice(0, 30)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(20);
    }
    await healthy();
  });

  it('GET /models lists a link to a model inside the folder, as POST /explain serves it, and not one that leaves it', async () => {
    await symlink(join(modelsDir, 'breast-cancer-mlp.onnx'), join(modelsDir, 'link-in.onnx'));
    await symlink(MLP, join(modelsDir, 'link-out.onnx'));
    try {
      const listed = ((await (await fetch(`${service.url}/models`)).json()) as { models: { model: string }[] }).models.map((m) => m.model);
      expect(listed).toContain('link-in.onnx');
      expect(listed).not.toContain('link-out.onnx');
      expect((await post('/explain', { model: 'link-in.onnx', sample: X, players: '0-3' })).status).toBe(200);
      expect((await post('/explain', { model: 'link-out.onnx', sample: X, players: '0-3' })).body.error.code).toBe('PATH_OUTSIDE');
    } finally {
      await rm(join(modelsDir, 'link-in.onnx'));
      await rm(join(modelsDir, 'link-out.onnx'));
    }
  });

  it('names a model in an engine\'s error as the client did, not by the service\'s path (an adversarial sweep, stop 31)', async () => {
    await writeFile(join(modelsDir, 'empty.onnx'), '');
    const empty = await post('/explain', { model: 'empty.onnx', sample: X });
    await rm(join(modelsDir, 'empty.onnx'));
    expect(empty.status).toBe(422);
    expect(empty.body.error.message).toMatch(/^The model empty\.onnx is empty; expected an ONNX file\.$/);
    const short = await post('/explain/batch', { model: 'breast-cancer-mlp.onnx', samples: [X.slice(0, 5)], players: '0-3' });
    expect(short.status).toBeGreaterThanOrEqual(400);
    expect(short.body.error.message).toMatch(/^breast-cancer-mlp\.onnx, sample row 0: /);
    for (const reply of [empty, short]) expect(JSON.stringify(reply.body)).not.toContain(modelsDir);
    await healthy();
  });
});

describe('issue 10 regressions, on the CLI', () => {
  it('1a: --players 0-99999999999 exits 2 with the range error, at once', async () => {
    const started = performance.now();
    const run = await runCli(['explain', '--model', MLP, '--sample', MLP_SAMPLES, '--players', '0-99999999999', '--workers', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('andor: error [INVALID_OPTION]: --players: feature column 30 is out of range; valid feature columns are 0..29 (in the range "0-99999999999").\n');
    expect(performance.now() - started).toBeLessThan(CLI_MS);
  }, CLI_MS);

  it.each([
    ['explain', ['--model', MLP, '--sample', MLP_SAMPLES]],
    ['dynamics', ['--checkpoints', SERIES, '--samples', join(SERIES, 'samples.json')]],
  ])('9m: andor %s --max-players 5 exits 2: an unknown option there, not one accepted and ignored', async (command, args) => {
    const run = await runCli([command, ...args, '--max-players', '5']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`andor: error [INVALID_OPTION]: Unknown option --max-players for "andor ${command}". Run "andor ${command} --help" for its options.\n`);
  }, CLI_MS);

  it('names the batch flags that one sample does not take (--no-cache, --rows) instead of an unknown request option', async () => {
    const run = await runCli(['explain', '--model', MLP, '--sample', MLP_SAMPLES, '--players', '0-3', '--no-cache', '--rows', '0-3', '--workers', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('andor: error [INVALID_OPTION]: --rows, --no-cache go with --samples FILE (many samples); one sample (--sample) is explained without a cache. Drop them, or give --samples.\n');
  }, CLI_MS);

  it('9l: andor serve on a port in use exits 2 and says so (the library: an InvalidOptionError)', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const run = await runCli(['serve', '--models', model('.'), '--port', String(port), '--workers', '0']);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`andor: error [INVALID_OPTION]: Port ${port} is in use; choose another with --port (0 picks a free one).\n`);
      expect(run.stderr).not.toMatch(/unexpected error/);
      const engine = await createEngine({ workers: 0 });
      try {
        const error = await refusal(serve(engine, { modelsDir: model('.'), port }));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(`Port ${port} is in use; choose another with --port (0 picks a free one).`);
      } finally {
        await engine.dispose();
      }
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, CLI_MS);
});
