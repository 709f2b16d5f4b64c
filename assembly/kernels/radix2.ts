// Subset/superset zeta and Möbius transforms over 2^n f64 values, plus the OR transform and its inverse.
// Plain radix-2 butterflies (Yates' algorithm), O(n·2^n), in place. These are the reference kernels; the
// blocked SIMD kernels in transforms-fast.ts must agree with them. No allocation, no host imports.
// see: F. Yates, "The design and analysis of factorial experiments" (1937); Björklund et al., "Fourier meets
// Möbius: fast subset convolution", STOC 2007.

/** One radix-2 pass set: for every bit j, the pair (S without j, S with j) is combined.
 *  superset = false: a[S∪j] ±= a[S];  superset = true: a[S] ±= a[S∪j]. */
@inline
function butterflies(ptr: usize, n: i32, superset: bool, subtract: bool): void {
  const size = <usize>1 << n;
  for (let j = 0; j < n; j++) {
    const half = <usize>1 << j;
    for (let base: usize = 0; base < size; base += half << 1) {
      for (let k: usize = 0; k < half; k++) {
        const lo = ptr + ((base + k) << 3); // bit j clear
        const hi = lo + (half << 3); // bit j set
        const dst = superset ? lo : hi;
        const src = superset ? hi : lo;
        const value = subtract ? load<f64>(dst) - load<f64>(src) : load<f64>(dst) + load<f64>(src);
        store<f64>(dst, value);
      }
    }
  }
}

/** Subset zeta, in place. a: f64[2^n] at ptr; bit i of the index = player i. a[S] ← Σ_{T⊆S} a[T]. */
export function zetaSubsetF64(ptr: usize, n: i32): void {
  butterflies(ptr, n, false, false);
}

/** Subset Möbius (Harsanyi dividends), in place. a[S] ← Σ_{T⊆S} (−1)^{|S|−|T|} a[T]. Inverse of zetaSubsetF64. */
export function mobiusSubsetF64(ptr: usize, n: i32): void {
  butterflies(ptr, n, false, true);
}

/** Superset zeta, in place. a[T] ← Σ_{S⊇T} a[S]. The adjoint of zetaSubsetF64. */
export function zetaSupersetF64(ptr: usize, n: i32): void {
  butterflies(ptr, n, true, false);
}

/** Superset Möbius, in place. a[T] ← Σ_{S⊇T} (−1)^{|S|−|T|} a[S]. The adjoint of mobiusSubsetF64. */
export function mobiusSupersetF64(ptr: usize, n: i32): void {
  butterflies(ptr, n, true, true);
}

/** Reverses a: f64[2^n] in place, i.e. a[S] ↔ a[N∖S] (the complement of index i is 2^n−1−i). */
export function complementF64(ptr: usize, n: i32): void {
  let lo = ptr;
  let hi = ptr + ((<usize>1 << n) - 1) * 8;
  while (lo < hi) {
    const t = load<f64>(lo);
    store<f64>(lo, load<f64>(hi));
    store<f64>(hi, t);
    lo += 8;
    hi -= 8;
  }
}

/** a ← scale·a + shift, elementwise over f64[len]. */
export function affineF64(ptr: usize, len: i32, scale: f64, shift: f64): void {
  const end = ptr + (<usize>len << 3);
  for (let p = ptr; p < end; p += 8) store<f64>(p, scale * load<f64>(p) + shift);
}

/** OR interactions of a game, in place: a = v_or on f64[2^n] becomes I_or, with
 *  I_or(S) = −Σ_{T⊆S} (−1)^{|S|−|T|} v_or(N∖T) for S ≠ ∅ and I_or(∅) = v_or(∅) (spec §1.4). */
export function orTransformF64(ptr: usize, n: i32): void {
  const empty = load<f64>(ptr);
  complementF64(ptr, n);
  mobiusSubsetF64(ptr, n);
  affineF64(ptr, 1 << n, -1.0, 0.0);
  store<f64>(ptr, empty);
}

/** Inverse of orTransformF64, in place: a = I_or becomes the OR part of the game,
 *  v_or(T) = I_or(∅) + Σ_{S≠∅, S∩T≠∅} I_or(S) = I_or(∅) + z(N) − z(N∖T), z = subset zeta of I_or with z(∅) = 0. */
export function orInverseF64(ptr: usize, n: i32): void {
  const empty = load<f64>(ptr);
  store<f64>(ptr, 0.0);
  zetaSubsetF64(ptr, n);
  const full = load<f64>(ptr + (((<usize>1 << n) - 1) << 3));
  complementF64(ptr, n);
  affineF64(ptr, 1 << n, -1.0, empty + full);
}
