// Blocked SIMD subset/superset zeta and Möbius transforms over f64[2^n], in place, plus the OR transform and its
// inverse built on them. Structure (stack-notes §6.2): rows of 2^ROW_BITS values are transformed inside cache
// (L1 blocks of 2^BLOCK_BITS for the low bits, then radix-8 passes over the row), then the high bits are applied
// panel by panel (all rows × a few contiguous columns, sized to stay in L2). For n ≥ ROW_BITS this reads and writes
// main memory twice, the least a two-level blocking can do. Must agree with radix2.ts.
// see: Yates (1937); FFHT, https://github.com/FALCONN-LIB/FFHT (in-register kernels + cache-aware recursion);
// Park & Prasanna, "Cache conscious Walsh-Hadamard transform", ICASSP 2001.

/** log2 of the L1 block: 2^12 f64 = 32 KiB, four radix-8 sweeps (bits 0–2, 3–5, 6–8, 9–11). */
const BLOCK_BITS: i32 = 12;
/** log2 of a row transformed in cache: 2^17 f64 = 1 MiB (half the L2 of the 2-core Xeon VM we tuned on; rows of
 *  2^16 and 2^15 took 53 and 60 ms against 52 ms at n = 24 there). */
const ROW_BITS: i32 = 17;
/** Bytes of one panel of the high-bit phase (rows × contiguous columns). */
const PANEL_BYTES: usize = 512 << 10;

/** Combines two vectors: dst ± src. */
@inline
function combine(dst: v128, src: v128, subtract: bool): v128 {
  return subtract ? f64x2.sub(dst, src) : f64x2.add(dst, src);
}

/** Bit 0 lives inside each f64x2 vector: [a0, a1] → [a0, a1 ± a0] (subset) or [a0 ± a1, a1] (superset).
 *  p: first byte, bytes: multiple of 16. */
@inline
function bitZero(p: usize, bytes: usize, superset: bool, subtract: bool): void {
  const zero = f64x2.splat(0);
  const end = p + bytes;
  for (; p < end; p += 16) {
    const x = v128.load(p);
    const shifted = superset ? v128.shuffle<f64>(x, zero, 1, 2) : v128.shuffle<f64>(zero, x, 0, 2);
    v128.store(p, combine(x, shifted, subtract));
  }
}

/** Bits 0, 1 and 2 in one sweep: bit 0 inside each vector, bits 1–2 across four consecutive vectors.
 *  p: first byte, bytes: multiple of 64. */
@inline
function lowBits(p: usize, bytes: usize, superset: bool, subtract: bool): void {
  const zero = f64x2.splat(0);
  const end = p + bytes;
  for (; p < end; p += 64) {
    let x0 = v128.load(p), x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48);
    if (superset) {
      x0 = combine(x0, v128.shuffle<f64>(x0, zero, 1, 2), subtract);
      x1 = combine(x1, v128.shuffle<f64>(x1, zero, 1, 2), subtract);
      x2 = combine(x2, v128.shuffle<f64>(x2, zero, 1, 2), subtract);
      x3 = combine(x3, v128.shuffle<f64>(x3, zero, 1, 2), subtract);
      x0 = combine(x0, x1, subtract); x2 = combine(x2, x3, subtract);
      x0 = combine(x0, x2, subtract); x1 = combine(x1, x3, subtract);
    } else {
      x0 = combine(x0, v128.shuffle<f64>(zero, x0, 0, 2), subtract);
      x1 = combine(x1, v128.shuffle<f64>(zero, x1, 0, 2), subtract);
      x2 = combine(x2, v128.shuffle<f64>(zero, x2, 0, 2), subtract);
      x3 = combine(x3, v128.shuffle<f64>(zero, x3, 0, 2), subtract);
      x1 = combine(x1, x0, subtract); x3 = combine(x3, x2, subtract);
      x2 = combine(x2, x0, subtract); x3 = combine(x3, x1, subtract);
    }
    v128.store(p, x0); v128.store(p, x1, 16); v128.store(p, x2, 32); v128.store(p, x3, 48);
  }
}

/**
 * Applies bits j..j+r−1 (r = 1, 2 or 3) with register butterflies to the elements at
 * base + o + m + c (in elements), for o in [0, span) step 2^(j+r), m in [0, 2^j) step midStep, c in [c0, c0+width).
 * Within a row: midStep = 2^j, c0 = 0, width = 2^j (contiguous runs). In a panel: midStep = row length.
 */
@inline
function radixPass(base: usize, j: i32, r: i32, span: usize, midStep: usize, c0: usize, width: usize, superset: bool, subtract: bool): void {
  const h: usize = (<usize>1 << j) << 3; // bytes between the two halves of bit j
  const group: usize = h << r;
  const mid: usize = midStep << 3;
  const spanBytes: usize = span << 3;
  const runBytes: usize = width << 3;
  for (let o: usize = 0; o < spanBytes; o += group) {
    for (let m: usize = 0; m < h; m += mid) {
      let p = base + o + m + (c0 << 3);
      const end = p + runBytes;
      if (r == 3) {
        for (; p < end; p += 16) {
          let x0 = v128.load(p), x1 = v128.load(p + h), x2 = v128.load(p + 2 * h), x3 = v128.load(p + 3 * h);
          let x4 = v128.load(p + 4 * h), x5 = v128.load(p + 5 * h), x6 = v128.load(p + 6 * h), x7 = v128.load(p + 7 * h);
          if (superset) {
            x0 = combine(x0, x1, subtract); x2 = combine(x2, x3, subtract); x4 = combine(x4, x5, subtract); x6 = combine(x6, x7, subtract);
            x0 = combine(x0, x2, subtract); x1 = combine(x1, x3, subtract); x4 = combine(x4, x6, subtract); x5 = combine(x5, x7, subtract);
            x0 = combine(x0, x4, subtract); x1 = combine(x1, x5, subtract); x2 = combine(x2, x6, subtract); x3 = combine(x3, x7, subtract);
          } else {
            x1 = combine(x1, x0, subtract); x3 = combine(x3, x2, subtract); x5 = combine(x5, x4, subtract); x7 = combine(x7, x6, subtract);
            x2 = combine(x2, x0, subtract); x3 = combine(x3, x1, subtract); x6 = combine(x6, x4, subtract); x7 = combine(x7, x5, subtract);
            x4 = combine(x4, x0, subtract); x5 = combine(x5, x1, subtract); x6 = combine(x6, x2, subtract); x7 = combine(x7, x3, subtract);
          }
          v128.store(p, x0); v128.store(p + h, x1); v128.store(p + 2 * h, x2); v128.store(p + 3 * h, x3);
          v128.store(p + 4 * h, x4); v128.store(p + 5 * h, x5); v128.store(p + 6 * h, x6); v128.store(p + 7 * h, x7);
        }
      } else if (r == 2) {
        for (; p < end; p += 16) {
          let x0 = v128.load(p), x1 = v128.load(p + h), x2 = v128.load(p + 2 * h), x3 = v128.load(p + 3 * h);
          if (superset) {
            x0 = combine(x0, x1, subtract); x2 = combine(x2, x3, subtract);
            x0 = combine(x0, x2, subtract); x1 = combine(x1, x3, subtract);
          } else {
            x1 = combine(x1, x0, subtract); x3 = combine(x3, x2, subtract);
            x2 = combine(x2, x0, subtract); x3 = combine(x3, x1, subtract);
          }
          v128.store(p, x0); v128.store(p + h, x1); v128.store(p + 2 * h, x2); v128.store(p + 3 * h, x3);
        }
      } else {
        for (; p < end; p += 16) {
          const x0 = v128.load(p), x1 = v128.load(p + h);
          if (superset) v128.store(p, combine(x0, x1, subtract));
          else v128.store(p + h, combine(x1, x0, subtract));
        }
      }
    }
  }
}

/** Bits from..to−1 over contiguous data of `span` elements, three at a time. */
@inline
function contiguousBits(base: usize, from: i32, to: i32, span: usize, superset: bool, subtract: bool): void {
  for (let j = from; j < to; j += 3) {
    const r = min(3, to - j);
    radixPass(base, j, r, span, <usize>1 << j, 0, <usize>1 << j, superset, subtract);
  }
}

/** The whole transform of f64[2^m] that fits in cache (m ≤ ROW_BITS): L1 blocks first, then the rest of the bits. */
@inline
function inCache(ptr: usize, m: i32, superset: bool, subtract: bool): void {
  const b = min(m, BLOCK_BITS);
  const blockElems: usize = <usize>1 << b;
  const size: usize = <usize>1 << m;
  for (let blk: usize = 0; blk < size; blk += blockElems) {
    const p = ptr + (blk << 3);
    if (b >= 3) {
      lowBits(p, blockElems << 3, superset, subtract);
      contiguousBits(p, 3, b, blockElems, superset, subtract);
    } else {
      bitZero(p, blockElems << 3, superset, subtract);
      contiguousBits(p, 1, b, blockElems, superset, subtract);
    }
  }
  contiguousBits(ptr, b, m, size, superset, subtract);
}

/** The blocked transform of f64[2^n] at ptr (16-byte aligned), in place. */
@inline
function transform(ptr: usize, n: i32, superset: bool, subtract: bool): void {
  if (n <= 0) return;
  if (n <= ROW_BITS) {
    inCache(ptr, n, superset, subtract);
    return;
  }
  const rb = ROW_BITS;
  const rowElems: usize = <usize>1 << rb;
  const rows: usize = <usize>1 << (n - rb);
  for (let r: usize = 0; r < rows; r++) inCache(ptr + ((r * rowElems) << 3), rb, superset, subtract);
  // panel width: as many contiguous columns as keep all rows of the panel within PANEL_BYTES (at least one vector)
  let width: usize = PANEL_BYTES / (rows << 3);
  if (width < 2) width = 2;
  if (width > rowElems) width = rowElems;
  const size: usize = <usize>1 << n;
  for (let c0: usize = 0; c0 < rowElems; c0 += width) {
    for (let j = rb; j < n; j += 3) {
      radixPass(ptr, j, min(3, n - j), size, rowElems, c0, width, superset, subtract);
    }
  }
}

/** Subset zeta, in place. a: f64[2^n] at ptr (16-byte aligned); bit i of the index = player i.
 *  a[S] ← Σ_{T⊆S} a[T]. */
export function zetaSubsetF64(ptr: usize, n: i32): void {
  if (n == 0) return;
  transform(ptr, n, false, false);
}

/** Subset Möbius (Harsanyi dividends), in place. a[S] ← Σ_{T⊆S} (−1)^{|S|−|T|} a[T]. */
export function mobiusSubsetF64(ptr: usize, n: i32): void {
  if (n == 0) return;
  transform(ptr, n, false, true);
}

/** Superset zeta, in place. a[T] ← Σ_{S⊇T} a[S]. The adjoint of zetaSubsetF64. */
export function zetaSupersetF64(ptr: usize, n: i32): void {
  if (n == 0) return;
  transform(ptr, n, true, false);
}

/** Superset Möbius, in place. a[T] ← Σ_{S⊇T} (−1)^{|S|−|T|} a[S]. The adjoint of mobiusSubsetF64. */
export function mobiusSupersetF64(ptr: usize, n: i32): void {
  if (n == 0) return;
  transform(ptr, n, true, true);
}

/** a[S] ↔ sign·a[N∖S] over f64[2^n] (the complement of index i is 2^n−1−i), in place. */
@inline
function reverse(ptr: usize, n: i32, negate: bool): void {
  let lo = ptr;
  let hi = ptr + (((<usize>1 << n) - 1) << 3);
  while (lo < hi) {
    const t = load<f64>(lo);
    store<f64>(lo, negate ? -load<f64>(hi) : load<f64>(hi));
    store<f64>(hi, negate ? -t : t);
    lo += 8;
    hi -= 8;
  }
  if (lo == hi && negate) store<f64>(lo, -load<f64>(lo));
}

/** a ← scale·a + shift over f64[len]. */
export function affineF64(ptr: usize, len: i32, scale: f64, shift: f64): void {
  const s = f64x2.splat(scale);
  const t = f64x2.splat(shift);
  let p = ptr;
  const end = ptr + (<usize>len << 3);
  for (; p + 16 <= end; p += 16) v128.store(p, f64x2.add(f64x2.mul(v128.load(p), s), t));
  for (; p < end; p += 8) store<f64>(p, scale * load<f64>(p) + shift);
}

/** OR interactions of a game, in place: a = v_or becomes I_or, with I_or(S) = −Σ_{T⊆S} (−1)^{|S|−|T|} v_or(N∖T)
 *  for S ≠ ∅ and I_or(∅) = v_or(∅) (spec §1.4). Computed as I_or(S) = −w(N∖S), w = superset Möbius of v_or. */
export function orTransformF64(ptr: usize, n: i32): void {
  const empty = load<f64>(ptr);
  mobiusSupersetF64(ptr, n);
  reverse(ptr, n, true);
  store<f64>(ptr, empty);
}

/** Inverse of orTransformF64, in place: a = I_or becomes v_or, with
 *  v_or(T) = I_or(∅) + Σ_{S≠∅, S∩T≠∅} I_or(S) = I_or(∅) + z(N) − z(N∖T), z = subset zeta of I_or with z(∅) = 0;
 *  computed as z(N∖T) = superset zeta of the reversed vector, at T. */
export function orInverseF64(ptr: usize, n: i32): void {
  const empty = load<f64>(ptr);
  store<f64>(ptr, 0.0);
  reverse(ptr, n, false);
  zetaSupersetF64(ptr, n);
  const full = load<f64>(ptr); // z(N): the sum of every non-empty I_or
  affineF64(ptr, 1 << n, -1.0, empty + full);
}
