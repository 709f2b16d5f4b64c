// `dynamics` by the sparse method: every pair's term lists are laid over one index of the sets the run's pairs hold,
// and every measure but the theory reads them as it reads 2^n arrays. Checked against the same pairs as 2^n arrays
// (aggregateDynamics over masks), on all 30 features of the breast-cancer series (beyond the exact method), through
// the cache, the schema, the report and the memory limit.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicsResultSchema } from '../../dist/engine/contracts/schema/results.js';
import { aggregateDynamics, type PairRecord } from '../../dist/engine/studies/dynamics.js';
import { renderReport } from '../../dist/engine/report/index.js';
import { MemoryLimitError, createEngine, dynamicsToJson, expectClose, loadSampleSet, model, seriesSamples, type Engine, type SparseResult } from '../helpers/index.js';

const SERIES = model('bc-mlp-series');
const CHECKPOINTS = ['epoch-0000', 'epoch-0016', 'epoch-1024'].map((c) => join(SERIES, `${c}.onnx`));
const REFERENCE = join(SERIES, 'reference-0.onnx');

/** A sparse pair as 2^n arrays by mask (a set it does not list is 0). */
function denseRecord(r: SparseResult): PairRecord {
  const lay = (terms: SparseResult['and']) => {
    const out = new Float64Array(2 ** r.n);
    for (const t of terms) out[t.players.reduce((m, p) => m | (1 << p), 0)] = t.value;
    return out;
  };
  // its AND and OR terms are each a whole expansion of v, as a sparse pair's are
  return { and: lay(r.and), or: lay(r.or), whole: true, threshold: r.threshold, positive: r.orders.positive, negative: r.orders.negative, output: r.values.full, players: r.players, salientCount: r.salient.length };
}

/** Equal within 1e-12, NaN where the other is NaN (a measure undefined at an order, e.g. cancellation at ∅). */
function expectSame(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number): void {
  const [a, b] = [actual, expected].map((x) => (typeof x === 'number' ? [x] : Array.from(x)));
  expect(a.map(Number.isNaN)).toEqual(b.map(Number.isNaN));
  expectClose(a.map((x) => (Number.isNaN(x) ? 0 : x)), b.map((x) => (Number.isNaN(x) ? 0 : x)), { atol: 1e-12 });
}

describe('dynamics by the sparse method', () => {
  let engine: Engine;
  let dir: string;
  let samples: string;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2, threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'andor-sparse-dyn-'));
    samples = await seriesSamples(SERIES, join(dir, 'samples.json'));
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  it('gives every measure but the theory the values of the same pairs as 2^n arrays', async () => {
    // budget 2^6: every mask evaluated, every Möbius term of v and of its complement listed (zeros left out)
    const options = { players: '0-5', method: 'sparse', budget: 64, maxOrder: 6 } as const;
    const losses = JSON.parse(await readFile(join(SERIES, 'losses.json'), 'utf8'));
    const sparse = await engine.dynamics({ checkpoints: CHECKPOINTS, samples, losses, referenceModels: [REFERENCE], ...options, cacheDir: false });
    expect(sparse.method).toBe('sparse');
    expect(sparse.theory).toBeNull();
    expect(sparse.checkpoints.every((c) => c.theory === undefined && c.pairwise === undefined)).toBe(true);

    // the same pairs, by mask, through the exact path's aggregation
    const set = await loadSampleSet(samples);
    const rowsOf = (splits: string[]) => set.samples.map((s, i) => (splits.includes(s.split ?? 'test') ? i : -1)).filter((i) => i >= 0);
    const pairsOf = async (file: string, rows: number[]) => {
      const batch = await engine.explainBatch({ model: file, samples: set, rows: rows.join(','), ...options, cacheDir: false });
      const records: (PairRecord | undefined)[] = set.samples.map(() => undefined);
      rows.forEach((row, k) => (records[row] = denseRecord(batch.results![k])));
      return records;
    };
    const all = rowsOf(['train', 'test', 'ood']);
    const dense = aggregateDynamics({
      checkpoints: await Promise.all(CHECKPOINTS.map(async (file, i) => ({ file, sha256: sparse.checkpoints[i].sha256, records: await pairsOf(file, all) }))),
      references: [await pairsOf(REFERENCE, rowsOf(['train', 'test']))],
      samples: set.samples, losses, gapTolerance: 0.02, salientRatio: 0.05,
    });
    expect(dense.method).toBe('exact');
    expect(sparse.turningPoint).toBe(dense.turningPoint);
    sparse.checkpoints.forEach((c, t) => {
      const d = dense.checkpoints[t];
      expectSame(c.orders.positive, d.orders.positive);
      expectSame(c.orders.negative, d.orders.negative);
      expectSame(c.kappa, d.kappa);
      expectSame(c.ood!.normalized, d.ood!.normalized);
      expectSame(c.jaccard!, d.jaccard!);
      expectSame(c.cancellation, d.cancellation);
      expectSame(c.generalization!.generalizable, d.generalization!.generalizable);
      expectSame(c.generalization!.nonGeneralizable, d.generalization!.nonGeneralizable);
      expectSame(c.generalization!.ratio, d.generalization!.ratio);
      for (const split of Object.keys(d.generalization!.loss)) expectSame(Object.values(c.generalization!.loss[split]), Object.values(d.generalization!.loss[split]));
    });
    sparse.transitions.forEach((tr, t) => {
      for (const part of ['preserved', 'removed', 'emerged'] as const) {
        expectSame(tr[part].count, dense.transitions[t][part].count);
        expectSame(tr[part].strength, dense.transitions[t][part].strength);
      }
    });
    // something moved between checkpoints, so the transitions compare more than zeros
    expect(sparse.transitions.some((tr) => tr.emerged.count.some((x) => x > 0) && tr.removed.count.some((x) => x > 0))).toBe(true);
  });

  it('rebuilds v from the mean of its AND and OR expansions for the losses, not from their sum (2v)', async () => {
    // budget 2^4: every term of both expansions, each summing to v(N); salient ratio 0: every non-zero term is salient,
    // so the loss from the salient terms is the loss of the output (as the exact method's AND + OR gives it)
    const losses = JSON.parse(await readFile(join(SERIES, 'losses.json'), 'utf8'));
    const r = await engine.dynamics({
      checkpoints: CHECKPOINTS.slice(-1), samples, losses, referenceModels: [REFERENCE], players: '0-3', method: 'sparse', budget: 16, maxOrder: 4, salientRatio: 0, cacheDir: false,
    });
    const { loss } = r.checkpoints[0].generalization!;
    for (const split of ['train', 'test']) expectClose([loss[split].salient], [loss[split].output], { atol: 1e-9 });
  });

  it('follows all 30 features of the series, beyond the exact method, and a rerun comes from the cache', async () => {
    const cacheDir = join(dir, 'cache');
    const request = { checkpoints: CHECKPOINTS, samples, losses: join(SERIES, 'losses.json'), referenceModels: [REFERENCE], method: 'sparse', budget: 1500, maxOrder: 3, cacheDir } as const;
    const r = await engine.dynamics(request);
    expect(r.n).toBe(30);
    expect(r.pairs).toEqual({ computed: 3 * 8 + 6, cached: 0 });
    for (const [t, tr] of r.transitions.entries()) {
      // every salient interaction at `to` is preserved or emerged: their strength is that checkpoint's salient strength
      const to = r.checkpoints[tr.to];
      const salient = Float64Array.from(to.orders.positive, (p, k) => (k === 0 ? 0 : p - to.orders.negative[k]));
      expectClose(Float64Array.from(tr.preserved.strength, (x, k) => x + tr.emerged.strength[k]), salient, { atol: 1e-9 });
      expect(tr.from).toBe(t);
    }
    const last = r.checkpoints.at(-1)!;
    // orders 1..3 are recovered and compared; above maxOrder there is nothing to compare
    expect(Array.from(last.jaccard!.slice(1, 4)).every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(Array.from(last.jaccard!.slice(4)).every(Number.isNaN)).toBe(true);
    expect(last.generalization!.ratio).toBeGreaterThan(0);
    expect(last.generalization!.ratio).toBeLessThanOrEqual(1);
    expect(r.checkpoints[1].kappa).toBeLessThan(r.checkpoints[0].kappa);

    const json = JSON.parse(JSON.stringify(dynamicsToJson(r)));
    expect([...Compile(DynamicsResultSchema).Errors(json)]).toEqual([]);
    expect(json.method).toBe('sparse');
    expect(json.theory).toBeNull();
    const html = renderReport(json);
    expect(html).toContain('This run used the sparse method');
    expect(html).toContain('the per-order charts stop at order 3, the highest recovered');
    expect(html).not.toContain('id="theory"');

    const again = await engine.dynamics(request);
    expect(again.pairs).toEqual({ computed: 0, cached: 30 });
    expect(again.checkpoints.map((c) => c.kappa)).toEqual(r.checkpoints.map((c) => c.kappa));
  });

  it('says which limit the sparse pairs\' vectors exceed, and what to lower', async () => {
    // each pair's explanation fits 16 MiB (about 10, its fits' masks and Gram counted since stop 36: 1 MiB now stops
    // the first pair), the 24 pairs' vectors over the 68 599 sets they hold (26 MiB) do not
    const small = await createEngine({ workers: 0, threads: 1, maxMemoryMb: 16 });
    try {
      await expect(small.dynamics({ checkpoints: CHECKPOINTS, samples, method: 'sparse', budget: 4000, maxOrder: 5, cacheDir: false })).rejects.toSatisfy(
        (error: Error) => error instanceof MemoryLimitError && /distinct sets; laid over them, the 24 pairs' AND and OR vectors need \d+ MiB, over the 16 MiB limit \(maxMemoryMb\)\. Lower maxOrder or the budget/.test(error.message),
      );
    } finally {
      await small.dispose();
    }
  });
});
