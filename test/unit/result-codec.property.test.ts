// The stored form of a unit's result (engine/explain/stored-result.ts, as the queue's text: distributed/result-codec.ts):
// index lists as runs of consecutive elements round-trip exactly whatever the list (property-based), an image result
// comes back equal to the original with its sample's values and far shorter than the plain codec, and a malformed run
// list is never trusted; a sparse result comes back equal, and one whose term columns or analysis were damaged
// (property-based) is never trusted; term lists of any shape round-trip through their columns (property-based).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResult, encodeResult } from '../../dist/engine/distributed/result-codec.js';
import { fromRuns, restoreResult, storeResult, toRuns } from '../../dist/engine/explain/stored-result.js';
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
    // (the model's file is the reader's unit's, as a run of the unit names it)
    expect(encodeEntry({ ...back, model: undefined })).toBe(encodeEntry({ ...result, model: undefined }));
    expect(back.model).toEqual({ ...result.model, file: unit.model.file });
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
    // (the model's file is the reader's unit's, as a run of the unit names it)
    expect(encodeEntry({ ...back, model: undefined })).toBe(encodeEntry({ ...result, model: undefined }));
    expect(back.model).toEqual({ ...result.model, file: unit.model.file });
    // the stored form: the term lists as columns
    type Columns = { shape: unknown; kinds?: unknown; starts?: Int32Array | unknown; players?: Int32Array | unknown; values?: Float64Array | unknown };
    type Stored = { and: Columns | null; or: Columns; salient: Columns; orders?: unknown; indices: { shapley?: unknown } };
    const stored = storeResult(unit.sample, result, unit.key) as Stored;
    const and = stored.and as { starts: Int32Array; players: Int32Array; values: Float64Array };
    expect(and.values).toBeInstanceOf(Float64Array);
    expect((stored.salient as { kinds?: unknown }).kinds).toBeInstanceOf(Uint8Array);
    const multi = Array.from({ length: and.values.length }, (_, t) => t).find((t) => and.starts[t + 1] - and.starts[t] >= 2)!;
    expect(multi).toBeDefined();
    const columns = (r: Stored) => r.and as { starts: Int32Array; players: Int32Array; values: Float64Array };
    const damages: ((r: Stored, at: number) => void)[] = [
      (r) => columns(r).players.subarray(columns(r).starts[multi], columns(r).starts[multi + 1]).reverse(), // not ascending
      (r, at) => (columns(r).players[at % columns(r).players.length] = 49), // past n
      (r, at) => (columns(r).players[at % columns(r).players.length] = -1),
      (r, at) => (columns(r).values[at] = NaN),
      (r) => ((r.and as Columns).values = Array.from(columns(r).values)),
      (r) => (columns(r).starts = columns(r).starts.subarray(1)),
      (r) => (columns(r).starts[multi + 1] = columns(r).starts[multi] - 1), // a term ends before it starts
      (r) => (columns(r).players = columns(r).players.subarray(1)),
      (r) => ((r.and as Columns).shape = 7),
      (r) => ((r.salient as { kinds: Uint8Array }).kinds.fill(2)),
      (r) => ((r.salient as Columns).kinds = undefined),
      (r) => (r.and = null),
      (r, at) => ((r.or as { values: Float64Array }).values[at % (r.or as { values: Float64Array }).values.length] = Infinity),
      (r) => delete r.orders,
      (r) => delete r.indices.shapley,
      // parts every reader takes as they are: a row with one missing or of the wrong type ended every later run with
      // "unexpected error: Cannot read properties of undefined" (an adversarial sweep, stop 44)
      (r) => delete (r.indices as Record<string, unknown>).sii,
      (r) => ((r.indices as Record<string, unknown>).fbii = 'x'),
      (r) => ((r.orders as { positive: unknown }).positive = new Float64Array(1)),
      (r) => ((r as Record<string, unknown>).faithfulness = null),
      (r) => ((r as Record<string, unknown>).players = []),
      (r) => ((r as Record<string, unknown>).target = 'x'),
    ];
    const copy = (r: Stored): Stored => structuredClone(r);
    expect(restoreResult(unit, copy(stored), unit.key)).toBeDefined();
    // read under another key (a row copied over another's: row 0 gone and row 1 twice, exit 0; stop 44), it is none
    expect(restoreResult(unit, copy(stored), `${unit.key.slice(0, -1)}0`)).toBeUndefined();
    const { storedUnder: _key, ...unkeyed } = copy(stored) as Stored & { storedUnder?: string };
    expect(restoreResult(unit, unkeyed, unit.key)).toBeUndefined();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: damages.length - 1 }), fc.integer({ min: 0, max: and.values.length - 1 }), (kind, at) => {
        const damaged = copy(stored);
        damages[kind](damaged, at);
        expect(restoreResult(unit, damaged, unit.key), `damage ${kind} at ${at}`).toBeUndefined();
      }),
      { numRuns: 60 },
    );
  });

  it('of the sparse method gives back any lists of terms exactly through their columns (property)', async () => {
    const set = await loadSampleSet(model('patches-49.samples.json'));
    const options = { modality: 'image', grid: '7x7', method: 'sparse', budget: 1000, maxOrder: 2 } as const;
    const unit = explainUnit(await loadModelBytes(model('patches-49.onnx')), set.samples[0], 0, options, {});
    const result = await engine.explain({ ...options, model: unit.model.bytes, sample: unit.sample });
    const players = fc.uniqueArray(fc.integer({ min: 0, max: 48 }), { maxLength: 6 }).map((ps) => ps.sort((a, b) => a - b));
    const value = fc.double({ noNaN: true, noDefaultInfinity: true });
    const terms = fc.array(fc.record({ players, value }), { maxLength: 30 });
    const salient = fc.array(fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), players, value }), { maxLength: 30 });
    fc.assert(
      fc.property(terms, terms, salient, (and, or, sal) => {
        const given = { ...result, and, or, salient: sal } as typeof result;
        const back = restoreResult(unit, storeResult(unit.sample, given, unit.key), unit.key);
        expect(back).toBeDefined();
        type Listed = readonly { readonly value: number }[];
        for (const field of ['and', 'or', 'salient'] as const) {
          const [got, want] = [back![field] as unknown as Listed, given[field] as unknown as Listed];
          // −0 stays −0 in a column (JSON would give 0): compared as Object.is does
          expect(got.map((t) => ({ ...t, value: Object.is(t.value, -0) ? '-0' : t.value }))).toEqual(want.map((t) => ({ ...t, value: Object.is(t.value, -0) ? '-0' : t.value })));
          expect(got.map((t) => Object.keys(t).join())).toEqual(want.map((t) => Object.keys(t).join()));
        }
      }),
      { numRuns: 60 },
    );
  });
});
