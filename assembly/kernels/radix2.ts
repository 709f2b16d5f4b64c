// Plain radix-2 subset/superset zeta and Möbius transforms (Yates' algorithm), O(n·2^n), in place, scalar. They are
// the simple reference that the blocked SIMD kernels in transforms.ts are tested against for large n, and the
// baseline of the kernel benchmarks. No allocation, no host imports.
// see: F. Yates, "The design and analysis of factorial experiments" (1937); Björklund et al., "Fourier meets
// Möbius: fast subset convolution", STOC 2007.

/** For every bit j and every pair (S without j, S with j): superset = false: a[S∪j] ±= a[S]; true: a[S] ±= a[S∪j]. */
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

/** Subset zeta, radix-2 reference. a: f64[2^n] at ptr, in place; bit i of the index = player i. */
export function zetaSubsetRadix2F64(ptr: usize, n: i32): void {
  butterflies(ptr, n, false, false);
}

/** Subset Möbius, radix-2 reference. */
export function mobiusSubsetRadix2F64(ptr: usize, n: i32): void {
  butterflies(ptr, n, false, true);
}

/** Superset zeta, radix-2 reference. */
export function zetaSupersetRadix2F64(ptr: usize, n: i32): void {
  butterflies(ptr, n, true, false);
}

/** Superset Möbius, radix-2 reference. */
export function mobiusSupersetRadix2F64(ptr: usize, n: i32): void {
  butterflies(ptr, n, true, true);
}
