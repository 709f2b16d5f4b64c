// The dense least-squares steps of the sparse method's low-order completion (engine/analysis/sparse/completion.ts):
// the Gram matrix of columns given as bitsets over the fit's rows, by 64-bit popcounts, and a Jacobi-preconditioned
// conjugate-gradient solve with a SIMD matrix-vector product over the f32 Gram. Both were the cost of that completion in JavaScript
// (about 0.3 s for the Gram and 4 ms per CG step at n = 49).

/**
 * The Gram matrix XᵀX of m columns over `rows` rows, each column a bitset of `words` u64 (bits past `rows` zero):
 * columns [0, parities) are parity columns (a set bit is −1, else +1), the rest indicators (a set bit is 1, else 0).
 * bits: u64[m·words]; counts: i32[m], set bits per column; out: f32[m·m], both triangles (integers of at most
 * `rows`: exact below 2^24 rows).
 *   parity·parity = rows − 2·|a ⊕ b|; indicator·indicator = |a ∧ b|; indicator a · parity b = |a| − 2·|a ∧ b|.
 * Four parity rows at a time share each load of the other column. Rows [from, to) of the lower triangle only, so
 * that a caller can pause between parts of a large Gram; the call that reaches row m fills the upper triangle.
 */
export function bitGramF32(bits: usize, counts: usize, m: i32, parities: i32, words: i32, rows: i32, out: usize, from: i32, to: i32): void {
  const stride = <usize>words << 3;
  const rowBytes = <usize>m << 2;
  let i = from;
  for (; i + 3 < min(parities, to); i += 4) {
    const a0 = bits + <usize>i * stride;
    const a1 = a0 + stride;
    const a2 = a1 + stride;
    const a3 = a2 + stride;
    for (let j = 0; j <= i + 3; j++) {
      const b = bits + <usize>j * stride;
      let c0: i64 = 0, c1: i64 = 0, c2: i64 = 0, c3: i64 = 0;
      for (let w: usize = 0; w < stride; w += 8) {
        const y = load<u64>(b + w);
        c0 += popcnt<u64>(load<u64>(a0 + w) ^ y);
        c1 += popcnt<u64>(load<u64>(a1 + w) ^ y);
        c2 += popcnt<u64>(load<u64>(a2 + w) ^ y);
        c3 += popcnt<u64>(load<u64>(a3 + w) ^ y);
      }
      const row = out + <usize>i * rowBytes + (<usize>j << 2);
      // entries past the diagonal are overwritten by mirror()
      store<f32>(row, <f32>(<i64>rows - 2 * c0));
      store<f32>(row + rowBytes, <f32>(<i64>rows - 2 * c1));
      store<f32>(row + 2 * rowBytes, <f32>(<i64>rows - 2 * c2));
      store<f32>(row + 3 * rowBytes, <f32>(<i64>rows - 2 * c3));
    }
  }
  for (; i < to; i++) {
    const a = bits + <usize>i * stride;
    for (let j = 0; j <= i; j++) {
      const b = bits + <usize>j * stride;
      let value: i64;
      if (i < parities) value = <i64>rows - 2 * xorCount(a, b, stride);
      else if (j >= parities) value = andCount(a, b, stride);
      else value = <i64>load<i32>(counts + (<usize>i << 2)) - 2 * andCount(a, b, stride);
      store<f32>(out + <usize>i * rowBytes + (<usize>j << 2), <f32>value);
    }
  }
  if (to >= m) mirror(out, m);
}

/** |a ⊕ b| over `bytes` bytes of u64. */
@inline
function xorCount(a: usize, b: usize, bytes: usize): i64 {
  let count: i64 = 0;
  for (let w: usize = 0; w < bytes; w += 8) count += popcnt<u64>(load<u64>(a + w) ^ load<u64>(b + w));
  return count;
}

/** |a ∧ b| over `bytes` bytes of u64. */
@inline
function andCount(a: usize, b: usize, bytes: usize): i64 {
  let count: i64 = 0;
  for (let w: usize = 0; w < bytes; w += 8) count += popcnt<u64>(load<u64>(a + w) & load<u64>(b + w));
  return count;
}

/** Copies the lower triangle of f32[m·m] into the upper, in 32 × 32 tiles (a column-wise store per entry missed the
 *  cache once per entry). */
function mirror(g: usize, m: i32): void {
  const rowBytes = <usize>m << 2;
  for (let i0 = 0; i0 < m; i0 += 32) {
    for (let j0 = 0; j0 <= i0; j0 += 32) {
      const iEnd = min(m, i0 + 32);
      for (let i = i0; i < iEnd; i++) {
        const jEnd = min(i, j0 + 32);
        for (let j = j0; j < jEnd; j++) store<f32>(g + <usize>j * rowBytes + (<usize>i << 2), load<f32>(g + <usize>i * rowBytes + (<usize>j << 2)));
      }
    }
  }
}

/** out = G x for G = f32[m·m] row-major and f64 x, out: two rows per pass over x, four f32 entries per step, widened
 *  to f64x2 pairs. */
@inline
function multiply(g: usize, x: usize, out: usize, m: i32): void {
  const rowBytes = <usize>m << 2;
  const quads = <usize>(m & ~3);
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const r0 = g + <usize>i * rowBytes;
    const r1 = r0 + rowBytes;
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    for (let j: usize = 0; j < quads; j += 4) {
      const xl = v128.load(x + (j << 3));
      const xh = v128.load(x + (j << 3), 16);
      const a = v128.load(r0 + (j << 2));
      const b = v128.load(r1 + (j << 2));
      s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(a), xl));
      s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)), xh));
      s1 = f64x2.add(s1, f64x2.mul(f64x2.promote_low_f32x4(b), xl));
      s1 = f64x2.add(s1, f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1)), xh));
    }
    let t0 = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
    let t1 = f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
    for (let j: usize = quads; j < <usize>m; j++) {
      const xj = load<f64>(x + (j << 3));
      t0 += <f64>load<f32>(r0 + (j << 2)) * xj;
      t1 += <f64>load<f32>(r1 + (j << 2)) * xj;
    }
    store<f64>(out + (<usize>i << 3), t0);
    store<f64>(out + (<usize>(i + 1) << 3), t1);
  }
  if (i < m) {
    const r = g + <usize>i * rowBytes;
    let t = 0.0;
    for (let j: usize = 0; j < <usize>m; j++) t += <f64>load<f32>(r + (j << 2)) * load<f64>(x + (j << 3));
    store<f64>(out + (<usize>i << 3), t);
  }
}

@inline
function dot(a: usize, b: usize, m: i32): f64 {
  let s = 0.0;
  const end = <usize>m << 3;
  for (let k: usize = 0; k < end; k += 8) s += load<f64>(a + k) * load<f64>(b + k);
  return s;
}

/**
 * Solves (G + ridge·diag(G)) x = b by preconditioned conjugate gradients, from x = 0 (resume 0) or from the x given
 * (resume 2: a warm start, such as a smaller system's solution padded with zeros). The preconditioner is the
 * diagonal, but for the unknowns blockStart .. blockStart + blockSize − 1: the dense block of G + ridge·diag(G) there,
 * through its Cholesky factor L (lower, f64[blockSize²] row-major; blockSize 0: the diagonal alone). G is read as f32
 * (half the bytes each step streams; the completion's entries are integers or short dyadic fractions, exact in f32);
 * the vectors, sums and L are f64.
 * see: Saad, Iterative Methods for Sparse Linear Systems (2nd ed., SIAM 2003), Algorithm 9.1 (preconditioned CG) and
 * §10.1 (block Jacobi)
 * g: f32[m·m] symmetric positive semi-definite; b, x: f64[m]; work: f64[5m]; factor: f64[blockSize²].
 * Stops once ‖r‖ ≤ tolerance·‖b‖ or after maxIterations. With resume 1 it goes on where the last call on the same
 * g, b, x, work and factor stopped (its state is x and work): calls of k iterations take the iterates of one call, so
 * that a caller can pause between them.
 * @returns the iterations taken (fewer than maxIterations: it has stopped)
 */
export function conjugateGradientsF32(g: usize, b: usize, x: usize, work: usize, m: i32, ridge: f64, tolerance: f64, maxIterations: i32, resume: i32, blockStart: i32, blockSize: i32, factor: usize): i32 {
  const bytes = <usize>m << 3;
  const r = work;
  const z = r + bytes;
  const p = z + bytes;
  const q = p + bytes;
  const d = q + bytes; // diag(G)·(1 + ridge), 1 where the diagonal is 0
  // a block that does not lie within 0..m − 1 is none
  const h = blockStart >= 0 && blockSize > 0 && blockStart + blockSize <= m ? blockSize : 0;
  const fresh = resume != 1;
  for (let i = 0; i < m && fresh; i++) {
    const k = <usize>i << 3;
    const diagonal = <f64>load<f32>(g + (<usize>i * <usize>(m + 1) << 2));
    store<f64>(d + k, diagonal > 0 ? diagonal * (1 + ridge) : 1.0);
    if (resume == 0) store<f64>(x + k, 0);
  }
  if (fresh) {
    // r = b − (G + ridge·diag G) x
    if (resume == 2) applyRidged(g, x, r, d, m, ridge);
    for (let k: usize = 0; k < bytes; k += 8) store<f64>(r + k, load<f64>(b + k) - (resume == 2 ? load<f64>(r + k) : 0));
    precondition(r, z, d, m, blockStart, h, factor);
    for (let k: usize = 0; k < bytes; k += 8) store<f64>(p + k, load<f64>(z + k));
  }
  let rz = dot(r, z, m);
  const stop = tolerance * tolerance * dot(b, b, m);
  let iterations = 0;
  while (iterations < maxIterations && dot(r, r, m) > stop) {
    applyRidged(g, p, q, d, m, ridge);
    const alpha = rz / dot(p, q, m);
    if (!isFinite(alpha)) break;
    for (let k: usize = 0; k < bytes; k += 8) {
      store<f64>(x + k, load<f64>(x + k) + alpha * load<f64>(p + k));
      store<f64>(r + k, load<f64>(r + k) - alpha * load<f64>(q + k));
    }
    precondition(r, z, d, m, blockStart, h, factor);
    const next = dot(r, z, m);
    const beta = next / rz;
    rz = next;
    for (let k: usize = 0; k < bytes; k += 8) store<f64>(p + k, load<f64>(z + k) + beta * load<f64>(p + k));
    iterations++;
  }
  return iterations;
}

/** out = (G + ridge·diag G) v, with diag G = d / (1 + ridge) where the diagonal is positive (d: conjugateGradientsF32's). */
@inline
function applyRidged(g: usize, v: usize, out: usize, d: usize, m: i32, ridge: f64): void {
  multiply(g, v, out, m);
  for (let k: usize = 0; k < (<usize>m << 3); k += 8) store<f64>(out + k, load<f64>(out + k) + (load<f64>(d + k) * ridge / (1 + ridge)) * load<f64>(v + k));
}

/** z = M⁻¹ r: r / d, but L⁻ᵀ L⁻¹ r on the block of h unknowns from start (forward, then backward in place). */
@inline
function precondition(r: usize, z: usize, d: usize, m: i32, start: i32, h: i32, factor: usize): void {
  for (let k: usize = 0; k < (<usize>m << 3); k += 8) store<f64>(z + k, load<f64>(r + k) / load<f64>(d + k));
  if (h == 0) return;
  const rb = r + (<usize>start << 3);
  const zb = z + (<usize>start << 3);
  const rowBytes = <usize>h << 3;
  for (let i = 0; i < h; i++) {
    const row = factor + <usize>i * rowBytes;
    let t = load<f64>(rb + (<usize>i << 3));
    for (let k = 0; k < i; k++) t -= load<f64>(row + (<usize>k << 3)) * load<f64>(zb + (<usize>k << 3));
    store<f64>(zb + (<usize>i << 3), t / load<f64>(row + (<usize>i << 3)));
  }
  for (let i = h - 1; i >= 0; i--) {
    let t = load<f64>(zb + (<usize>i << 3));
    for (let k = i + 1; k < h; k++) t -= load<f64>(factor + <usize>k * rowBytes + (<usize>i << 3)) * load<f64>(zb + (<usize>k << 3));
    store<f64>(zb + (<usize>i << 3), t / load<f64>(factor + <usize>i * rowBytes + (<usize>i << 3)));
  }
}

/**
 * G ← Tᵀ G T and b ← Tᵀ b in place, for T = [[I, −C], [0, I]]: each of the h columns from lowCount on (the
 * completion's found terms, engine/analysis/sparse/completion.ts) minus its low-order part, column k's part being
 * Σ_u weights[u]·(column columns[u]) over u in offsets[k] .. offsets[k + 1] − 1, every columns[u] < lowCount. First
 * every found column, row by row (from the low-order entries of the row, which it leaves as they are); then every
 * found row: against a low-order column the entry just made (by symmetry), against a found column its low-order
 * rows' part taken off (h² entries, not h·m). Each entry is summed in f64 and rounded to f32 once.
 * g: f32[m·m]; b: f64[m]; offsets: i32[h + 1]; columns: i32[offsets[h]]; weights: f64[offsets[h]].
 */
export function decoupleF32(g: usize, b: usize, m: i32, lowCount: i32, h: i32, offsets: usize, columns: usize, weights: usize): void {
  const rowBytes = <usize>m << 2;
  for (let i = 0; i < m; i++) {
    const row = g + <usize>i * rowBytes;
    for (let k = 0; k < h; k++) {
      let s = 0.0;
      const end = load<i32>(offsets + (<usize>(k + 1) << 2));
      for (let u = load<i32>(offsets + (<usize>k << 2)); u < end; u++) {
        s += load<f64>(weights + (<usize>u << 3)) * <f64>load<f32>(row + (<usize>load<i32>(columns + (<usize>u << 2)) << 2));
      }
      const at = row + (<usize>(lowCount + k) << 2);
      store<f32>(at, <f32>(<f64>load<f32>(at) - s));
    }
  }
  for (let k = 0; k < h; k++) {
    const f = lowCount + k;
    const rowF = g + <usize>f * rowBytes;
    for (let j = 0; j < lowCount; j++) store<f32>(rowF + (<usize>j << 2), load<f32>(g + <usize>j * rowBytes + (<usize>f << 2)));
    const start = load<i32>(offsets + (<usize>k << 2));
    const end = load<i32>(offsets + (<usize>(k + 1) << 2));
    for (let j = lowCount; j < m; j++) {
      let s = 0.0;
      for (let u = start; u < end; u++) {
        s += load<f64>(weights + (<usize>u << 3)) * <f64>load<f32>(g + <usize>load<i32>(columns + (<usize>u << 2)) * rowBytes + (<usize>j << 2));
      }
      const at = rowF + (<usize>j << 2);
      store<f32>(at, <f32>(<f64>load<f32>(at) - s));
    }
    const bf = b + (<usize>f << 3);
    for (let u = start; u < end; u++) {
      store<f64>(bf, load<f64>(bf) - load<f64>(weights + (<usize>u << 3)) * load<f64>(b + (<usize>load<i32>(columns + (<usize>u << 2)) << 3)));
    }
  }
}
