// Engine-level transform ops over the kernel host: argument checks, then one in-place kernel call on a buffer in
// module memory. The copying forms (for library users) copy in once and out once; analyses work in place.
import { ShapeMismatchError } from '../contracts/errors.js';
import type { F64Buffer, KernelFunctions, KernelHost } from '../contracts/kernels.js';
import { MAX_PLAYERS } from '../contracts/limits.js';

/** The transforms a caller can run on a vector of 2^n values, by kernel name. */
export type TransformName = 'zetaSubsetF64' | 'mobiusSubsetF64' | 'zetaSupersetF64' | 'mobiusSupersetF64' | 'orTransformF64' | 'orInverseF64';

/**
 * log2 of a length that must be a power of two between 2^least (2^0 by default) and 2^MAX_PLAYERS.
 * @throws ShapeMismatchError otherwise
 */
export function playersOf(length: number, what = 'The vector', least = 0): number {
  const n = Math.log2(length);
  if (!Number.isInteger(n) || n < least || n > MAX_PLAYERS) {
    throw new ShapeMismatchError(`${what} has ${length} values; it must hold 2^n values (one per mask) for some n in ${least}..${MAX_PLAYERS}.`);
  }
  return n;
}

/** Runs `fn` with a fresh buffer holding a copy of x, and frees the buffer afterwards. */
export function withBuffer<T>(host: KernelHost, x: Float64Array, fn: (buffer: F64Buffer) => T): T {
  const buffer = host.alloc(x.length);
  try {
    host.view(buffer).set(x);
    return fn(buffer);
  } finally {
    host.free(buffer);
  }
}

/**
 * Applies one transform to a copy of x.
 * @param host - the kernel module
 * @param name - the kernel
 * @param x - f64[2^n]; bit i of the index = player i
 * @returns the transformed copy
 * @throws ShapeMismatchError when x.length is not a power of two
 */
export function transform(host: KernelHost, name: TransformName, x: Float64Array): Float64Array {
  const n = playersOf(x.length);
  return withBuffer(host, x, (buffer) => {
    host.call(name as keyof KernelFunctions, buffer.ptr, n);
    return host.view(buffer).slice();
  });
}
