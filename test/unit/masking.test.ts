// Masks per modality: a masked row differs from the sample exactly on the elements of absent players, where it holds
// the baseline; present players and background keep the sample's values.
import { describe, expect, it } from 'vitest';
import { BatchBuilder, BuilderCache } from '../../dist/engine/pipeline/masking.js';
import type { MaskPlan } from '../../dist/engine/pipeline/plan.js';
import { customLayout, imageLayout, pointCloudLayout, tabularLayout, textLayout, type LayoutContext, type PlayerLayout } from '../../dist/engine/pipeline/players.js';
import { loadSampleSet, model, seededRandom, seededRng } from '../helpers/index.js';

const context = (values: Float64Array, dims: number[], baseline: LayoutContext['baseline'], extra: Partial<LayoutContext> = {}): LayoutContext => ({
  inputName: 'x', dims, values, baseline, background: 'keep', ...extra,
});

/** Fills random masks through BatchBuilder and checks every element of every row. */
function checkMasks(layout: PlayerLayout, sample: Float64Array, dtype: 'float32' | 'float64' | 'int64' = 'float64') {
  const owner = new Int32Array(sample.length).fill(-1);
  for (let i = 0; i < layout.n; i++) {
    for (let k = layout.masked.offsets[i]; k < layout.masked.offsets[i + 1]; k++) owner[layout.masked.indices[k]] = i;
  }
  const rows = 8;
  const builder = new BatchBuilder({
    n: layout.n,
    inputs: [{ name: 'x', dtype, sampleDims: [sample.length], values: layout.values }],
    masked: [layout.masked],
    reward: { kind: 'output', target: 0, output: 'y' },
    batchAxis: { kind: 'dynamic' },
    batchSize: rows,
  });
  const rng = seededRng(layout.n);
  for (let trial = 0; trial < 16; trial++) {
    const start = Math.floor(rng() * (2 ** layout.n - rows + 1));
    const batch = builder.fill(start, rows).x.data;
    for (let r = 0; r < rows; r++) {
      const mask = start + r;
      for (let d = 0; d < sample.length; d++) {
        const player = owner[d];
        const absent = player >= 0 && !((mask >> player) & 1);
        const expected = absent ? layout.masked.baseline[d] : layout.values[d];
        expect(Number(batch[r * sample.length + d])).toBeCloseTo(dtype === 'float32' ? Math.fround(expected) : expected, 12);
      }
    }
  }
  return owner;
}

describe('masks per modality', () => {
  it('tabular: absent columns take the baseline, other columns keep their values', () => {
    const x = seededRandom(1, 30);
    const layout = tabularLayout(context(x, [30], 'zero'), '0-9');
    const owner = checkMasks(layout, x, 'float32');
    expect(Array.from(owner.slice(10)).every((o) => o === -1)).toBe(true);
  });

  it('tabular with background "mask": non-player columns always hold the baseline', () => {
    const x = seededRandom(2, 6);
    const layout = tabularLayout(context(x, [6], Float64Array.of(9, 9, 9, 9, 9, 9), { background: 'mask' }), '0-1');
    expect(Array.from(layout.values.slice(2))).toEqual([9, 9, 9, 9]);
    checkMasks(layout, x);
  });

  it('image: each grid cell owns its pixels in every channel; blur and mean baselines', async () => {
    const set = await loadSampleSet(model('digits.samples.json'));
    const x = set.samples[0].values as Float64Array;
    const layout = imageLayout(context(x, [1, 8, 8], 'zero'), { grid: '4x4', players: '1,2,5,6' });
    const owner = checkMasks(layout, x);
    // cell 1 = rows 0-1, columns 2-3 of the 8x8 image
    expect([2, 3, 10, 11].map((d) => owner[d])).toEqual([0, 0, 0, 0]);
    expect(owner.filter((o) => o >= 0).length).toBe(16);
    const rgb = seededRandom(3, 3 * 6 * 6);
    const blurred = imageLayout(context(rgb, [3, 6, 6], 'blur'), { grid: '3x3' });
    checkMasks(blurred, rgb);
    expect(blurred.masked.baseline).not.toEqual(rgb);
    const rows = [seededRandom(4, 108), seededRandom(5, 108)];
    const mean = imageLayout(context(rgb, [3, 6, 6], 'mean', { reference: rows }), { grid: '2x2' });
    expect(mean.masked.baseline[7]).toBeCloseTo((rows[0][7] + rows[1][7]) / 2, 12);
    expect(mean.n).toBe(4);
  });

  it('text: absent positions take the mask token (token mode) or 0 (attention mode)', () => {
    const ids = Float64Array.of(12, 15, 7, 4, 3, 7, 2, 6, 13, 5);
    const layout = textLayout(context(ids, [10], 'zero'), { maskMode: 'token', maskToken: 1, players: '0-9' });
    expect(Array.from(layout.masked.baseline)).toEqual(new Array(10).fill(1));
    checkMasks(layout, ids, 'int64');
    const attention = textLayout(context(new Float64Array(10).fill(1), [10], 'zero'), { maskMode: 'attention', players: '2-5' });
    expect(attention.n).toBe(4);
    checkMasks(attention, new Float64Array(10).fill(1), 'int64');
  });

  it('point cloud: clusters own whole points; centroid and center baselines', async () => {
    const set = await loadSampleSet(model('pointclouds.samples.json'));
    const points = set.samples[0].values as Float64Array;
    const layout = pointCloudLayout(context(points, [64, 3], 'centroid'), { clusters: 8 });
    const owner = checkMasks(layout, points);
    for (let p = 0; p < 64; p++) expect(new Set([owner[3 * p], owner[3 * p + 1], owner[3 * p + 2]]).size).toBe(1);
    expect(owner.every((o) => o >= 0)).toBe(true);
    // the centroid baseline of a cluster is the mean of its points
    const members = Array.from({ length: 64 }, (_, p) => p).filter((p) => owner[3 * p] === 0);
    const cx = members.reduce((s, p) => s + points[3 * p], 0) / members.length;
    expect(layout.masked.baseline[3 * members[0]]).toBeCloseTo(cx, 12);
    const center = pointCloudLayout(context(points, [64, 3], 'center'), { clusters: 8 });
    expect(center.masked.baseline[0]).toBeCloseTo(Array.from({ length: 64 }, (_, p) => points[3 * p]).reduce((a, b) => a + b) / 64, 12);
  });

  it('custom: any grouping of elements with a per-element baseline', () => {
    const x = seededRandom(6, 12);
    const layout = customLayout(context(x, [12], 'zero'), { owners: [[0, 5, 11], [3], [6, 7]], baseline: new Array(12).fill(-2), names: ['a', 'b', 'c'] });
    expect(layout.names).toEqual(['a', 'b', 'c']);
    checkMasks(layout, x);
    expect(() => customLayout(context(x, [12], 'zero'), { owners: [[12]] })).toThrowError(/holds 12, not an element index of input "x" \(an integer in 0\.\.11\)/);
  });
});

describe('batch builders reused across plans (BuilderCache)', () => {
  /** A plan of 12 tabular features, 10 of them players, its sample and baseline drawn from seed. */
  const planOf = (seed: number, batchSize = 8): MaskPlan => {
    const layout = tabularLayout(context(seededRandom(seed, 12), [12], seededRandom(seed + 100, 12)), '0-9');
    return {
      n: layout.n, inputs: [{ name: 'x', dtype: 'float32', sampleDims: [12], values: layout.values }], masked: [layout.masked],
      reward: { kind: 'output', target: 0, output: 'y' }, batchAxis: { kind: 'dynamic' }, batchSize,
    };
  };
  /** count random masks of 10 players, seeded. */
  const masksOf = (seed: number, count: number) => {
    const rng = seededRng(seed);
    return { n: 10, count, words: 1, bits: Uint32Array.from({ length: count }, () => Math.floor(rng() * 1024)) };
  };
  const bufferOf = (builder: BatchBuilder) => builder.batchBuffers()[0].batch as Float32Array;

  it('a new plan of the same shape takes a dropped builder\'s buffer and writes every row of it as a fresh builder does', () => {
    const cache = new BuilderCache<string>(1);
    const first = cache.acquire('a', planOf(1));
    // every row now holds a mask of plan a's sample and baseline
    first.fillList(masksOf(1, 8), 0, 8);
    const used = bufferOf(first);
    cache.release('a', first);
    const b = planOf(2);
    const second = cache.acquire('b', b); // plan a's builder is dropped: its buffer is the spare of this shape
    expect(bufferOf(second)).toBe(used);
    const fresh = new BatchBuilder(b);
    expect(Array.from(bufferOf(second))).toEqual(Array.from(bufferOf(fresh)));
    for (let trial = 0; trial < 6; trial++) {
      const count = 1 + trial;
      const masks = masksOf(10 + trial, count);
      expect(Array.from(second.fillList(masks, 0, count).feeds.x.data as Float32Array)).toEqual(Array.from(fresh.fillList(masks, 0, count).feeds.x.data as Float32Array));
    }
  });

  it('a builder is handed to one evaluation at a time, and back to its plan when released', () => {
    const cache = new BuilderCache<string>(2);
    const plan = planOf(3);
    const one = cache.acquire('p', plan);
    const two = cache.acquire('p', plan);
    expect(two).not.toBe(one);
    expect(bufferOf(two)).not.toBe(bufferOf(one));
    cache.release('p', one);
    cache.release('p', two);
    expect(new Set([cache.acquire('p', plan), cache.acquire('p', plan)])).toEqual(new Set([one, two]));
  });

  it('keeps no spare buffer past its byte bound: a batch of 33.6 MB is let go', () => {
    const cache = new BuilderCache<string>(1);
    const big = cache.acquire('a', planOf(7, 700_000));
    cache.release('a', big);
    const next = cache.acquire('b', planOf(8, 700_000)); // plan a dropped, its 33.6 MB buffer over the 32 MiB bound
    expect(bufferOf(next)).not.toBe(bufferOf(big));
    const small = cache.acquire('c', planOf(9)); // plan b's builder is still held: nothing dropped, a fresh buffer
    cache.release('c', small);
    // plan c dropped: its small buffer is a spare again
    expect(bufferOf(cache.acquire('d', planOf(10)))).toBe(bufferOf(small));
  });

  it('a builder released after its plan was dropped is not kept for it; another shape gets a fresh buffer', () => {
    const cache = new BuilderCache<string>(1);
    const held = cache.acquire('a', planOf(4));
    cache.acquire('b', planOf(5)); // drops plan a, whose builder is still in use
    cache.release('a', held);
    const again = cache.acquire('a', planOf(4));
    expect(again).not.toBe(held);
    expect(bufferOf(again)).toBe(bufferOf(held));
    const wider = cache.acquire('c', planOf(6, 16));
    expect(bufferOf(wider).length).toBe(16 * 12);
    expect(bufferOf(wider)).not.toBe(bufferOf(held));
  });
});
