// The split search of the sparse method's tree proxy (engine/analysis/sparse/proxy.ts): per node of a tree level and
// per player, the sum of the residuals of the node's rows that hold the player, and their count. It was the cost of
// the proxy in JavaScript (about 5 ns per present player of a row there).

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
    for (let w = 0; w < words; w++) {
      let word = load<u32>(row + (<usize>w << 2));
      let at = base + (<usize>w << 9);
      // present players one by one: a mask holds about half of them
      while (word != 0) {
        const i = <usize>ctz<u32>(word);
        const cell = at + (i << 4);
        v128.store(cell, f64x2.add(v128.load(cell), pair));
        word &= word - 1;
      }
    }
  }
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
