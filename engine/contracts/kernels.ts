// The exports of the compiled AssemblyScript module (assembly/index.ts), by the same names. Pointers are byte
// offsets into `memory`; every buffer is f64 unless the name says otherwise. bindings/wasm-kernels.ts loads it.

/** Raw exports of build/{release,debug}.wasm. */
export interface KernelExports {
  /** The module's linear memory (a WebAssembly.Memory). */
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  /** a: f64[2^n] at ptr, in place; bit i of the index = player i. a[S] ← Σ_{T⊆S} a[T]. */
  zetaSubsetF64(ptr: number, n: number): void;
  /** a[S] ← Σ_{T⊆S} (−1)^{|S|−|T|} a[T] (Harsanyi dividends), in place. */
  mobiusSubsetF64(ptr: number, n: number): void;
  /** a[T] ← Σ_{S⊇T} a[S], in place. */
  zetaSupersetF64(ptr: number, n: number): void;
  /** a[T] ← Σ_{S⊇T} (−1)^{|S|−|T|} a[S], in place. */
  mobiusSupersetF64(ptr: number, n: number): void;
  /** a ← scale·a + shift over f64[len]. */
  affineF64(ptr: number, len: number, scale: number, shift: number): void;
  /** v_or → I_or, in place (spec §1.4, with I_or(∅) = v_or(∅)). */
  orTransformF64(ptr: number, n: number): void;
  /** I_or → v_or, in place (the inverse of orTransformF64). */
  orInverseF64(ptr: number, n: number): void;
  /** Decomposition workspace (f64[16·2^n] at ws; slot 0 = v, 1 = γ, 2 = q; mode bits 1 AND-OR, 2 learn γ,
   *  4 learn q): the L1 objective, and its subgradient into slots 9 (γ) and 10 (q). */
  objectiveGradientF64(ws: number, n: number, mode: number): number;
  objectiveF64(ws: number, n: number, mode: number): number;
  /** The authors' SGD, iterations [tStart, tEnd) of `iterations`; trace: f64 pointer or 0. */
  sgdReferenceF64(ws: number, n: number, mode: number, iterations: number, lr: number, qbound: number, tStart: number, tEnd: number, trace: number, traceEvery: number): number;
  /** The same iterates as sgdReferenceF64, also keeping the best one without copying; state: f64[5] = best objective,
   *  last objective, iteration of the best, pair of slots of the last iterate and of the best (0: slots 1, 2; 1: 11, 12). */
  sgdF64(ws: number, state: number, n: number, mode: number, iterations: number, lr: number, qbound: number, tStart: number, tEnd: number, trace: number, traceEvery: number): number;
  /** Adam with lr decaying to lr·decay; state: f64[5] as sgdF64's (the best is copied into slots 11, 12; entries 3, 4
   *  unused). Writes the best iterate back into slots 1, 2 on the last chunk. */
  adamF64(ws: number, state: number, n: number, mode: number, iterations: number, lr: number, decay: number, qbound: number, tStart: number, tEnd: number, trace: number, traceEvery: number): number;
  /** Diagonally preconditioned PDHG; omega = primal weight; state as adamF64's (the start is iteration −1). Writes the
   *  best iterate back into slots 1, 2 on the last chunk. */
  pdhgF64(ws: number, state: number, n: number, mode: number, iterations: number, omega: number, qbound: number, tStart: number, tEnd: number, trace: number, traceEvery: number): number;
  /** The Gram matrix f32[m·m] (both triangles; integers, exact below 2^24 rows) of m columns given as bitsets over
   *  `rows` rows (u64[m·words] at bits; bits past rows zero): columns [0, parities) are parity columns (a set bit is
   *  −1, else +1), the rest indicators (a set bit is 1, else 0); counts: i32[m], set bits per column. Rows [from, to)
   *  of the lower triangle per call (a caller pauses between parts); the call that reaches m fills the upper one. */
  bitGramF32(bits: number, counts: number, m: number, parities: number, words: number, rows: number, out: number, from: number, to: number): void;
  /** Solves (G + ridge·diag G) x = b (G: f32[m·m] symmetric positive semi-definite; b, x: f64[m]) by preconditioned
   *  conjugate gradients from x = 0 (resume 0) or from the x given (resume 2: a warm start), until ‖r‖ ≤
   *  tolerance·‖b‖ or maxIterations; work: f64[5m]. The preconditioner is the diagonal, but on the unknowns
   *  blockStart .. blockStart + blockSize − 1 the dense block of G + ridge·diag G there, given as its lower Cholesky
   *  factor (factor: f64[blockSize²], row-major; blockSize 0: none). With resume 1, on from where the last call on
   *  the same arguments stopped (the iterates of one call). Returns the iterations (fewer than maxIterations: it has
   *  stopped). */
  conjugateGradientsF32(g: number, b: number, x: number, work: number, m: number, ridge: number, tolerance: number, maxIterations: number, resume: number, blockStart: number, blockSize: number, factor: number): number;
  /** G ← Tᵀ G T and b ← Tᵀ b in place (G: f32[m·m], b: f64[m]) for T = [[I, −C], [0, I]]: each of the h columns from
   *  lowCount on minus Σ_u weights[u]·(column columns[u]) over u in offsets[k] .. offsets[k + 1] − 1 (offsets:
   *  i32[h + 1]; columns: i32, each below lowCount; weights: f64). Each entry is summed in f64, rounded to f32 once. */
  decoupleF32(g: number, b: number, m: number, lowCount: number, h: number, offsets: number, columns: number, weights: number): void;
  /** The tree proxy's split sums: for each of the `count` rows listed at rowList (i32) whose node (nodeOf: i32 per row)
   *  has a slot (slots: i32 per node, −1 for none), adds (residual[row], 1) to out[slot·n + i] (f64 pairs) for every
   *  player i of the row's mask (bits: u32[words] per row). */
  treeHistogramF64(bits: number, words: number, n: number, rowList: number, count: number, residual: number, nodeOf: number, slots: number, out: number): void;
  /** The same sums by nibble tables (the boosting loop's): a mask word with at least as many players as nibbles adds
   *  (residual, 1) once per nibble, to the entry of its value, and each player's pair is summed from the 8 entries of
   *  its nibble that hold it; a sparser word adds it per player. slots: i32[nodes]; table: f64[treeTableF64(largest
   *  slot + 1, words)], scratch. The reference of its sums is treeHistogramF64. */
  treeNibblesF64(bits: number, words: number, n: number, rowList: number, count: number, residual: number, nodeOf: number, slots: number, nodes: number, out: number, table: number): void;
  /** The f64 length of treeNibblesF64's table for `slots` slots of masks of `words` words. */
  treeTableF64(slots: number, words: number): number;
  /** Moves rows 0..count−1 one level down their trees: a row at a split node (split: i32 per node, the player, or
   *  negative at a leaf) goes to child 2·node + 1 (player absent from its mask) or 2·node + 2 (present); nodeOf: i32
   *  per row, updated. */
  treeDescendI32(bits: number, words: number, count: number, nodeOf: number, split: number): void;
  /** Up to `chunk` more trees of stochastic gradient boosting (the tree proxy's loop; its state f64[6]: trees grown,
   *  best held-out error, trees at the best, the mulberry32 state, and the held-out error and trees at the last gain
   *  of more than minGain or minShare of that error: `patience` trees without such a gain stop it), each tree's
   *  splits (i32) and leaf values (f64) in heap order at t·nodes of splits and leaves; predicted (f64 per row)
   *  updated. Returns the trees grown so far. */
  treeBoostF64(bits: number, words: number, n: number, rows: number, values: number, predicted: number, residual: number, nodeOf: number, train: number, trainCount: number, held: number, heldCount: number, rowList: number, work: number, splits: number, leaves: number, state: number, depth: number, maxTrees: number, patience: number, rate: number, subsample: number, minLeaf: number, chunk: number, minGain: number, minShare: number): number;
  /** The f64 length of treeBoostF64's work buffer for a depth and n players. */
  boostWorkF64(depth: number, n: number): number;
  /** Plain radix-2 references of the four blocked transforms (tests and benchmark baselines). */
  zetaSubsetRadix2F64(ptr: number, n: number): void;
  mobiusSubsetRadix2F64(ptr: number, n: number): void;
  zetaSupersetRadix2F64(ptr: number, n: number): void;
  mobiusSupersetRadix2F64(ptr: number, n: number): void;
}

/** Which compiled module to load: release (-O3, no asserts) or debug (asserts on). */
export type KernelTarget = 'release' | 'debug';

/** An f64 buffer inside the kernel module's memory: `ptr` is a 16-byte aligned byte offset. */
export interface F64Buffer {
  readonly ptr: number;
  readonly length: number;
}

/** The kernel functions, without the memory and heapBase exports. */
export type KernelFunctions = Omit<KernelExports, 'memory' | 'heapBase'>;

/** The loaded kernel module with its buffer allocator. One instance per thread. */
export interface KernelHost {
  readonly target: KernelTarget;
  /**
   * Allocates f64[length] in module memory, growing it when needed (zero-filled).
   * @throws MemoryLimitError when the 4 GiB wasm32 memory cannot hold it
   */
  alloc(length: number): F64Buffer;
  /** Returns a buffer to the allocator. Using it afterwards is a bug. */
  free(buffer: F64Buffer): void;
  /** A Float64Array over the buffer; valid until the next alloc (memory growth detaches old views). */
  view(buffer: F64Buffer): Float64Array;
  /**
   * Calls a kernel.
   * @throws KernelTrapError when the kernel traps
   */
  call<K extends keyof KernelFunctions>(name: K, ...args: Parameters<KernelFunctions[K]>): ReturnType<KernelFunctions[K]>;
  /** Bytes of module memory in use by live buffers. */
  readonly bytesInUse: number;
  /**
   * The linear-programming solver of this thread (HiGHS, compiled to WebAssembly), loaded on first use; concurrent
   * first calls share one load.
   * @throws KernelTrapError when it cannot be loaded
   */
  linearSolver(): Promise<LinearSolver>;
}

/** A linear program: minimise colCost·x subject to rowLower ≤ A x ≤ rowUpper and colLower ≤ x ≤ colUpper, A given
 *  row by row (compressed sparse rows: row r's entries at [starts[r], starts[r + 1]) of indices and values). ±Infinity
 *  is a missing bound. */
export interface LinearProgram {
  readonly numCols: number;
  readonly numRows: number;
  readonly colCost: Float64Array;
  readonly colLower: Float64Array;
  readonly colUpper: Float64Array;
  readonly rowLower: Float64Array;
  readonly rowUpper: Float64Array;
  readonly starts: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

/** What a linear solve ends with. */
export interface LinearSolution {
  /** 'optimal', or what stopped it (the solver's model status, e.g. 'time limit'). */
  readonly status: string;
  readonly colValue: Float64Array;
}

/** An exact LP solver (interior point, then crossover to a vertex: an optimal basic solution). */
export interface LinearSolver {
  /**
   * Solves the program within timeLimitS seconds of its own (a synchronous call: it holds its thread until done).
   * @throws KernelTrapError when the solver fails (not for a program it stops early: see status)
   */
  solve(program: LinearProgram, timeLimitS: number): LinearSolution;
}
