// Odd model inputs and rows (models/faults/, built by make.py; found by an adversarial sweep, stop 33): a padding
// mask the sample leaves out is asked for, not guessed; a model whose rows depend on each other is refused; a side
// input without a batch axis is fed as declared; a model without inputs, a first output without a batch axis, weights
// in an external data file and a mask token past the vocabulary get messages that say what to change. On the calling
// thread and in a worker, with real onnxruntime-node.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidInputError, InvalidOptionError, ModelLoadError, ModelRunError, NonFiniteError, ShapeMismatchError, createEngine, expectClose, loadSampleSet, model, type Engine,
} from '../helpers/index.js';

const FAULTS = (file: string) => model(`faults/${file}`);
const FEATURES = [2, 1, 3, 1];
const SAMPLE = { values: Float64Array.from(FEATURES) };
const named = (x: Record<string, number[]>) => ({ values: Object.fromEntries(Object.entries(x).map(([k, v]) => [k, Float64Array.from(v)])) });

const RUNNERS = [['the calling thread', { workers: 0 }], ['one worker', { workers: 1, threads: 1 }]] as const;

describe.each(RUNNERS)('model inputs and rows, on %s', (_where, options) => {
  let engine: Engine;
  /** v of batch-first.onnx (make.py's W2, B2) on the sample: the reference of the graphs built on the same map. */
  let reference: Float64Array;
  beforeAll(async () => {
    engine = await createEngine({ backend: 'cpu', ...options });
    reference = (await engine.explain({ model: FAULTS('batch-first.onnx'), sample: SAMPLE, preset: 'none', reward: 'output', target: 1 })).v;
  });
  afterAll(async () => {
    await engine.dispose();
  });
  const explain = (file: string, extra: Record<string, unknown> = {}) => engine.explain({ model: FAULTS(file), sample: SAMPLE, preset: 'none', reward: 'output', target: 1, ...extra });

  it('asks for a padding mask the sample leaves out (only an attention_mask is filled in), and reads one it gives', async () => {
    const missing = explain('padding-mask.onnx', { sample: named({ features: FEATURES }) });
    await expect(missing).rejects.toThrowError(ShapeMismatchError);
    await expect(missing).rejects.toThrowError(/needs input "key_padding_mask", but the sample gives arrays for features\. Give one array per input, by name: {"key_padding_mask": \[...\], ...} \(in a sample file, as a sample's "x"; in the library, as its values\)\. andor fills in only an attention_mask or input_mask .*"key_padding_mask" may mean something else/);
    const given = await explain('padding-mask.onnx', { sample: named({ features: FEATURES, key_padding_mask: [0, 0, 0, 0] }) });
    expectClose(given.v, reference, { atol: 1e-6 });
    // true = ignored: feature 2 (value 3) never counts
    const ignoring = await explain('padding-mask.onnx', { sample: named({ features: FEATURES, key_padding_mask: [0, 0, 1, 0] }) });
    expectClose(ignoring.v, reference.map((_, m) => reference[m & ~4]), { atol: 1e-6 });
  });

  it('refuses a model whose output for a row depends on the other rows of its batch, by either method', async () => {
    for (const extra of [{}, { method: 'sparse', budget: 16, maxOrder: 2, preset: undefined }]) {
      const run = explain('batch-mean.onnx', extra);
      await expect(run).rejects.toThrowError(InvalidInputError);
      await expect(run).rejects.toThrowError(/alone and .* in a batch .*depends on the other rows, or on chance\. .*model\.eval\(\)/);
    }
  });

  it('feeds a side input without a batch axis as declared, the same in every run, by either method', async () => {
    const scaled = await explain('side-unbatched.onnx', { sample: named({ features: FEATURES, t: [2] }) });
    expectClose(scaled.v, reference.map((x) => 2 * x), { atol: 1e-6 });
    const sparse = await explain('side-unbatched.onnx', { sample: named({ features: FEATURES, t: [-1] }), method: 'sparse', budget: 40, maxOrder: 2, preset: undefined });
    const terms = (sparse as unknown as { and: { players: number[]; value: number }[] }).and;
    expect(terms.find((t) => t.players.length === 0)?.value).toBeCloseTo(-reference[0], 5);
    // reference rows that name both inputs give the masked input's values, whatever their order (the first key was
    // taken: t's [5] as a row of features; an adversarial sweep, stop 34)
    const rows = [[1, 2, 3, 4], [3, 0, 1, 2]];
    const mean = await explain('side-unbatched.onnx', { sample: named({ t: [2], features: FEATURES }), baseline: 'mean', reference: JSON.stringify({ samples: rows.map((r) => ({ x: { t: [5], features: r } })) }) });
    const flat = await explain('side-unbatched.onnx', { sample: named({ t: [2], features: FEATURES }), baseline: 'mean', reference: JSON.stringify({ samples: rows }) });
    expect(Array.from(mean.v)).toEqual(Array.from(flat.v));
    expect(mean.v[0]).not.toBeCloseTo(scaled.v[0], 3); // the mean row [2, 1, 2, 3], not zeros
    // so does a baseline given as a sample file (the CLI's --baseline FILE): its first row, the masked input by name
    // (the first key was taken: t's [5] as the baseline of the 4 features, refused for its size or read in silence)
    const baseline = (x: Record<string, number[]>) => loadSampleSet(JSON.stringify({ samples: [{ x }] }));
    const byName = await explain('side-unbatched.onnx', { sample: named({ t: [2], features: FEATURES }), baseline: await baseline({ t: [5], features: [2, 1, 2, 3] }) });
    expect(Array.from(byName.v)).toEqual(Array.from(mean.v));
    const wrong = explain('side-unbatched.onnx', { sample: named({ features: FEATURES, t: [2, 3] }) });
    await expect(wrong).rejects.toThrowError(ShapeMismatchError);
    await expect(wrong).rejects.toThrowError(/Input "t" of shape \[1\] has no batch axis .* it takes 1 value, but the sample gives 2\./);
  });

  it('says a model without inputs has nothing to mask', async () => {
    await expect(explain('no-inputs.onnx')).rejects.toThrowError(InvalidInputError);
    await expect(explain('no-inputs.onnx')).rejects.toThrowError(/takes no input, so there is nothing to mask/);
  });

  it('names the outputs to read when the first has no batch axis, and reads the one named', async () => {
    const first = explain('unbatched-first-output.onnx');
    await expect(first).rejects.toThrowError(ShapeMismatchError);
    await expect(first).rejects.toThrowError(/first output "bias" \[2\] has fixed dims.* options\.output \(--output NAME\): "logits" \[batch, 2\]\./);
    expectClose((await explain('unbatched-first-output.onnx', { output: 'logits' })).v, reference, { atol: 1e-6 });
  });

  it('says a model with its weights in an external data file must be saved with them inside', async () => {
    await expect(explain('external-data.onnx')).rejects.toThrowError(ModelLoadError);
    await expect(explain('external-data.onnx')).rejects.toThrowError(/keeps its weights \(initializer W at least\) in an external data file .*save_as_external_data=False/);
  });
});

describe('the mask token', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
  });
  afterAll(async () => {
    await engine.dispose();
  });
  const text = (maskToken: number) => engine.explain({ model: model('token-transformer-i32.onnx'), sample: model('tokens.samples.json'), modality: 'text', players: '0-5', maskToken, preset: 'none' });

  it('refuses a negative id (a Gather would wrap it to the end of the vocabulary)', async () => {
    await expect(text(-1)).rejects.toThrowError(InvalidOptionError);
  });

  it('names the option when the model fails on an id past its vocabulary', async () => {
    await expect(text(99_999)).rejects.toThrowError(ModelRunError);
    await expect(text(99_999)).rejects.toThrowError(/out of data bounds.* the mask token written at absent positions \(--mask-token 99999\) is likely not a token id of the model/);
  });
});

describe('weights in an external data file, on the WebAssembly backend', () => {
  it('gets the same message', async () => {
    const engine = await createEngine({ backend: 'wasm', workers: 0 });
    try {
      await expect(engine.explain({ model: FAULTS('external-data.onnx'), sample: SAMPLE })).rejects.toThrowError(/in an external data file .*save_as_external_data=False/);
    } finally {
      await engine.dispose();
    }
  });
});

describe('options the modality would ignore (an adversarial sweep, stop 33)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
  });
  afterAll(async () => {
    await engine.dispose();
  });
  const MLP = { model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), preset: 'none' as const };
  const owners = [[0, 1], [2, 3]];

  it('explains custom players: each owns its elements, the others keep their values', async () => {
    const custom = await engine.explain({ ...MLP, modality: 'custom', custom: { owners, names: ['size', 'shape'] } });
    expect(custom.players).toEqual(['size', 'shape']);
    // the tabular run over features 0-3: custom mask 01 is features 0 and 1 present, 10 is 2 and 3, 11 all four
    const tabular = await engine.explain({ ...MLP, players: '0-3' });
    expectClose(custom.v, [0, 0b0011, 0b1100, 0b1111].map((m) => tabular.v[m]), { atol: 1e-12 });
  });

  it('refuses options that another modality takes, saying which', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ custom: { owners } }, /options\.custom applies to modality custom, not to modality tabular.*Give modality 'custom' too/],
      [{ modality: 'custom', custom: { owners }, players: '0-3' }, /options\.players applies to modality tabular, image, text, pointcloud, not to modality custom.*custom\.owners/],
      [{ modality: 'custom', custom: { owners }, baseline: 'mean' }, /options\.baseline .*not to modality custom.*custom\.baseline/],
      [{ grid: '2x2' }, /options\.grid applies to modality image, not to modality tabular/],
      [{ maskToken: 3 }, /options\.maskToken applies to modality text/],
      [{ clusters: 4 }, /options\.clusters applies to modality pointcloud/],
      // a text explanation never reads a baseline: absent tokens take the mask token
      [{ modality: 'text', maskToken: 1, baseline: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5], model: model('token-transformer.onnx'), sample: model('tokens.samples.json') }, /options\.baseline applies to modality tabular, image, pointcloud, not to modality text.*maskToken/],
      [{ modality: 'text', maskToken: 1, reference: model('tokens.samples.json'), model: model('token-transformer.onnx'), sample: model('tokens.samples.json') }, /options\.reference applies to modality tabular, image, pointcloud, not to modality text/],
    ];
    for (const [extra, message] of cases) {
      const run = engine.explain({ ...MLP, ...extra });
      await expect(run).rejects.toThrowError(InvalidOptionError);
      await expect(run).rejects.toThrowError(message);
    }
  });

  it('refuses custom owners that are not arrays of element indices, and names given twice, with typed errors', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ owners: [5] }, /custom\.owners\[0\] must be an array of the element indices player 0 owns \(got 5\)/],
      [{ owners: [['1']] }, /custom\.owners\[0\] holds "1", not an element index of input "features" \(an integer in 0\.\.29\)/],
      [{ owners, names: ['a', 'a'] }, /custom\.names lists "a" twice/],
      // each became NaN in silence (Float64Array.from)
      [{ owners, baseline: Array.from({ length: 30 }, (_, i) => (i === 3 ? 'a' : 0)) }, /^custom\.baseline\[3\] is "a"; give one finite number per element of input "features"\.$/],
      [{ owners, baseline: Float64Array.from({ length: 30 }, (_, i) => (i === 2 ? Number.NaN : 0)) }, /^custom\.baseline\[2\] is NaN; give one finite number per element/],
    ];
    for (const [custom, message] of cases) await expect(engine.explain({ ...MLP, modality: 'custom', custom } as never)).rejects.toThrowError(message);
  });
});

describe('malformed library requests get typed errors naming the field (an adversarial sweep, stop 33)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
  });
  afterAll(async () => {
    await engine.dispose();
  });
  const MLP = { model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), players: '0-3', preset: 'none' as const };
  const x = new Float64Array(30).fill(0.1);

  it.each<[string, Record<string, unknown>, typeof InvalidInputError, RegExp]>([
    ['values null', { sample: { values: null } }, InvalidInputError, /options\.sample\.values must be a Float64Array, a numeric array, or one per model input .*got null/],
    ['an input given as an object', { sample: { values: { features: {} } } }, InvalidInputError, /options\.sample\.values\.features is an object \{\}/],
    ['no input at all', { sample: { values: {} } }, InvalidInputError, /options\.sample\.values is an empty object/],
    ['a label in quotes', { sample: { values: x, label: '1' } }, InvalidInputError, /options\.sample\.label must be a non-negative integer class index \(got "1"\)/],
    ['a signal that is not an AbortSignal', { signal: {} }, InvalidOptionError, /options\.signal must be an AbortSignal/],
    ['an onProgress that is not a function', { onProgress: 5 }, InvalidOptionError, /options\.onProgress must be a function .*got 5/],
    ['an empty reference', { baseline: 'mean', reference: {} }, InvalidInputError, /options\.reference is not a sample/],
    ['a reference sample without values', { baseline: 'mean', reference: { samples: [{ values: null }], source: 'r' } }, InvalidInputError, /options\.reference\.samples\[0\]\.values must be a Float64Array, a numeric array, or one per model input/],
  ])('%s', async (_name, extra, type, message) => {
    const run = engine.explain({ ...MLP, ...extra } as never);
    await expect(run).rejects.toThrowError(type);
    await expect(run).rejects.toThrowError(message);
  });

  it('reads a sample whose values are a plain nested array as the Float64Array it flattens to', async () => {
    // the type says Float64Array; a JavaScript caller may pass an array (it was a stray-key error)
    const plain = await engine.explain({ ...MLP, sample: { values: Array.from(x) } } as never);
    const typed = await engine.explain({ ...MLP, sample: { values: x } });
    expect(Array.from(plain.v)).toEqual(Array.from(typed.v));
  });

  it('says that one image given as a nested array was read as rows, each a sample (an adversarial sweep, stop 34)', async () => {
    const image = JSON.parse(await readFile(model('digits.samples.json'), 'utf8')).samples[0].x[0] as number[][]; // 8×8
    const request = { model: model('digits-cnn.onnx'), modality: 'image', grid: '2x2', preset: 'none' } as const;
    const run = engine.explain({ ...request, sample: JSON.stringify(image) });
    await expect(run).rejects.toThrowError(ShapeMismatchError);
    await expect(run).rejects.toThrowError(/was read as 8 samples of 8 values, but input "image" takes 64 values per sample: together its rows are one sample\. .*nest one sample once more/);
    // nested once more, it is one sample
    const one = await engine.explain({ ...request, sample: JSON.stringify([image]) });
    expect(one.n).toBe(4);
  });

  it('refuses a sample nested in another layout of the same size, and reads it flat on purpose (a point cloud given [3, N])', async () => {
    const cloud = JSON.parse(await readFile(model('pointclouds.samples.json'), 'utf8')).samples[0].x as number[][];
    const request = { model: model('pointnet.onnx'), modality: 'pointcloud', clusters: 4, preset: 'none' } as const;
    const transposed = JSON.stringify({ x: cloud[0].map((_, c) => cloud.map((point) => point[c])) });
    const run = engine.explain({ ...request, sample: transposed });
    await expect(run).rejects.toThrowError(ShapeMismatchError);
    await expect(run).rejects.toThrowError(/The sample has shape \[3, 64\] but input "points" per sample is \[64, 3\]/);
    // flat, or with a leading 1, it is read row-major as the input's [64, 3]: the same explanation as the nested cloud
    const nested = await engine.explain({ ...request, sample: JSON.stringify({ x: [cloud] }) });
    const flat = await engine.explain({ ...request, sample: JSON.stringify({ x: cloud.flat() }) });
    expect(Array.from(flat.v)).toEqual(Array.from(nested.v));
    // a nested sample for a flat input: 2 × 15 values for the MLP's 30 (read row-major in silence; an adversarial
    // sweep, stop 43)
    const rows = Array.from({ length: 2 }, (_, r) => Array.from({ length: 15 }, (_, c) => (r * 15 + c) / 30));
    await expect(engine.explain({ model: model('breast-cancer-mlp.onnx'), sample: JSON.stringify({ x: rows }), players: '0-3', preset: 'none' })).rejects.toThrowError(
      /The sample has shape \[2, 15\] but input "features" per sample is \[30\]/,
    );
  });

  it('takes reference rows as Sample objects with plain arrays, as options.sample takes them (they were told they had no "x"; stop 43)', async () => {
    const set = await loadSampleSet(model('breast-cancer.samples.json'));
    const rows = set.samples.slice(0, 3).map((s) => Array.from(s.values as Float64Array));
    const request = { model: model('breast-cancer-mlp.onnx'), sample: { values: Float64Array.from(rows[0]) }, players: '0-3', baseline: 'mean', preset: 'none' } as const;
    const plain = await engine.explain({ ...request, reference: { source: 'rows', samples: rows.map((values) => ({ values })) } as never });
    const typed = await engine.explain({ ...request, reference: { source: 'rows', samples: rows.map((values) => ({ values: Float64Array.from(values) })) } });
    expect(Array.from(plain.v)).toEqual(Array.from(typed.v));
  });

  it('refuses a text sample whose tokens are not one per position, which named the players wrongly (an adversarial sweep, stop 43)', async () => {
    const text = { model: model('token-transformer.onnx'), modality: 'text', maskToken: 1, players: '0-3', preset: 'none' } as const;
    const ids = [2, 5, 6, 7, 8, 9, 10, 11, 12, 3];
    await expect(engine.explain({ ...text, sample: JSON.stringify({ x: { input_ids: ids }, tokens: ['a'] }) })).rejects.toThrowError(
      /^The sample's tokens list 1 string\(s\), but the masked input has 10 token positions; give one token string per position/,
    );
    const named = await engine.explain({ ...text, sample: JSON.stringify({ x: { input_ids: ids }, tokens: ids.map((id) => `w${id}`) }) });
    expect(named.players.slice(0, 4)).toEqual(['w2@0', 'w5@1', 'w6@2', 'w7@3']);
  });

  it('refuses NaN in a Float64Array sample, set, reference or baseline, which pointnet\'s max pool can swallow (an adversarial sweep)', async () => {
    // the point cloud's max pool dropped a NaN coordinate: each of these gave interactions in silence
    const request = { model: model('pointnet.onnx'), sample: model('pointclouds.samples.json'), modality: 'pointcloud', clusters: 4, preset: 'none' } as const;
    const set = await loadSampleSet(model('pointclouds.samples.json'));
    const nan = Float64Array.from(set.samples[0].values as Float64Array);
    nan[3] = Number.NaN;
    const withNaN = { ...set, samples: [{ ...set.samples[0], values: nan }, ...set.samples.slice(1)] };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ baseline: nan }, /^options\.baseline\[3\] is NaN; samples and baselines must hold only finite numbers/],
      [{ baseline: withNaN }, /^options\.baseline\.samples\[0\]\.values\[3\] is NaN/],
      [{ baseline: 'marginal', reference: withNaN }, /^options\.reference\.samples\[0\]\.values\[3\] is NaN/],
      [{ baseline: 'mean', reference: withNaN }, /^options\.reference\.samples\[0\]\.values\[3\] is NaN/],
      [{ sample: { values: nan } }, /^options\.sample\.values\[3\] is NaN/],
    ];
    for (const [extra, message] of cases) {
      const run = engine.explain({ ...request, ...extra } as never);
      await expect(run).rejects.toThrowError(NonFiniteError);
      await expect(run).rejects.toThrowError(message);
    }
    await expect(engine.explainBatch({ model: request.model, modality: 'pointcloud', clusters: 4, preset: 'none', samples: withNaN, rows: '0-1', cacheDir: false } as never)).rejects.toThrowError(/^options\.samples\.samples\[0\]\.values\[3\] is NaN/);
  });

  it('reads a baseline given as a sample file\'s parsed JSON as that file (it crashed: "Cannot read properties of undefined")', async () => {
    const row = JSON.parse(await readFile(model('breast-cancer.samples.json'), 'utf8')).samples[1].x as number[];
    const given = await engine.explain({ ...MLP, baseline: Float64Array.from(row) });
    const parsed = await engine.explain({ ...MLP, baseline: { samples: [{ x: row }] } } as never);
    expect(Array.from(parsed.v)).toEqual(Array.from(given.v));
    await expect(engine.explain({ ...MLP, baseline: { samples: [] } } as never)).rejects.toThrowError(/^options\.baseline holds no rows; its first row is the baseline\./);
  });

  it('refuses values of a game that are nested or strings', async () => {
    await expect(engine.explainValues({ values: [[1, 2], [3, 4]] } as never)).rejects.toThrowError(/options\.values\[0\] is \[1, 2\]; give a flat list of 2\^n numbers/);
    await expect(engine.explainValues({ values: ['1', '2'] } as never)).rejects.toThrowError(InvalidOptionError);
  });
});
