// The split search of the sparse method's tree proxy (engine/analysis/sparse/proxy.ts): per node of a tree level and
// per player, the sum of the residuals of the node's rows that hold the player, and their count. It was the cost of
// the proxy in JavaScript (about 5 ns per present player of a row there), and in a per-player scan here (about 2 ns,
// treeHistogramF64, now the reference of the nibble tables of treeNibblesF64).

/**
 * Adds, for each listed row whose node has a slot, (residual, 1) to out[slot·n + i] for every player i present in
 * the row's mask.
 * bits: u32[·words] per row (the masks, bit i of word i/32 = player i); rowList: i32[count], the rows to visit;
 * residual: f64 per row; nodeOf: i32 per row; slots: i32 per node, the node's slot or −1 (rows of that node are
 * skipped); out: f64[2·slots·n] of (sum, count) pairs, added to.
 */
export function treeHistogramF64(bits: usize, words: i32, n: i32, rowList: usize, count: i32, residual: usize, nodeOf: usize, slots: usize, out: usize): void {
  const rowBytes = <usize>words << 2;
  for (let k = 0; k < count; k++) {
    const r = <usize>load<i32>(rowList + (<usize>k << 2));
    const slot = load<i32>(slots + (<usize>load<i32>(nodeOf + (r << 2)) << 2));
    if (slot < 0) continue;
    const pair = f64x2(load<f64>(residual + (r << 3)), 1.0);
    const row = bits + r * rowBytes;
    const base = out + (<usize>slot * <usize>n << 4);
    // present players one by one: a mask holds about half of them
    for (let w = 0; w < words; w++) addPresent(base + (<usize>w << 9), load<u32>(row + (<usize>w << 2)), pair);
  }
}

/** Adds the pair to the cell (16 bytes) of each player present in a mask word, the word's first player's at cells. */
@inline
function addPresent(cells: usize, word: u32, pair: v128): void {
  while (word != 0) {
    const cell = cells + (<usize>ctz<u32>(word) << 4);
    v128.store(cell, f64x2.add(v128.load(cell), pair));
    word &= word - 1;
  }
}

/** Bytes of treeTableF64's table per slot and mask word: 8 nibbles of 4 players, 16 (sum, count) pairs each. */
const TABLE_WORD_BYTES: usize = 8 << 8;

/**
 * The sums of treeHistogramF64 by nibble tables, the boosting loop's: for each listed row whose node has a slot, a
 * mask word with at least as many players as nibbles (4 players each) adds (residual, 1) once per nibble, to that
 * slot's entry for the nibble's value, and each player's pair is then the sum of the 8 entries whose value holds it;
 * a sparser word adds it at each present player, as treeHistogramF64 does. A uniformly random mask thus costs n/4
 * additions, where treeHistogramF64 makes about n/2, each behind a bit scan whose trip count the branch predictor
 * cannot learn: `node bench/trees.bench.js` gives 1.1–1.5× at 49 players and 2.2–2.9× at 196–784 on uniform masks,
 * and 0.6–0.9× on masks of 10 % of the players (results/2026-12-02-vm.json and two earlier runs). The sums are added up in another order, so they may differ from
 * treeHistogramF64's in the last bits.
 * bits, words, n, rowList, count, residual, nodeOf, slots, out: as treeHistogramF64; nodes: the length of slots;
 * table: f64[treeTableF64(largest slot + 1, words)], scratch (cleared here where used).
 */
export function treeNibblesF64(bits: usize, words: i32, n: i32, rowList: usize, count: i32, residual: usize, nodeOf: usize, slots: usize, nodes: i32, out: usize, table: usize): void {
  const rowBytes = <usize>words << 2;
  // per slot a 16-byte header (whether its entries are in use) and its entries, cleared at its first nibble row: a
  // level of sparse masks clears and sums none
  const slotBytes = <usize>words * TABLE_WORD_BYTES + 16;
  /** Nibbles of the last word that hold players. */
  const lastNibbles: u32 = <u32>((n - 32 * (words - 1) + 3) >> 2);
  for (let k = 0; k < nodes; k++) {
    const slot = load<i32>(slots + (<usize>k << 2));
    if (slot >= 0) store<i32>(table + <usize>slot * slotBytes, 0);
  }
  for (let k = 0; k < count; k++) {
    const r = <usize>load<i32>(rowList + (<usize>k << 2));
    const slot = load<i32>(slots + (<usize>load<i32>(nodeOf + (r << 2)) << 2));
    if (slot < 0) continue;
    const pair = f64x2(load<f64>(residual + (r << 3)), 1.0);
    const row = bits + r * rowBytes;
    const header = table + <usize>slot * slotBytes;
    let at = header + 16;
    const direct = out + (<usize>slot * <usize>n << 4);
    for (let w = 0; w < words; w++, at += TABLE_WORD_BYTES) {
      let word = load<u32>(row + (<usize>w << 2));
      const nibbles = w == words - 1 ? lastNibbles : 8;
      if (popcnt<u32>(word) < nibbles) {
        // few players: each one's pair directly, as treeHistogramF64 does
        addPresent(direct + (<usize>w << 9), word, pair);
        continue;
      }
      if (load<i32>(header) == 0) {
        memory.fill(header + 16, 0, slotBytes - 16);
        store<i32>(header, 1);
      }
      // nibble q of the word at at + q·256 + value·16, every one (entry 0 is never read: no branch to mispredict)
      for (let q: usize = 0; q < <usize>nibbles << 8; q += 256, word >>>= 4) {
        const cell = at + q + (<usize>(word & 15) << 4);
        v128.store(cell, f64x2.add(v128.load(cell), pair));
      }
    }
  }
  // each player's pair: the 8 entries of its nibble whose value holds its bit
  for (let k = 0; k < nodes; k++) {
    const slot = load<i32>(slots + (<usize>k << 2));
    if (slot < 0) continue;
    const header = table + <usize>slot * slotBytes;
    if (load<i32>(header) == 0) continue;
    store<i32>(header, 0); // a slot listed twice is summed once
    const into = out + (<usize>slot * <usize>n << 4);
    for (let g = 0; g < (n + 3) >> 2; g++) {
      const e = header + 16 + (<usize>g << 8);
      const t3 = f64x2.add(v128.load(e, 48), v128.load(e, 176)); // values 3, 11
      const t5 = f64x2.add(v128.load(e, 80), v128.load(e, 208)); // 5, 13
      const t6 = f64x2.add(v128.load(e, 96), v128.load(e, 224)); // 6, 14
      const t7 = f64x2.add(v128.load(e, 112), v128.load(e, 240)); // 7, 15
      const p0 = f64x2.add(f64x2.add(f64x2.add(v128.load(e, 16), v128.load(e, 144)), t3), f64x2.add(t5, t7)); // 1, 9, 3, 11, 5, 13, 7, 15
      const p1 = f64x2.add(f64x2.add(f64x2.add(v128.load(e, 32), v128.load(e, 160)), t3), f64x2.add(t6, t7)); // 2, 10, 3, 11, 6, 14, 7, 15
      const p2 = f64x2.add(f64x2.add(f64x2.add(v128.load(e, 64), v128.load(e, 192)), t5), f64x2.add(t6, t7)); // 4, 12, 5, 13, 6, 14, 7, 15
      let p3 = f64x2.add(v128.load(e, 128), v128.load(e, 144)); // 8..15
      p3 = f64x2.add(p3, f64x2.add(v128.load(e, 160), v128.load(e, 176)));
      p3 = f64x2.add(p3, f64x2.add(v128.load(e, 192), v128.load(e, 208)));
      p3 = f64x2.add(p3, f64x2.add(v128.load(e, 224), v128.load(e, 240)));
      const cell = into + (<usize>g << 6);
      const players = min(4, n - 4 * g);
      v128.store(cell, f64x2.add(v128.load(cell), p0));
      if (players > 1) v128.store(cell, f64x2.add(v128.load(cell, 16), p1), 16);
      if (players > 2) v128.store(cell, f64x2.add(v128.load(cell, 32), p2), 32);
      if (players > 3) v128.store(cell, f64x2.add(v128.load(cell, 48), p3), 48);
    }
  }
}

/** The f64 length of treeNibblesF64's table for slots 0..slots−1 of masks of `words` words. */
export function treeTableF64(slots: i32, words: i32): i32 {
  return slots * (words * <i32>(TABLE_WORD_BYTES >> 3) + 2);
}

/**
 * Moves each of the first `count` rows one level down its tree: a row at a split node (split: i32 per node, the
 * player, or negative at a leaf) goes to child 2·node + 1 when the player is absent from its mask, 2·node + 2 when
 * present; a row at a leaf stays.
 * bits: u32[·words] per row; nodeOf: i32 per row, updated.
 */
export function treeDescendI32(bits: usize, words: i32, count: i32, nodeOf: usize, split: usize): void {
  const rowBytes = <usize>words << 2;
  for (let r: usize = 0; r < <usize>count; r++) {
    const at = nodeOf + (r << 2);
    const node = load<i32>(at);
    const player = load<i32>(split + (<usize>node << 2));
    if (player < 0) continue;
    const word = load<u32>(bits + r * rowBytes + (<usize>(player >>> 5) << 2));
    store<i32>(at, 2 * node + 1 + <i32>((word >>> (player & 31)) & 1));
  }
}

// The boosting loop of the tree proxy, whole: it ran in JavaScript around the two kernels above, where a process's
// first fits ran 3–4× slower than its later ones (the loops interpreted until V8 optimized them); compiled here, the
// first fit costs about what the later ones do.

/** The run state of treeBoostF64, f64[BOOST_STATE]: trees grown, the best held-out error, the trees at the best, the
 *  random stream's state (a u32, stored as its value), and the held-out error and trees at the last gain of more
 *  than minGain. */
export const BOOST_STATE: i32 = 6;

/**
 * mulberry32: the next uniform number in [0, 1) of the stream whose u32 state is at `state` (advanced). The same
 * numbers as Rng.uniform in engine/analysis/sparse/random.ts for the same state.
 * see: Tommy Ettinger, mulberry32 (public domain, 2017)
 */
@inline function uniformAt(state: usize): f64 {
  const s = load<u32>(state) + 0x6d2b79f5;
  store<u32>(state, s);
  let t = (s ^ (s >>> 15)) * (s | 1);
  t ^= t + (t ^ (t >>> 7)) * (t | 61);
  return <f64>(t ^ (t >>> 14)) / 4294967296.0;
}

/**
 * Grows up to `chunk` more trees of stochastic gradient boosting on the residuals of `predicted`, stopping at
 * maxTrees or once `patience` trees in a row did not lower the mean squared error on the held rows, from its level
 * at the last such gain, by more than minGain or more than minShare of that level (both 0: below its best). Each
 * tree, level
 * by level to `depth`: splits on one player, chosen by the reduction of squared error over the node's rows (sums from
 * treeHistogramF64 for the smaller child of each split, the larger's as its parent's minus its sibling's), at least
 * minLeaf rows on each side; its leaves hold rate · their mean residual. A tree is grown on the train rows each drawn
 * with probability `subsample` (all of them when fewer than 2·minLeaf are drawn).
 * bits: u32[words] per row; values, predicted (updated), residual (scratch): f64 per row; nodeOf: i32 per row
 * (scratch); train, held: i32 row lists; rowList: i32[trainCount] (scratch); work: f64[boostWorkF64(depth, n)];
 * splits: i32[maxTrees · nodes] and leaves: f64[maxTrees · nodes] receive tree t at t · nodes, in heap order (node k's
 * children 2k+1: player absent, 2k+2: present; split −1 at a leaf, −2 for no node); state: f64[BOOST_STATE].
 * Returns the trees grown so far.
 */
export function treeBoostF64(
  bits: usize, words: i32, n: i32, rows: i32, values: usize, predicted: usize, residual: usize, nodeOf: usize,
  train: usize, trainCount: i32, held: usize, heldCount: i32, rowList: usize, work: usize, splits: usize, leaves: usize,
  state: usize, depth: i32, maxTrees: i32, patience: i32, rate: f64, subsample: f64, minLeaf: i32, chunk: i32, minGain: f64,
  minShare: f64,
): i32 {
  const nodes = (1 << (depth + 1)) - 1;
  let grown = <i32>load<f64>(state);
  let best = load<f64>(state, 8);
  let bestCount = <i32>load<f64>(state, 16);
  let mark = load<f64>(state, 32);
  let markCount = <i32>load<f64>(state, 40);
  const random = state + 24;
  store<u32>(random, <u32>load<f64>(random));
  const stop = min(maxTrees, grown + chunk);
  while (grown < stop && grown - markCount < patience) {
    for (let r = 0; r < rows; r++) {
      const at = <usize>r << 3;
      store<f64>(residual + at, load<f64>(values + at) - load<f64>(predicted + at));
    }
    let count = 0;
    for (let k = 0; k < trainCount; k++) {
      if (uniformAt(random) < subsample) {
        store<i32>(rowList + (<usize>count << 2), load<i32>(train + (<usize>k << 2)));
        count++;
      }
    }
    if (count < 2 * minLeaf) {
      memory.copy(rowList, train, <usize>trainCount << 2);
      count = trainCount;
    }
    const split = splits + (<usize>grown * <usize>nodes << 2);
    const leaf = leaves + (<usize>grown * <usize>nodes << 3);
    growTree(bits, words, n, rows, residual, nodeOf, rowList, count, work, split, leaf, depth, rate, minLeaf);
    for (let r = 0; r < rows; r++) {
      const at = predicted + (<usize>r << 3);
      store<f64>(at, load<f64>(at) + load<f64>(leaf + (<usize>load<i32>(nodeOf + (<usize>r << 2)) << 3)));
    }
    let sum = 0.0;
    for (let k = 0; k < heldCount; k++) {
      const r = <usize>load<i32>(held + (<usize>k << 2)) << 3;
      const d = load<f64>(values + r) - load<f64>(predicted + r);
      sum += d * d;
    }
    grown++;
    const error = sum / <f64>heldCount;
    if (error < best) {
      best = error;
      bestCount = grown;
    }
    if (error < mark - min(minGain, minShare * mark)) {
      mark = error;
      markCount = grown;
    }
  }
  store<f64>(state, <f64>grown);
  store<f64>(state, best, 8);
  store<f64>(state, <f64>bestCount, 16);
  store<f64>(random, <f64>load<u32>(random));
  store<f64>(state, mark, 32);
  store<f64>(state, <f64>markCount, 40);
  return grown;
}

/** The f64 length of treeBoostF64's work buffer: per node a sum, a count, a slot and a mark; per node of the widest
 *  level and player the (sum, count) pairs, and the parent level's beside them; the nibble table of the widest level
 *  that is split (treeNibblesF64). */
export function boostWorkF64(depth: i32, n: i32): i32 {
  return boostCellsF64(depth, n) + 1 + treeTableF64(1 << max(0, depth - 1), (n + 31) >>> 5);
}

/** The f64 length of treeBoostF64's work buffer before the nibble table (which starts at the next 16-byte boundary). */
function boostCellsF64(depth: i32, n: i32): i32 {
  const nodes = (1 << (depth + 1)) - 1;
  return nodes + 2 * ((1 << depth) * n) + ((3 * nodes + 1) >> 1);
}

/** One tree of the residuals on the first `count` rows of rowList into split and leaf (see treeBoostF64); nodeOf
 *  ends holding every row's leaf. */
function growTree(
  bits: usize, words: i32, n: i32, rows: i32, residual: usize, nodeOf: usize, rowList: usize, count: i32, work: usize,
  split: usize, leaf: usize, depth: i32, rate: f64, minLeaf: i32,
): void {
  const nodes = (1 << (depth + 1)) - 1;
  const cells = (1 << depth) * n;
  const total = work;
  const out = total + (<usize>nodes << 3);
  const parent = out + (<usize>cells << 3);
  const slots = parent + (<usize>cells << 3);
  const size = slots + (<usize>nodes << 2);
  const direct = size + (<usize>nodes << 2);
  const table = (work + (<usize>boostCellsF64(depth, n) << 3) + 15) & ~(<usize>15);
  for (let k = 0; k < nodes; k++) {
    store<i32>(split + (<usize>k << 2), -2);
    store<f64>(total + (<usize>k << 3), 0);
    store<i32>(size + (<usize>k << 2), 0);
    store<i32>(direct + (<usize>k << 2), 0);
  }
  memory.fill(nodeOf, 0, <usize>rows << 2);
  store<i32>(split, -1);
  store<i32>(direct, 1);
  let rootSum = 0.0;
  for (let k = 0; k < count; k++) rootSum += load<f64>(residual + (<usize>load<i32>(rowList + (<usize>k << 2)) << 3));
  store<f64>(total, rootSum);
  store<i32>(size, count);
  const pairs = 2 * n;
  for (let level = 0; level < depth; level++) {
    const first = (1 << level) - 1;
    const width = 1 << level;
    for (let k = 0; k < nodes; k++) store<i32>(slots + (<usize>k << 2), -1);
    for (let k = 0; k < width; k++) {
      const node = <usize>(first + k) << 2;
      if (load<i32>(split + node) == -1 && load<i32>(direct + node) == 1) store<i32>(slots + node, k);
    }
    memory.fill(out, 0, <usize>(width * pairs) << 3);
    treeNibblesF64(bits, words, n, rowList, count, residual, nodeOf, slots, width + first, out, table);
    for (let k = 0; k < width; k++) {
      const node = first + k;
      if (load<i32>(split + (<usize>node << 2)) != -1 || load<i32>(direct + (<usize>node << 2)) == 1) continue;
      // the larger child: its parent's sums minus its sibling's
      const sibling = node % 2 == 1 ? node + 1 : node - 1;
      const from = parent + (<usize>(pairs * (((node - 1) >> 1) - ((1 << (level - 1)) - 1))) << 3);
      const other = out + (<usize>(pairs * (sibling - first)) << 3);
      const at = out + (<usize>(pairs * k) << 3);
      for (let i = 0; i < pairs; i++) {
        const o = <usize>i << 3;
        store<f64>(at + o, load<f64>(from + o) - load<f64>(other + o));
      }
    }
    let grew = false;
    for (let k = 0; k < width; k++) {
      const node = first + k;
      const nodeSize = load<i32>(size + (<usize>node << 2));
      if (load<i32>(split + (<usize>node << 2)) != -1 || nodeSize < 2 * minLeaf) continue;
      const nodeTotal = load<f64>(total + (<usize>node << 3));
      const cellsAt = out + (<usize>(pairs * k) << 3);
      const player = bestSplit(cellsAt, n, nodeTotal, nodeSize, minLeaf);
      if (player < 0) continue;
      store<i32>(split + (<usize>node << 2), player);
      const absent = 2 * node + 1;
      const present = 2 * node + 2;
      store<i32>(split + (<usize>absent << 2), -1);
      store<i32>(split + (<usize>present << 2), -1);
      const presentTotal = load<f64>(cellsAt + (<usize>(2 * player) << 3));
      const presentSize = <i32>Math.round(load<f64>(cellsAt + (<usize>(2 * player + 1) << 3)));
      store<f64>(total + (<usize>present << 3), presentTotal);
      store<i32>(size + (<usize>present << 2), presentSize);
      store<f64>(total + (<usize>absent << 3), nodeTotal - presentTotal);
      store<i32>(size + (<usize>absent << 2), nodeSize - presentSize);
      store<i32>(direct + (<usize>(presentSize <= nodeSize - presentSize ? present : absent) << 2), 1);
      grew = true;
    }
    if (!grew) break;
    memory.copy(parent, out, <usize>(width * pairs) << 3);
    treeDescendI32(bits, words, rows, nodeOf, split);
  }
  for (let k = 0; k < nodes; k++) {
    const s = load<i32>(size + (<usize>k << 2));
    const value = load<i32>(split + (<usize>k << 2)) == -1 && s > 0 ? (rate * load<f64>(total + (<usize>k << 3))) / <f64>s : 0.0;
    store<f64>(leaf + (<usize>k << 3), value);
  }
}

/** The player whose split of a node most reduces the squared error (−1: none leaves minLeaf rows on both sides);
 *  cells: (sum, count) pairs per player; s, c: the node's sum and rows. */
function bestSplit(cells: usize, n: i32, s: f64, c: i32, minLeaf: i32): i32 {
  const rows = <f64>c;
  let bestGain = (1e-12 * (s * s)) / rows;
  let best = -1;
  for (let i = 0; i < n; i++) {
    const c1 = <i32>Math.round(load<f64>(cells + (<usize>(2 * i + 1) << 3)));
    const c0 = c - c1;
    if (c1 < minLeaf || c0 < minLeaf) continue;
    const s1 = load<f64>(cells + (<usize>(2 * i) << 3));
    const s0 = s - s1;
    const gain = (s1 * s1) / <f64>c1 + (s0 * s0) / <f64>c0 - (s * s) / rows;
    if (gain > bestGain) {
      bestGain = gain;
      best = i;
    }
  }
  return best;
}
