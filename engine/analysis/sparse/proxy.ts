// The tree proxy of an auto search: gradient-boosted regression trees fitted to the game on evaluated masks (the
// caller's choice: random ones, and the search's), whose exact Möbius expansion is read off the trees. A trained model's game is a dense spread of terms of many
// orders that no term-by-term search finds, but it is a simple function of which players are present (a few shapes,
// a few conjunctions); shallow trees fit it from few masks, and a tree of depth d is a polynomial of order ≤ d.
// see: Butler, Kang, Agarwal, Erginbas, Yu, Ramchandran, "ProxySPEX: Inference-Efficient Interpretability via
// Sparse Feature Interactions in LLMs" (NeurIPS 2025, arXiv 2505.17495).
//
// - Trees. Each split is on one player (present or absent), chosen by the reduction of squared error over the rows
//   of its node. One pass over the rows per level accumulates every node's per-player residual sums from the masks'
//   bits (the kernel treeHistogramF64), for the smaller child of each split only: the larger one's are its parent's
//   minus its sibling's. Stochastic boosting (a share of the rows per tree, shrinkage), stopped on rows held out of
//   the fit.
// - Readout. A tree is T = T₀ + x_i (T₁ − T₀) at a split on i (T₀ its absent branch, T₁ its present one), so its
//   Möbius expansion is M(T₀) plus x_i times M(T₁) − M(T₀), recursively: exact, every order ≤ depth.
// Why not a library: ml-cart and the other npm tree learners sort numeric features per split and hide their trees;
// here every feature is one bit, the sums come from the bitsets, and the readout needs the trees' structure.
import type { F64Buffer, KernelHost } from '../../contracts/kernels.js';
import type { Rng } from './random.js';
import { TermStore } from './terms.js';
import type { FitSet } from './types.js';

/** Deepest tree; also the highest order of the expansion (at most maxOrder). */
const DEPTH = 5;
/** Most trees (by default), shrinkage of each, and the share of the fit rows each tree is grown on. */
const MAX_TREES = 200;
const LEARNING_RATE = 0.2;
const SUBSAMPLE = 0.8;
/** A split leaves at least this many rows on each side. */
const MIN_LEAF = 3;
/** Share of the rows held out to stop the boosting, and the trees without a better held-out error that stop it. */
const STOP_SHARE = 0.15;
const PATIENCE = 20;
/** Fewest fit rows for a proxy. */
export const MIN_PROXY_ROWS = 64;
/** Most (row · player) visits of the split search over all trees: the trees are cut to stay within it. */
const WORK = 4e8;

/** One tree in heap order: node k's children are 2k+1 (player absent) and 2k+2 (present). A row at a node of a
 *  level the tree stopped growing at keeps that node: unsplit nodes are leaves. */
interface Tree {
  /** Player of each split node; −1 at a leaf; −2 for no node. */
  readonly split: Int32Array;
  /** Value of each leaf (shrinkage applied). */
  readonly value: Float64Array;
}

/**
 * Gradient-boosted trees fitted to the fit set, as their Möbius expansion.
 * @param kernels - the compiled kernels (the split sums)
 * @param fit - evaluated masks and the game's values (any distribution: trees need no uniform sample)
 * @param maxOrder - the expansion's order cap (the trees' depth is at most this)
 * @param rng - randomness of the row subsamples and the stop split
 * @param pause - awaited between trees (GameOracle.pause: cancellation, and other work's turn)
 * @param most - the most trees (MAX_TREES)
 * @returns the terms, or undefined when the fit set is too small
 * @throws MemoryLimitError when the kernels' memory cannot hold the masks; whatever pause throws
 */
export async function fitProxy(kernels: KernelHost, fit: FitSet, maxOrder: number, rng: Rng, pause: () => Promise<void>, most = MAX_TREES): Promise<TermStore | undefined> {
  const { masks, values } = fit;
  const rows = masks.count;
  const depth = Math.min(DEPTH, maxOrder);
  if (rows < MIN_PROXY_ROWS || depth < 1) return undefined;
  // the stop rows: a random STOP_SHARE of them
  const order = Int32Array.from({ length: rows }, (_, r) => r);
  for (let r = rows - 1; r > 0; r--) {
    const k = rng.below(r + 1);
    [order[r], order[k]] = [order[k], order[r]];
  }
  const stopCount = Math.max(1, Math.floor(STOP_SHARE * rows));
  const held = order.subarray(0, stopCount);
  const train = order.subarray(stopCount);
  let mean = 0;
  for (const r of train) mean += values[r];
  mean /= train.length;
  const predicted = new Float64Array(rows).fill(mean);
  const maxTrees = Math.max(1, Math.min(most, Math.floor(WORK / (train.length * masks.n * depth))));
  const trees: Tree[] = [];
  let best = heldError(held, values, predicted);
  let bestCount = 0;
  const grower = new Grower(kernels, masks, depth);
  try {
    for (let t = 0; t < maxTrees && t - bestCount < PATIENCE; t++) {
      await pause();
      grower.attach();
      const { residual, rowList } = grower;
      for (let r = 0; r < rows; r++) residual[r] = values[r] - predicted[r];
      let count = 0;
      for (let k = 0; k < train.length; k++) if (rng.uniform() < SUBSAMPLE) rowList[count++] = train[k];
      if (count < 2 * MIN_LEAF) {
        rowList.set(train);
        count = train.length;
      }
      const tree = grower.grow(count);
      trees.push(tree);
      const leaf = grower.nodeOf;
      for (let r = 0; r < rows; r++) predicted[r] += tree.value[leaf[r]];
      const error = heldError(held, values, predicted);
      if (error < best) {
        best = error;
        bestCount = trees.length;
      }
    }
  } finally {
    grower.release();
  }
  const terms = new Map<string, number>([['', mean]]);
  for (const tree of trees.slice(0, bestCount)) expand(tree, 0, terms, 1, '');
  const store = new TermStore();
  for (const [key, value] of terms) if (value !== 0) store.addKey(key, value);
  return store;
}

/** Mean squared error on the held rows. */
function heldError(held: Int32Array, values: Float64Array, predicted: Float64Array): number {
  let sum = 0;
  for (const r of held) sum += (values[r] - predicted[r]) ** 2;
  return sum / held.length;
}

/** Grows trees on one set of masks; its buffers live in the kernels' memory until release(). Another computation
 *  may allocate in that memory while a fit pauses (a growth detaches every view): attach() makes the views anew. */
class Grower {
  /** The rows of the next tree (the first `count`), and every row's residual: written by the caller. */
  rowList!: Int32Array;
  residual!: Float64Array;
  /** Every row's node; after grow(), its leaf in the new tree. */
  nodeOf!: Int32Array;
  private readonly nodes: number;
  private readonly n: number;
  private readonly buffers: F64Buffer[];
  private readonly pointers: { bits: number; rowList: number; residual: number; nodeOf: number; slots: number; split: number; out: number };
  private slots!: Int32Array;
  private split!: Int32Array;
  /** (sum, count) per node of the level and player, from the kernel; the parent level's copied beside them. */
  private out!: Float64Array;
  private readonly parent: Float64Array;
  private readonly cells: number;

  constructor(
    private readonly kernels: KernelHost,
    private readonly masks: FitSet['masks'],
    private readonly depth: number,
  ) {
    const { n, count, words } = masks;
    this.n = n;
    this.nodes = 2 ** (depth + 1) - 1;
    this.cells = 2 * 2 ** (depth - 1) * n;
    const sizes = [Math.ceil((count * words) / 2), Math.ceil(count / 2), count, Math.ceil(count / 2), Math.ceil(this.nodes / 2), Math.ceil(this.nodes / 2), this.cells];
    this.buffers = [];
    try {
      for (const size of sizes) this.buffers.push(kernels.alloc(size));
    } catch (error) {
      this.release();
      throw error;
    }
    const [bits, rowList, residual, nodeOf, slots, split, out] = this.buffers.map((b) => b.ptr);
    this.pointers = { bits, rowList, residual, nodeOf, slots, split, out };
    this.attach();
    new Uint32Array(this.residual.buffer, bits, count * words).set(masks.bits.subarray(0, count * words));
    this.parent = new Float64Array(this.cells);
  }

  /** The views over the kernels' memory, made anew when a growth of that memory has detached them. */
  attach(): void {
    const memory = this.kernels.view(this.buffers[0]).buffer;
    if (this.residual?.buffer === memory) return;
    const { count } = this.masks;
    const p = this.pointers;
    this.rowList = new Int32Array(memory, p.rowList, count);
    this.residual = new Float64Array(memory, p.residual, count);
    this.nodeOf = new Int32Array(memory, p.nodeOf, count);
    this.slots = new Int32Array(memory, p.slots, this.nodes);
    this.split = new Int32Array(memory, p.split, this.nodes);
    this.out = new Float64Array(memory, p.out, this.cells);
  }

  release(): void {
    for (const buffer of this.buffers.splice(0)) this.kernels.free(buffer);
  }

  /** One tree of the residuals on the first `count` rows of rowList, level by level; leaves hold their mean times the
   *  shrinkage. */
  grow(count: number): Tree {
    const { masks, depth, nodeOf, slots, split, out, parent, rowList, residual, n } = this;
    const p = this.pointers;
    split.fill(-2);
    nodeOf.fill(0);
    const total = new Float64Array(this.nodes);
    const size = new Int32Array(this.nodes);
    // the node whose rows are summed directly: the root, then the smaller child of each split
    const direct = new Uint8Array(this.nodes);
    split[0] = -1;
    direct[0] = 1;
    for (let k = 0; k < count; k++) {
      const r = rowList[k];
      total[0] += residual[r];
      size[0]++;
    }
    for (let level = 0; level < depth; level++) {
      const first = (1 << level) - 1;
      const width = 1 << level;
      slots.fill(-1);
      for (let k = 0; k < width; k++) if (split[first + k] === -1 && direct[first + k] === 1) slots[first + k] = k;
      out.fill(0, 0, 2 * width * n);
      this.kernels.call('treeHistogramF64', p.bits, masks.words, n, p.rowList, count, p.residual, p.nodeOf, p.slots, p.out);
      for (let k = 0; k < width; k++) {
        const node = first + k;
        if (split[node] !== -1 || direct[node] === 1) continue;
        // the larger child: its parent's sums minus its sibling's
        const sibling = node % 2 === 1 ? node + 1 : node - 1;
        const from = 2 * n * (((node - 1) >> 1) - ((1 << (level - 1)) - 1));
        const other = 2 * n * (sibling - first);
        const at = 2 * n * k;
        for (let i = 0; i < 2 * n; i++) out[at + i] = parent[from + i] - out[other + i];
      }
      let grew = false;
      for (let k = 0; k < width; k++) {
        const node = first + k;
        if (split[node] !== -1 || size[node] < 2 * MIN_LEAF) continue;
        const player = bestSplit(out, 2 * n * k, n, total[node], size[node]);
        if (player < 0) continue;
        split[node] = player;
        const absent = 2 * node + 1;
        const present = 2 * node + 2;
        split[absent] = split[present] = -1;
        total[present] = out[2 * (n * k + player)];
        size[present] = Math.round(out[2 * (n * k + player) + 1]);
        total[absent] = total[node] - total[present];
        size[absent] = size[node] - size[present];
        direct[size[present] <= size[absent] ? present : absent] = 1;
        grew = true;
      }
      if (!grew) break;
      parent.set(out.subarray(0, 2 * width * n));
      this.kernels.call('treeDescendI32', p.bits, masks.words, masks.count, p.nodeOf, p.split);
    }
    const value = new Float64Array(this.nodes);
    for (let node = 0; node < this.nodes; node++) if (split[node] === -1 && size[node] > 0) value[node] = (LEARNING_RATE * total[node]) / size[node];
    return { split: Int32Array.from(split), value };
  }
}

/** The player whose split of a node most reduces the squared error (−1: none leaves MIN_LEAF rows on both sides);
 *  cells: (sum, count) pairs per player from `at`. */
function bestSplit(cells: Float64Array, at: number, n: number, s: number, c: number): number {
  let bestGain = (1e-12 * (s * s)) / c;
  let best = -1;
  for (let i = 0; i < n; i++) {
    const c1 = Math.round(cells[at + 2 * i + 1]);
    const c0 = c - c1;
    if (c1 < MIN_LEAF || c0 < MIN_LEAF) continue;
    const s1 = cells[at + 2 * i];
    const s0 = s - s1;
    const gain = (s1 * s1) / c1 + (s0 * s0) / c0 - (s * s) / c;
    if (gain > bestGain) {
      bestGain = gain;
      best = i;
    }
  }
  return best;
}

/**
 * Adds the Möbius expansion of the subtree at node to terms: a leaf is its value on ∅; a split on i is M(absent) +
 * x_i·(M(present) − M(absent)). A player splits at most once on a path (a second split on it would leave one side
 * empty), so i is in no support below.
 * @param terms - support key (one char per player, ascending) → coefficient, added to
 * @param sign - ±1: the subtree's weight in the expansion
 * @param prefix - the players every support of this subtree gets (ascending key)
 */
function expand(tree: Tree, node: number, terms: Map<string, number>, sign: number, prefix: string): void {
  const player = tree.split[node];
  if (player < 0) {
    const value = tree.value[node];
    if (value !== 0) terms.set(prefix, (terms.get(prefix) ?? 0) + sign * value);
    return;
  }
  // T = T₀ + x_i·T₁ − x_i·T₀
  const withPlayer = insertPlayer(prefix, player);
  expand(tree, 2 * node + 1, terms, sign, prefix);
  expand(tree, 2 * node + 2, terms, sign, withPlayer);
  expand(tree, 2 * node + 1, terms, -sign, withPlayer);
}

/** A key with one more player, kept ascending. */
function insertPlayer(key: string, player: number): string {
  let at = 0;
  while (at < key.length && key.charCodeAt(at) < player) at++;
  return key.slice(0, at) + String.fromCharCode(player) + key.slice(at);
}
