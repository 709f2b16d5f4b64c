// Masks per modality: a masked row differs from the sample exactly on the elements of absent players, where it holds
// the baseline; present players and background keep the sample's values.
import { describe, expect, it } from 'vitest';
import { BatchBuilder } from '../../dist/engine/pipeline/masking.js';
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
