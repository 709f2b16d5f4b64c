// The tree proxy of an auto search: gradient-boosted regression trees fitted to the game on evaluated masks (the
// caller's choice: random ones, and the search's), whose exact Möbius expansion is read off the trees. A trained
// model's game is a dense spread of terms of many orders that no term-by-term search finds, but it is a simple
// function of which players are present (a few shapes, a few conjunctions); shallow trees fit it from few masks, and a
// tree of depth d is a polynomial of order ≤ d.
// see: Butler, Kang, Agarwal, Erginbas, Yu, Ramchandran, "ProxySPEX: Inference-Efficient Interpretability via
// Sparse Feature Interactions in LLMs" (NeurIPS 2025, arXiv 2505.17495).
//
// - Trees. Each split is on one player (present or absent), chosen by the reduction of squared error over the rows
//   of its node. One pass over the rows per level accumulates every node's per-player residual sums from the masks'
//   bits (the kernel treeNibblesF64, by nibble tables), for the smaller child of each split only: the larger one's
//   are its parent's minus its sibling's. Stochastic boosting (a share of the rows per tree, shrinkage), stopped on
//   rows held out of the fit. The whole loop runs in the kernels (treeBoostF64), CALL_WORK per call: in JavaScript,
//   a process's first fits ran 2–4× slower than its later ones, interpreted until V8 optimized them.
// - Readout. A tree is T = T₀ + x_i (T₁ − T₀) at a split on i (T₀ its absent branch, T₁ its present one), so its
//   Möbius expansion is M(T₀) plus x_i times M(T₁) − M(T₀), recursively: exact, every order ≤ depth.
// Why not a library: ml-cart and the other npm tree learners sort numeric features per split and hide their trees;
// here every feature is one bit, the sums come from the bitsets, and the readout needs the trees' structure.
import type { F64Buffer, KernelHost } from '../../contracts/kernels.js';
import type { Rng } from './random.js';
import { TermStore } from './terms.js';
import type { FitSet, FlatTerms } from './types.js';

/** Deepest tree; also the highest order of the expansion (at most maxOrder). */
const DEPTH = 5;
/** Most trees (by default), shrinkage of each, and the share of the fit rows each tree is grown on. */
const MAX_TREES = 200;
const LEARNING_RATE = 0.2;
const SUBSAMPLE = 0.8;
/** A split leaves at least this many rows on each side. */
const MIN_LEAF = 3;
/** Share of the rows held out to stop the boosting, and the trees that stop it when together they lower the held-out
 *  error by no more than MIN_GAIN of the game's variance (an R² gain; see fitProxy's variance) and no more than
 *  MIN_SHARE of the error itself: a game the trees can represent still converges (its error falls by a factor each
 *  few trees), and a dense one stops on its plateau instead of growing every tree for a few 10⁻⁵ of R². Without
 *  MIN_GAIN the bundled models' fits grew 195–199 of 200 trees. */
const STOP_SHARE = 0.15;
const PATIENCE = 20;
const MIN_GAIN = 1e-4;
const MIN_SHARE = 0.1;
/** Fewest fit rows for a proxy. */
export const MIN_PROXY_ROWS = 64;
/** Most (row · player) visits of the split search over all trees: the trees are cut to stay within it, down to
 *  MIN_TREES. */
const WORK = 4e8;
/** Fewest trees, whatever the work: with WORK alone the trees fell as the rows grew, so that more evaluations fitted
 *  worse (patches-49 in 28×28 cells, n = 784: 16 trees and R² 0.58 at 10⁴ evaluations, 140 trees 0.72; see
 *  adaptive.ts, FIT_MASKS_PER_PLAYER). Its cost then grows with rows · n: at n = 784 the run's time outside the game
 *  calls is 0.55 s at 10⁴ evaluations and 3.5 s at 5·10⁴ (`node bench/sparse-real.bench.js` part 5, run 35). */
const MIN_TREES = 50;
/** Most (row · player) visits of one kernel call, between two pauses (a few ms here); at least one tree a call. */
const CALL_WORK = 1e7;
/** The length of treeBoostF64's state (f64). */
const BOOST_STATE = 6;

/**
 * Bytes of the kernels' memory one proxy's boosting holds besides its copy of the rows: its work buffer (the kernels'
 * boostWorkF64: per node and player of the widest level the split sums, and the nibble tables of treeNibblesF64,
 * 16 · 2 KiB per 32 players at depth 5) and its trees.
 * @param n - players
 * @param maxOrder - the expansion's order cap (the trees' depth is at most it)
 */
export function proxyBytes(n: number, maxOrder: number): number {
  const depth = Math.min(DEPTH, maxOrder);
  if (depth < 1) return 0;
  const nodes = 2 ** (depth + 1) - 1;
  const work = nodes + 2 * 2 ** depth * n + ((3 * nodes + 1) >> 1) + 1 + 2 ** (depth - 1) * (256 * Math.ceil(n / 32) + 2);
  return 8 * work + 12 * MAX_TREES * nodes;
}

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
 * @param pause - awaited between the kernel calls (GameOracle.pause: cancellation, and other work's turn)
 * @param variance - what the gains that go on growing trees are shares of (MIN_GAIN): the variance of the game's
 *   values where the fit's are what a cube leaves of them (fits.ts), else the fit's own held-out error before the
 *   first tree
 * @returns the terms, or undefined when the fit set is too small
 * @throws MemoryLimitError when the kernels' memory cannot hold the masks; whatever pause throws
 */
export async function fitProxy(kernels: KernelHost, fit: FitSet, maxOrder: number, rng: Rng, pause: () => Promise<void>, variance?: number): Promise<TermStore | undefined> {
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
  const maxTrees = Math.min(MAX_TREES, Math.max(MIN_TREES, Math.floor(WORK / (train.length * masks.n * depth))));
  const perCall = Math.max(1, Math.floor(CALL_WORK / (train.length * masks.n * depth)));
  const booster = new Booster(kernels, fit, depth, train, held, maxTrees);
  let trees: Tree[];
  try {
    booster.start(mean, rng, variance);
    while (booster.growing) {
      await pause();
      booster.grow(perCall);
    }
    rng.restore(booster.stream);
    trees = booster.trees();
  } finally {
    booster.release();
  }
  const terms = new Map<string, number>([['', mean]]);
  for (const tree of trees) expand(tree, 0, terms, 1, '');
  // distinct supports by construction: flat arrays straight from the keys, no key map built for them
  let count = 0;
  let players = 0;
  for (const [key, value] of terms) {
    if (value === 0) continue;
    count++;
    players += key.length;
  }
  const flat: FlatTerms = { offsets: new Int32Array(count + 1), flat: new Int32Array(players), values: new Float64Array(count) };
  let t = 0;
  for (const [key, value] of terms) {
    if (value === 0) continue;
    const start = flat.offsets[t];
    for (let k = 0; k < key.length; k++) flat.flat[start + k] = key.charCodeAt(k);
    flat.offsets[t + 1] = start + key.length;
    flat.values[t++] = value;
  }
  return TermStore.fromDistinct(flat);
}

/** The boosting loop in the kernels (treeBoostF64), its buffers in their memory until release(). Another computation
 *  may allocate in that memory while a fit pauses (a growth detaches every view): each step makes its views anew. */
class Booster {
  private readonly nodes: number;
  private readonly buffers: F64Buffer[] = [];
  private readonly p: Record<'bits' | 'values' | 'predicted' | 'residual' | 'nodeOf' | 'train' | 'held' | 'rowList' | 'work' | 'splits' | 'leaves' | 'state', number>;
  /** Trees grown so far, and whether the loop goes on. */
  private grown = 0;
  /** The least gain of held-out error that goes on growing trees (MIN_GAIN). */
  private minGain = 0;
  growing = true;

  constructor(
    private readonly kernels: KernelHost,
    private readonly fit: FitSet,
    private readonly depth: number,
    private readonly train: Int32Array,
    private readonly held: Int32Array,
    private readonly maxTrees: number,
  ) {
    const { n, count, words } = fit.masks;
    this.nodes = 2 ** (depth + 1) - 1;
    const half = (int32s: number) => Math.ceil(int32s / 2);
    const sizes = {
      bits: half(count * words), values: count, predicted: count, residual: count, nodeOf: half(count), train: half(train.length),
      held: half(held.length), rowList: half(train.length), work: kernels.call('boostWorkF64', depth, n), splits: half(maxTrees * this.nodes),
      leaves: maxTrees * this.nodes, state: BOOST_STATE,
    };
    const pointers: Record<string, number> = {};
    try {
      for (const [name, size] of Object.entries(sizes)) {
        const buffer = kernels.alloc(Math.max(1, size));
        this.buffers.push(buffer);
        pointers[name] = buffer.ptr;
      }
    } catch (error) {
      this.release();
      throw error;
    }
    this.p = pointers as Booster['p'];
  }

  /** Copies the masks, values and row lists in, every prediction at `mean`, the stream at rng's state; the gains that
   *  go on are shares of `variance` (default: the held-out error before the first tree). */
  start(mean: number, rng: Rng, variance?: number): void {
    const { masks, values } = this.fit;
    const memory = this.memory();
    new Uint32Array(memory, this.p.bits, masks.count * masks.words).set(masks.bits.subarray(0, masks.count * masks.words));
    new Float64Array(memory, this.p.values, masks.count).set(values.subarray(0, masks.count));
    new Float64Array(memory, this.p.predicted, masks.count).fill(mean);
    new Int32Array(memory, this.p.train, this.train.length).set(this.train);
    new Int32Array(memory, this.p.held, this.held.length).set(this.held);
    let best = 0;
    for (const r of this.held) best += (values[r] - mean) ** 2;
    const first = best / this.held.length;
    this.minGain = MIN_GAIN * (variance ?? first);
    new Float64Array(memory, this.p.state, BOOST_STATE).set([0, first, 0, rng.save(), first, 0]);
  }

  /** Up to `chunk` more trees. */
  grow(chunk: number): void {
    const { masks } = this.fit;
    const p = this.p;
    const grown = this.kernels.call(
      'treeBoostF64', p.bits, masks.words, masks.n, masks.count, p.values, p.predicted, p.residual, p.nodeOf, p.train, this.train.length,
      p.held, this.held.length, p.rowList, p.work, p.splits, p.leaves, p.state, this.depth, this.maxTrees, PATIENCE, LEARNING_RATE, SUBSAMPLE, MIN_LEAF, chunk, this.minGain, MIN_SHARE,
    );
    this.growing = grown === this.grown + chunk && grown < this.maxTrees;
    this.grown = grown;
  }

  /** The random stream's state where the loop left it. */
  get stream(): number {
    return new Float64Array(this.memory(), this.p.state, BOOST_STATE)[3];
  }

  /** The trees up to the one with the best held-out error. */
  trees(): Tree[] {
    const memory = this.memory();
    const kept = new Float64Array(memory, this.p.state, BOOST_STATE)[2];
    const { nodes } = this;
    return Array.from({ length: kept }, (_, t) => ({
      split: new Int32Array(memory, this.p.splits + 4 * t * nodes, nodes).slice(),
      value: new Float64Array(memory, this.p.leaves + 8 * t * nodes, nodes).slice(),
    }));
  }

  release(): void {
    for (const buffer of this.buffers.splice(0)) this.kernels.free(buffer);
  }

  private memory(): ArrayBuffer {
    return this.kernels.view(this.buffers[0]).buffer as ArrayBuffer;
  }
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
