// Reading model outputs: float16 and bfloat16 bit patterns decoded exactly, the pipeline's list of readable dtypes
// equal to what the bindings decode, the batch axis of an output found (or refused) from its dims, rewards read
// along it, the LRU bound on open models, and the automatic batch size.
import { describe, expect, it } from 'vitest';
import { DECODED_OUTPUT_DTYPES, decodeBfloat16, decodeFloat16, decodeOutput } from '../../dist/bindings/ort-common.js';
import { LruCache } from '../../dist/engine/pipeline/lru.js';
import { locateRows, readRewards, type RowsQuery } from '../../dist/engine/pipeline/masking.js';
import { READABLE_OUTPUT_DTYPES, chooseBatchSize, type PlanInput } from '../../dist/engine/pipeline/plan.js';
import { ModelRunError, ShapeMismatchError } from '../helpers/index.js';

describe('output dtypes', () => {
  it('decodes IEEE binary16 bit patterns (golden values: IEEE 754-2008 §3.6 binary16 layout)', () => {
    const bits = Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00);
    const expected = [1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, -0, Infinity, -Infinity, NaN];
    expect(Array.from(decodeFloat16(bits))).toEqual(expected);
  });

  it('decodes bfloat16 as the top half of a float32 (golden values: 0x3dcd is what Cast rounds 0.1 to in onnxruntime)', () => {
    const bits = Uint16Array.of(0x3f80, 0xc000, 0x3dcd, 0x7f80, 0xff80, 0x7fc0, 0x0001);
    const expected = [1, -2, 0.10009765625, Infinity, -Infinity, NaN, 2 ** -133];
    expect(Array.from(decodeBfloat16(bits))).toEqual(expected);
  });

  it('widens small integer dtypes and uint64 to float64, passes the contract dtypes through', () => {
    expect(decodeOutput('y', { type: 'uint8', data: Uint8Array.of(0, 255), dims: [2] })).toEqual({ dtype: 'float64', data: Float64Array.of(0, 255), dims: [2] });
    expect(decodeOutput('y', { type: 'int16', data: Int16Array.of(-3, 7), dims: [1, 2] }).data).toEqual(Float64Array.of(-3, 7));
    expect(decodeOutput('y', { type: 'uint64', data: BigUint64Array.of(2n ** 40n, 3n), dims: [2] }).data).toEqual(Float64Array.of(2 ** 40, 3));
    const f32 = Float32Array.of(0.5);
    expect(decodeOutput('y', { type: 'float32', data: f32, dims: [1] }).data).toBe(f32);
    expect(() => decodeOutput('y', { type: 'string', data: ['1'], dims: [1] } as never)).toThrowError(ModelRunError);
  });

  it('the pipeline reads exactly the dtypes the bindings decode', () => {
    expect([...READABLE_OUTPUT_DTYPES].sort()).toEqual([...DECODED_OUTPUT_DTYPES].sort());
  });
});

describe('locateRows', () => {
  const base: RowsQuery = { output: 'logits', dims: [8, 3], declared: ['batch', 3], input: 'x', inputBatchDim: 'batch', rows: 8, batchAxis: 'dynamic' };

  it.each([
    ['batch first, named', {}, 0],
    ['batch second, named like the input', { dims: [3, 8], declared: [3, 'batch'] }, 1],
    ['batch second, another name (the only symbolic axis of the batch size)', { dims: [3, 8], declared: [3, 'n'] }, 1],
    ['named, though both axes have the batch size', { dims: [8, 8], declared: [8, 'batch'] }, 1],
    ['declared shape unknown, one axis of the batch size', { dims: [3, 8, 2], declared: [] }, 1],
    ['fixed batch, batch first', { dims: [16, 10], declared: [16, 10], inputBatchDim: 16, rows: 16, batchAxis: 'fixed' }, 0],
    ['extra dims around the batch', { dims: [2, 8, 5], declared: [2, 'batch', 5] }, 1],
  ] as const)('%s', (_what, change, axis) => {
    expect(locateRows({ ...base, ...change } as RowsQuery).axis).toBe(axis);
  });

  it('one row is the whole tensor, whatever its dims (fixed batch of 1, or no batch axis)', () => {
    expect(locateRows({ ...base, dims: [1, 1, 2], declared: [1, 1, 2], rows: 1, batchAxis: 'fixed' })).toEqual({ axis: -1, rows: 1, width: 2, outer: 1, inner: 2 });
    expect(locateRows({ ...base, dims: [4], declared: [4], rows: 1, batchAxis: 'none' }).width).toBe(4);
  });

  it('refuses an output where two axes could be the batch, saying to export the batch axis first', () => {
    const query: RowsQuery = { ...base, dims: [2, 2], declared: [2, 2], inputBatchDim: 2, rows: 2, batchAxis: 'fixed' };
    expect(() => locateRows(query)).toThrowError(ShapeMismatchError);
    expect(() => locateRows(query)).toThrowError(/axes 0 and 1 could each be the batch axis.*dynamic_axes=\{"x": \{0: "batch"\}, "logits": \{0: "batch"\}\}/);
  });

  it('refuses an output without an axis of the batch size', () => {
    expect(() => locateRows({ ...base, dims: [3], declared: [3] })).toThrowError(/has dims \[3\] \(declared \[3\]\) for a batch of 8 rows, but no axis of it can hold the batch/);
  });
});

describe('readRewards along the batch axis', () => {
  // logits of 3 rows × 2 classes, z[r] = (r, 2r + 1); gt-log-odds of class 1 = z1 − z0 = r + 1
  const rowsFirst = Float32Array.of(0, 1, 1, 3, 2, 5);
  const rowsSecond = Float32Array.of(0, 1, 2, 1, 3, 5); // the same logits transposed: [2, 3]

  it('gives the same rewards for an output with the batch first or second', () => {
    const spec = { kind: 'gt-log-odds', target: 1, output: 'logits' } as const;
    const first = new Float64Array(3);
    const second = new Float64Array(3);
    readRewards(spec, { dtype: 'float32', data: rowsFirst, dims: [3, 2] }, 3, 3, first, 0);
    const layout = locateRows({ output: 'logits', dims: [2, 3], declared: [2, 'batch'], input: 'x', inputBatchDim: 'batch', rows: 3, batchAxis: 'dynamic' });
    readRewards(spec, { dtype: 'float32', data: rowsSecond, dims: [2, 3] }, layout, 3, second, 0);
    expect(Array.from(first)).toEqual([1, 2, 3]);
    expect(Array.from(second)).toEqual([1, 2, 3]);
  });

  it('returns the first row whose reward is not finite', () => {
    const out = new Float64Array(3);
    const bad = readRewards({ kind: 'output', target: 0, output: 'y' }, { dtype: 'float64', data: Float64Array.of(1, NaN, 3), dims: [3, 1] }, 3, 3, out, 0);
    expect(bad).toBe(1);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used past its capacity, skipping busy entries until they are free', () => {
    const evicted: string[] = [];
    const busy = new Set<string>();
    const cache = new LruCache<string>(2, { onEvict: (value) => evicted.push(value), isBusy: (value) => busy.has(value) });
    cache.set('a', 'A');
    cache.set('b', 'B');
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('c', 'C');
    expect(evicted).toEqual(['B']);
    busy.add('A');
    cache.set('d', 'D'); // a is busy: c goes instead
    expect(evicted).toEqual(['B', 'C']);
    busy.add('D');
    cache.set('e', 'E'); // both older entries busy: over capacity until one is free
    expect(cache.size).toBe(3);
    busy.clear();
    cache.trim();
    expect(evicted).toEqual(['B', 'C', 'A']);
    expect(cache.values()).toEqual(['D', 'E']);
    expect(cache.delete('d')).toBe('D');
    expect(cache.clear()).toEqual(['E']);
    expect(evicted).toHaveLength(3); // delete and clear hand values back instead of evicting them
  });

  it('refuses a capacity below 1', () => {
    expect(() => new LruCache(0, { onEvict: () => undefined })).toThrowError(RangeError);
  });
});

describe('the automatic batch size', () => {
  const dynamic = { kind: 'dynamic' } as const;
  const input = (elements: number, dtype: PlanInput['dtype'] = 'float32'): PlanInput => ({ name: 'x', dtype, sampleDims: [elements], values: new Float64Array(elements) });
  const MB = 2 ** 20;

  it('fills about 16 MiB of input per run, at most 1024 rows and the masks there are', () => {
    expect(chooseBatchSize(dynamic, [input(3 * 224 * 224)], 1024)).toBe(27); // a ResNet-18 image: 588 KiB a row
    expect(chooseBatchSize(dynamic, [input(30)], 1 << 20)).toBe(1024);
    expect(chooseBatchSize(dynamic, [input(30)], 100)).toBe(100);
  });

  it('caps a big model at max(8, 2 GiB / its size) rows, whatever its inputs', () => {
    const ids = [input(64, 'int64'), input(64, 'int64')]; // 1 KiB a row: 1024 rows by input alone
    expect(chooseBatchSize(dynamic, ids, 1024, undefined, 265 * MB)).toBe(8); // DistilBERT size
    expect(chooseBatchSize(dynamic, ids, 1024, undefined, 1024 * MB)).toBe(8); // never fewer than 8
    expect(chooseBatchSize(dynamic, ids, 1024, undefined, 32 * MB)).toBe(64);
    expect(chooseBatchSize(dynamic, [input(3 * 224 * 224)], 1024, undefined, 45 * MB)).toBe(27); // input binds first
    expect(chooseBatchSize(dynamic, ids, 1024, undefined, 100 * 1024)).toBe(1024); // a small model: no cap
  });

  it('keeps a requested size (up to the masks) and a fixed batch axis', () => {
    expect(chooseBatchSize(dynamic, [input(30)], 1024, 100, 265 * MB)).toBe(100);
    expect(chooseBatchSize(dynamic, [input(30)], 16, 100)).toBe(16);
    expect(chooseBatchSize({ kind: 'fixed', size: 4 }, [input(30)], 1024, undefined, 265 * MB)).toBe(4);
    expect(chooseBatchSize({ kind: 'none' }, [input(30)], 1024)).toBe(1);
  });
});
