// The stored form of a unit's result (engine/distributed/result-codec.ts): index lists as runs of consecutive
// elements round-trip exactly whatever the list (property-based), an image result comes back equal to the original
// with its sample's values and far shorter than the plain codec, and a malformed run list is never trusted; a sparse
// result comes back equal, and one whose term lists or analysis were damaged (property-based) is never trusted.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResult, encodeResult, fromRuns, toRuns } from '../../dist/engine/distributed/result-codec.js';
import { encodeEntry } from '../../dist/engine/explain/cache.js';
import { explainUnit } from '../../dist/engine/explain/units.js';
import { loadModelBytes } from '../../dist/engine/explain/explain.js';
import { createEngine, loadSampleSet, model, type Engine, type ExplainResult } from '../helpers/index.js';

describe('index runs', () => {
  it('give back every index list exactly, and are used only when shorter', () => {
    const lists = fc.oneof(
      fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 2 }), { maxLength: 200 }),
      // runs of consecutive elements, as a grid's players own them
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 60 })), { maxLength: 30 }).map((runs) => runs.flatMap(([start, length]) => Array.from({ length }, (_, e) => start + e))),
    );
    fc.assert(
      fc.property(lists, (list) => {
        const indices = Int32Array.from(list);
        const runs = toRuns(indices);
        if (runs === undefined) return;
        expect(runs.length).toBeLessThan(indices.length || 1);
        expect(Array.from(fromRuns(runs)!)).toEqual(Array.from(indices));
      }),
    );
  });

  it('refuse malformed pairs (odd length, runs of 0 or fewer)', () => {
    expect(fromRuns(Int32Array.of(3))).toBeUndefined();
    expect(fromRuns(Int32Array.of(3, 0))).toBeUndefined();
    expect(fromRuns(Int32Array.of(3, -2))).toBeUndefined();
    expect(Array.from(fromRuns(Int32Array.of(7, 3, 20, 1))!)).toEqual([7, 8, 9, 20]);
  });
});

describe('a stored result', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0, threads: 1 });
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  it('of an image comes back equal, its values from the unit\'s sample and its indices from runs, at a fraction of the plain codec', async () => {
    // 3×32×32, 4 cells of 8×8 pixels: 768 indices in 96 runs of 8
    const set = await loadSampleSet(model('random-images.samples.json'));
    const unit = explainUnit(await loadModelBytes(model('random-cnn.onnx')), set.samples[0], 0, { modality: 'image', grid: '4x4', players: '0-3', preset: 'none' }, {});
    const result = (await engine.explain({ ...unit.options, model: unit.model.bytes, sample: unit.sample })) as ExplainResult;
    const text = encodeResult(unit, result);
    expect(result.layout!.indices).toHaveLength(768);
    expect(text.length).toBeLessThan(encodeEntry({ ...result, layout: { ...result.layout!, values: 'sample' } }).length - 3000);
    const back = decodeResult(unit, text)!;
    expect(back.layout!.values).toBe(unit.sample.values);
    expect(Array.from(back.layout!.indices)).toEqual(Array.from(result.layout!.indices));
    expect(encodeEntry(back)).toBe(encodeEntry(result));
    // a damaged run list is recomputed, never trusted
    expect(decodeResult(unit, text.replace(/"runs":\{"\$typed":"i32","base64":"[^"]*"\}/, '"runs":{"$typed":"i32","base64":"AQAAAA=="}'))).toBeUndefined();
  });

  it('of the sparse method comes back equal, and a damaged term list or missing analysis is recomputed, never trusted', async () => {
    const set = await loadSampleSet(model('patches-49.samples.json'));
    const options = { modality: 'image', grid: '7x7', method: 'sparse', budget: 1000, maxOrder: 2 } as const;
    const unit = explainUnit(await loadModelBytes(model('patches-49.onnx')), set.samples[0], 0, options, {});
    const result = await engine.explain({ ...options, model: unit.model.bytes, sample: unit.sample });
    const text = encodeResult(unit, result);
    const back = decodeResult(unit, text)!;
    expect(back.layout!.values).toBe(unit.sample.values);
    expect(encodeEntry(back)).toBe(encodeEntry(result));
    const stored = JSON.parse(text) as { and: { players: unknown; value: unknown }[]; or: unknown[]; orders?: unknown; indices: { shapley?: unknown } };
    const multi = stored.and.findIndex((t) => (t.players as number[]).length >= 2);
    expect(multi).toBeGreaterThanOrEqual(0);
    const damages: ((r: typeof stored, at: number) => void)[] = [
      (r) => (r.and[multi].players = [...(r.and[multi].players as number[])].reverse()), // not ascending
      (r, at) => (r.and[at].players = [49]), // past n
      (r, at) => (r.and[at].players = [-1]),
      (r, at) => (r.and[at].players = [0.5]),
      (r, at) => (r.and[at].players = '0'),
      (r, at) => (r.and[at].value = '1'),
      (r, at) => (r.and[at].value = null),
      (r, at) => (r.or[at % r.or.length] = null),
      (r) => delete r.orders,
      (r) => delete r.indices.shapley,
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: damages.length - 1 }), fc.integer({ min: 0, max: stored.and.length - 1 }), (kind, at) => {
        const damaged = structuredClone(stored);
        damages[kind](damaged, at);
        expect(decodeResult(unit, JSON.stringify(damaged))).toBeUndefined();
      }),
      { numRuns: 60 },
    );
  });
});
