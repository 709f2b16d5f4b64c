// Odd model outputs (models/faults/, built by make.py): every output dtype is decoded to its numbers or refused by
// name, an output's batch axis is found from its declared dims wherever it sits (or the model refused when it is
// ambiguous), and NaN outputs stop the job with the output, the element and the mask named. On the calling thread
// and in a worker, with real onnxruntime-node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError, NonFiniteError, ShapeMismatchError, createEngine, expectClose, model, type Engine } from '../helpers/index.js';

const FAULTS = (file: string) => model(`faults/${file}`);
/** Integer features in 0..3: with make.py's integer weights every output is an integer (so any cast is exact). */
const SAMPLE = { values: Float64Array.of(2, 1, 3, 1) };
/** make.py WI column 1 and BI[1] = 0: output element 1 of mask m is Σ_{i ∈ m} x_i · WI[i][1], WI[·][1] = 0, 1, 3, 1. */
const ELEMENT_1 = [2 * 0, 1 * 1, 3 * 3, 1 * 1];
const expectedElement1 = Float64Array.from({ length: 16 }, (_, m) => ELEMENT_1.reduce((sum, term, i) => sum + ((m >> i) & 1) * term, 0));

const RUNNERS = [['the calling thread', { workers: 0 }], ['one worker', { workers: 1, threads: 1 }]] as const;

describe.each(RUNNERS)('model outputs, on %s', (_where, options) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ backend: 'cpu', ...options });
  });
  afterAll(async () => {
    await engine.dispose();
  });
  const explain = (file: string, extra: Record<string, unknown> = {}) => engine.explain({ model: FAULTS(file), sample: SAMPLE, preset: 'none', ...extra });

  describe('dtypes', () => {
    it('reads the float32 output of integer weights exactly (the reference of the casts below)', async () => {
      const r = await explain('output-dtypes.onnx', { reward: 'output', target: 1 });
      expect(Array.from(r.v)).toEqual(Array.from(expectedElement1));
    });

    it.each(['float16', 'float64', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'uint32', 'uint64'])('decodes a %s output to the same numbers', async (dtype) => {
      const r = await explain('output-dtypes.onnx', { output: `as_${dtype}`, reward: 'output', target: 1 });
      expect(Array.from(r.v)).toEqual(Array.from(expectedElement1));
    });

    it('decodes a bool output to 0 and 1', async () => {
      const r = await explain('output-dtypes.onnx', { output: 'as_bool', reward: 'output', target: 1 });
      expect(Array.from(r.v)).toEqual(Array.from(expectedElement1, (x) => (x !== 0 ? 1 : 0)));
    });

    it('refuses a string output by name, before running anything', async () => {
      await expect(explain('output-dtypes.onnx', { output: 'as_string', reward: 'output', target: 1 })).rejects.toThrowError(ModelLoadError);
      await expect(explain('output-dtypes.onnx', { output: 'as_string', reward: 'output', target: 1 })).rejects.toThrowError(/output "as_string" has dtype string, which andor cannot read as numbers\. Readable output dtypes: float32, .*Cast that output to float32/);
    });

    it('refuses an int4 output by name, and still reads the float32 output of the same model (int4 is never fetched)', async () => {
      // onnxruntime-node 1.30 aborts the whole process when it copies an int4/uint4 output out (an out-of-memory abort)
      await expect(explain('int4-output.onnx', { output: 'as_int4', reward: 'output', target: 1 })).rejects.toThrowError(/output "as_int4" has dtype int4, which andor cannot read/);
      await expect(explain('int4-output.onnx', { output: 'as_uint4', reward: 'output', target: 1 })).rejects.toThrowError(/output "as_uint4" has dtype uint4/);
      const r = await explain('int4-output.onnx', { reward: 'output', target: 1 });
      expect(Array.from(r.v)).toEqual(Array.from(expectedElement1));
    });

    it('reads float16 logits as numbers, within float16 rounding of the float32 twin', async () => {
      const f32 = await explain('linear-f32.onnx');
      const f16 = await explain('linear-f16.onnx');
      expect(f16.target).toBe(f32.target);
      // logits below 4 in magnitude round by at most 2^−9; gt-log-odds moves by at most twice that per logit
      expectClose(f16.v, f32.v, { atol: 4 * 2 ** -9 });
      expect(f16.v.some((x, m) => x !== f32.v[m])).toBe(true); // they are float16 values, not the float32 ones
    });

    it('refuses a bfloat16 output by name: onnxruntime\'s JavaScript API cannot hand bfloat16 over', async () => {
      await expect(explain('linear-bf16.onnx')).rejects.toThrowError(ModelLoadError);
      await expect(explain('linear-bf16.onnx')).rejects.toThrowError(/has dtype bfloat16 \(ONNX type 16\).*add a Cast to float32 after that output/);
    });
  });

  describe('batch axis', () => {
    let first: Float64Array;
    beforeAll(async () => {
      first = (await explain('batch-first.onnx')).v;
    });

    it.each([
      ['second, named like the input\'s ([2, batch])', 'batch-second.onnx'],
      ['second, under another name ([2, rows])', 'batch-second-renamed.onnx'],
    ])('reads rewards along an output batch axis that comes %s', async (_what, file) => {
      const r = await explain(file);
      expect(Array.from(r.v)).toEqual(Array.from(first));
    });

    it('tells the axes apart by name even when both have the batch\'s size (2 masks, 2 classes)', async () => {
      const second = await explain('batch-second.onnx', { players: '0' });
      const reference = await explain('batch-first.onnx', { players: '0' });
      expect(second.v.length).toBe(2);
      expect(Array.from(second.v)).toEqual(Array.from(reference.v));
    });

    it('refuses a fixed batch of 2 with a [2, 2] output: either axis could be the batch', async () => {
      await expect(explain('batch-ambiguous.onnx')).rejects.toThrowError(ShapeMismatchError);
      await expect(explain('batch-ambiguous.onnx')).rejects.toThrowError(
        /output "scores" has dims \[2, 2\] \(declared \[2, 2\]\) for a batch of 2 rows: axes 0 and 1 could each be the batch axis.*Export the model with the batch axis first/,
      );
    });
  });

  describe('NaN', () => {
    it('names the output and the element when the unmasked sample gives NaN, before a class is picked', async () => {
      await expect(explain('nan-output.onnx')).rejects.toThrowError(NonFiniteError);
      await expect(explain('nan-output.onnx')).rejects.toThrowError(/The model's output "logits" is NaN at element 1 on the unmasked sample/);
      // with the class given, the probe still stops it before any evaluation
      await expect(explain('nan-output.onnx', { target: 0 })).rejects.toThrowError(/is NaN at element 1 on the unmasked sample/);
    });

    it('stops at the first mask whose output is NaN, naming it and its players', async () => {
      // sqrt(x0 − 1) is NaN once player 0 (x0 = 2) takes its baseline 0: mask 0 is the first such mask
      await expect(explain('nan-when-masked.onnx')).rejects.toThrowError(NonFiniteError);
      await expect(explain('nan-when-masked.onnx')).rejects.toThrowError(/output "logits" is NaN at element 0 on mask 0 \(no player present, absent players at their baseline\)/);
      const withZero = await explain('nan-when-masked.onnx', { players: '1-3' });
      expect(withZero.v.every(Number.isFinite)).toBe(true);
    });
  });
});
