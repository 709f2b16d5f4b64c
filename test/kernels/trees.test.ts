// The tree kernels of the sparse method's proxy (release and debug builds): the per-node, per-player residual sums
// against a plain loop over the same rows, the descent of rows one level down a tree against the same rule in
// JavaScript, and the whole boosting loop against a brute-force booster (every node's sums summed afresh from its
// rows, the same random stream from Rng). Word boundaries (n = 31, 32, 33, 70), skipped nodes and repeated rows are
// covered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../../dist/bindings/index.js';
import type { F64Buffer, KernelHost } from '../../engine/contracts/kernels.js';
import { proxyBytes } from '../../engine/analysis/sparse/proxy.js';
import { createRng } from '../../engine/analysis/sparse/random.js';
import { KERNEL_TARGETS, seededRng } from '../helpers/index.js';

/** A kernel buffer holding the given 32-bit values (i32 or u32). */
function upload32(kernels: KernelHost, values: ArrayLike<number>, signed: boolean): { buffer: F64Buffer } {
  const buffer = kernels.alloc(Math.max(1, Math.ceil(values.length / 2)));
  const memory = kernels.view(buffer).buffer;
  const view = signed ? new Int32Array(memory, buffer.ptr, values.length) : new Uint32Array(memory, buffer.ptr, values.length);
  view.set(Array.from(values));
  return { buffer };
}

describe.each(KERNEL_TARGETS)('tree kernels (%s)', (target) => {
  let kernels: KernelHost;
  beforeAll(async () => {
    kernels = await loadKernels(target);
  });
  afterAll(() => expect(kernels.bytesInUse).toBe(0));

  it.each([
    ['treeHistogramF64', 1, 5], ['treeHistogramF64', 31, 40], ['treeHistogramF64', 32, 64], ['treeHistogramF64', 33, 100], ['treeHistogramF64', 70, 257],
    ['treeNibblesF64', 1, 5], ['treeNibblesF64', 3, 40], ['treeNibblesF64', 31, 40], ['treeNibblesF64', 32, 64], ['treeNibblesF64', 33, 100], ['treeNibblesF64', 70, 257], ['treeNibblesF64', 130, 90],
  ])('%s over %i players and %i rows adds each listed row to its slot', (kernel, n, rows) => {
    const random = seededRng(n * 7919 + rows);
    const words = Math.ceil(n / 32);
    const bits = Uint32Array.from({ length: rows * words }, (_, k) => {
      const w = k % words;
      const valid = w === words - 1 && n % 32 !== 0 ? 2 ** (n % 32) - 1 : 0xffffffff;
      return Math.floor(random() * 2 ** 32) & valid;
    });
    const residual = Float64Array.from({ length: rows }, () => random() * 2 - 1);
    const nodes = 7;
    const nodeOf = Int32Array.from({ length: rows }, () => Math.floor(random() * nodes));
    // nodes 3..6 have slots 0..3, except node 5 (skipped); nodes 0..2 have none
    const slots = Int32Array.from([-1, -1, -1, 0, 1, -1, 3]);
    // a subset of the rows, one of them twice
    const list = Int32Array.from({ length: rows }, (_, r) => r).filter(() => random() < 0.7);
    const rowList = Int32Array.from([...list, list[0] ?? 0]);
    const expected = new Float64Array(2 * 4 * n);
    for (const r of rowList) {
      const slot = slots[nodeOf[r]];
      if (slot < 0) continue;
      for (let i = 0; i < n; i++) {
        if ((bits[r * words + (i >>> 5)] >>> (i & 31)) & 1) {
          expected[2 * (slot * n + i)] += residual[r];
          expected[2 * (slot * n + i) + 1] += 1;
        }
      }
    }
    const buffers = [
      upload32(kernels, bits, false).buffer,
      upload32(kernels, rowList, true).buffer,
      kernels.alloc(rows),
      upload32(kernels, nodeOf, true).buffer,
      upload32(kernels, slots, true).buffer,
      kernels.alloc(2 * 4 * n),
    ];
    try {
      const [b, l, res, node, slot, out] = buffers;
      kernels.view(res).set(residual);
      kernels.view(out).fill(0.5); // added to, not overwritten
      if (kernel === 'treeHistogramF64') {
        kernels.call('treeHistogramF64', b.ptr, words, n, l.ptr, rowList.length, res.ptr, node.ptr, slot.ptr, out.ptr);
      } else {
        // the table holds another call's leftovers: the kernel clears what it uses
        const table = kernels.alloc(kernels.call('treeTableF64', 4, words));
        try {
          kernels.view(table).fill(7.25);
          kernels.call('treeNibblesF64', b.ptr, words, n, l.ptr, rowList.length, res.ptr, node.ptr, slot.ptr, nodes, out.ptr, table.ptr);
        } finally {
          kernels.free(table);
        }
      }
      const got = kernels.view(out);
      for (let k = 0; k < expected.length; k++) expect(got[k]).toBeCloseTo(expected[k] + 0.5, 12);
    } finally {
      for (const buffer of buffers) kernels.free(buffer);
    }
  });

  it.each([[1, 1], [2, 13], [5, 64], [5, 4096], [3, 33]])("proxyBytes counts boostWorkF64's buffer at depth %i and %i players, and 200 trees", (depth, n) => {
    const nodes = 2 ** (depth + 1) - 1;
    expect(proxyBytes(n, depth)).toBe(8 * kernels.call('boostWorkF64', depth, n) + 12 * 200 * nodes);
    // the depth is capped at 5, whatever the order
    if (depth === 5) expect(proxyBytes(n, 9)).toBe(proxyBytes(n, 5));
  });

  it.each([[3, 10], [32, 50], [45, 300]])('treeDescendI32 over %i players and %i rows moves rows at split nodes to the child their bit names', (n, rows) => {
    const random = seededRng(n + 31 * rows);
    const words = Math.ceil(n / 32);
    const bits = Uint32Array.from({ length: rows * words }, () => Math.floor(random() * 2 ** 32));
    const nodes = 15;
    // split nodes 0..6 on random players; node 4 is a leaf (−1), node 6 no node (−2)
    const split = Int32Array.from({ length: nodes }, (_, k) => (k === 4 ? -1 : k === 6 || k > 6 ? -2 : Math.floor(random() * n)));
    const nodeOf = Int32Array.from({ length: rows }, () => Math.floor(random() * 7));
    const expected = Int32Array.from(nodeOf, (node, r) => {
      const player = split[node];
      return player < 0 ? node : 2 * node + 1 + ((bits[r * words + (player >>> 5)] >>> (player & 31)) & 1);
    });
    const b = upload32(kernels, bits, false);
    const rowsAt = upload32(kernels, nodeOf, true);
    const s = upload32(kernels, split, true);
    try {
      kernels.call('treeDescendI32', b.buffer.ptr, words, rows, rowsAt.buffer.ptr, s.buffer.ptr);
      // a fresh view: a later alloc may have grown the memory
      expect(Array.from(new Int32Array(kernels.view(rowsAt.buffer).buffer, rowsAt.buffer.ptr, rows))).toEqual(Array.from(expected));
    } finally {
      for (const buffer of [b.buffer, rowsAt.buffer, s.buffer]) kernels.free(buffer);
    }
  });

  // depth 3 on 12 players with a rule of two conjunctions plus noise; depth 2 on 33 players (two words); subsample 1
  // and a patience that stops the loop early
  it.each([
    { n: 12, rows: 300, depth: 3, maxTrees: 40, patience: 40, subsample: 0.8, chunk: 7, minGain: 0, minShare: 0 },
    { n: 33, rows: 200, depth: 2, maxTrees: 150, patience: 3, subsample: 1, chunk: 4, minGain: 0, minShare: 0 },
    { n: 5, rows: 80, depth: 4, maxTrees: 25, patience: 25, subsample: 0.5, chunk: 25, minGain: 0, minShare: 0 },
    // stops on gains of at most 1 % of the first held-out error over 10 trees (a share of 1, the whole error: that
    // alone), and on those of at most that and 5 % of the error itself
    { n: 12, rows: 300, depth: 3, maxTrees: 150, patience: 10, subsample: 0.8, chunk: 6, minGain: 0.01, minShare: 1 },
    { n: 12, rows: 300, depth: 3, maxTrees: 150, patience: 10, subsample: 0.8, chunk: 6, minGain: 0.01, minShare: 0.05 },
  ])('treeBoostF64 grows the trees, predictions and stop of a brute-force booster (n = $n, depth $depth, chunks of $chunk)', (c) => {
    const random = seededRng(c.n * 101 + c.rows);
    const words = Math.ceil(c.n / 32);
    const bits = Uint32Array.from({ length: c.rows * words }, (_, k) => Math.floor(random() * 2 ** 32) & (k % words === words - 1 && c.n % 32 !== 0 ? 2 ** (c.n % 32) - 1 : 0xffffffff));
    const has = (r: number, i: number) => ((bits[r * words + (i >>> 5)] >>> (i & 31)) & 1) === 1;
    const values = Float64Array.from({ length: c.rows }, (_, r) => 3 * +(has(r, 0) && has(r, 1)) - 2 * +(has(r, 2) && has(r, 3) && has(r, 4 % c.n)) + random() - 0.5);
    const order = Int32Array.from({ length: c.rows }, (_, r) => r).sort((a, b) => ((a * 7919) % 97) - ((b * 7919) % 97));
    const held = order.subarray(0, Math.floor(c.rows / 5));
    const train = order.subarray(held.length);
    const rate = 0.2;
    const minLeaf = 3;
    const mean = train.reduce((sum, r) => sum + values[r], 0) / train.length;
    const expected = referenceBoost({ ...c, has, values, train, held, rate, minLeaf, mean, seed: 17 });

    const nodes = 2 ** (c.depth + 1) - 1;
    const i32 = (length: number) => kernels.alloc(Math.ceil(length / 2));
    const b = upload32(kernels, bits, false).buffer;
    const t = upload32(kernels, train, true).buffer;
    const h = upload32(kernels, held, true).buffer;
    const [v, predicted, residual, nodeOf, rowList, work, splits, leaves, state] = [
      kernels.alloc(c.rows), kernels.alloc(c.rows), kernels.alloc(c.rows), i32(c.rows), i32(train.length), kernels.alloc(kernels.call('boostWorkF64', c.depth, c.n)),
      i32(c.maxTrees * nodes), kernels.alloc(c.maxTrees * nodes), kernels.alloc(6),
    ];
    try {
      kernels.view(v).set(values);
      kernels.view(predicted).fill(mean);
      const first = held.reduce((sum, r) => sum + (values[r] - mean) ** 2, 0) / held.length;
      kernels.view(state).set([0, first, 0, createRng(17).save(), first, 0]);
      let grown = 0;
      for (let calls = 0; calls < 100; calls++) {
        const before = grown;
        grown = kernels.call(
          'treeBoostF64', b.ptr, words, c.n, c.rows, v.ptr, predicted.ptr, residual.ptr, nodeOf.ptr, t.ptr, train.length, h.ptr, held.length, rowList.ptr,
          work.ptr, splits.ptr, leaves.ptr, state.ptr, c.depth, c.maxTrees, c.patience, rate, c.subsample, minLeaf, c.chunk, c.minGain * first, c.minShare,
        );
        if (grown < before + c.chunk) break;
      }
      const memory = kernels.view(state).buffer;
      expect(grown).toBe(expected.trees.length);
      const [count, best, bestCount] = kernels.view(state);
      expect([count, bestCount]).toEqual([expected.trees.length, expected.bestCount]);
      expect(best).toBeCloseTo(expected.best, 12);
      for (const [k, tree] of expected.trees.entries()) {
        expect(Array.from(new Int32Array(memory, splits.ptr + 4 * k * nodes, nodes)), `splits of tree ${k}`).toEqual(tree.split);
        const leaf = new Float64Array(memory, leaves.ptr + 8 * k * nodes, nodes);
        tree.value.forEach((value, node) => expect(leaf[node]).toBeCloseTo(value, 12));
      }
      kernels.view(predicted).forEach((p, r) => expect(p).toBeCloseTo(expected.predicted[r], 10));
      // the random stream went on where Rng's would
      expect(kernels.view(state)[3]).toBe(expected.stream);
    } finally {
      for (const buffer of [b, t, h, v, predicted, residual, nodeOf, rowList, work, splits, leaves, state]) kernels.free(buffer);
    }
    // the patience case stops before maxTrees, the others at it
    expect(expected.trees.length < c.maxTrees).toBe(c.patience < c.maxTrees);
    // the gain stop ends the loop before the stop on any gain would; with a share too, between the two
    if (c.minGain > 0) {
      const anyGain = referenceBoost({ ...c, minGain: 0, minShare: 0, has, values, train, held, rate, minLeaf, mean, seed: 17 }).trees.length;
      const gainOnly = c.minShare === 1 ? expected.trees.length : referenceBoost({ ...c, minShare: 1, has, values, train, held, rate, minLeaf, mean, seed: 17 }).trees.length;
      expect(gainOnly).toBeLessThan(anyGain);
      expect(expected.trees.length).toBeGreaterThanOrEqual(gainOnly);
      expect(expected.trees.length).toBeLessThanOrEqual(anyGain);
    }
  });
});

/** Stochastic gradient boosting by brute force: every node's sums over its rows, every row walked down every tree. */
function referenceBoost(c: {
  n: number; rows: number; depth: number; maxTrees: number; patience: number; subsample: number; rate: number; minLeaf: number; mean: number; seed: number; minGain: number; minShare: number;
  has: (r: number, i: number) => boolean; values: Float64Array; train: Int32Array; held: Int32Array;
}) {
  const rng = createRng(c.seed);
  const nodes = 2 ** (c.depth + 1) - 1;
  const predicted = new Float64Array(c.rows).fill(c.mean);
  const heldError = () => c.held.reduce((sum, r) => sum + (c.values[r] - predicted[r]) ** 2, 0) / c.held.length;
  const trees: { split: number[]; value: number[] }[] = [];
  let best = heldError();
  let bestCount = 0;
  let mark = best;
  let markCount = 0;
  const minGain = c.minGain * best;
  const leafOf = (split: number[], r: number) => {
    let node = 0;
    while (node < nodes && split[node] >= 0) node = 2 * node + 1 + +c.has(r, split[node]);
    return node;
  };
  while (trees.length < c.maxTrees && trees.length - markCount < c.patience) {
    const residual = Float64Array.from(c.values, (value, r) => value - predicted[r]);
    let list = Array.from(c.train).filter(() => rng.uniform() < c.subsample);
    if (list.length < 2 * c.minLeaf) list = Array.from(c.train);
    const split = new Array<number>(nodes).fill(-2);
    split[0] = -1;
    for (let level = 0; level < c.depth; level++) {
      const grown: number[] = [];
      for (let node = 2 ** level - 1; node < 2 ** (level + 1) - 1; node++) {
        const mine = list.filter((r) => leafOf(split, r) === node);
        if (split[node] !== -1 || mine.length < 2 * c.minLeaf) continue;
        const s = mine.reduce((sum, r) => sum + residual[r], 0);
        let bestGain = (1e-12 * s * s) / mine.length;
        let player = -1;
        for (let i = 0; i < c.n; i++) {
          const present = mine.filter((r) => c.has(r, i));
          const c1 = present.length;
          const c0 = mine.length - c1;
          if (c1 < c.minLeaf || c0 < c.minLeaf) continue;
          const s1 = present.reduce((sum, r) => sum + residual[r], 0);
          const gain = (s1 * s1) / c1 + ((s - s1) * (s - s1)) / c0 - (s * s) / mine.length;
          if (gain > bestGain) [bestGain, player] = [gain, i];
        }
        if (player >= 0) grown.push(node, player);
      }
      for (let k = 0; k < grown.length; k += 2) {
        split[grown[k]] = grown[k + 1];
        split[2 * grown[k] + 1] = split[2 * grown[k] + 2] = -1;
      }
      if (grown.length === 0) break;
    }
    const value = split.map((player, node) => {
      const mine = list.filter((r) => leafOf(split, r) === node);
      return player === -1 && mine.length > 0 ? (c.rate * mine.reduce((sum, r) => sum + residual[r], 0)) / mine.length : 0;
    });
    trees.push({ split, value });
    for (let r = 0; r < c.rows; r++) predicted[r] += value[leafOf(split, r)];
    const error = heldError();
    if (error < best) [best, bestCount] = [error, trees.length];
    if (error < mark - Math.min(minGain, c.minShare * mark)) [mark, markCount] = [error, trees.length];
  }
  return { trees, predicted, best, bestCount, stream: rng.save() };
}
