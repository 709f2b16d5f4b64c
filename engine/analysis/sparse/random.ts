// Seeded pseudo-random numbers for the sparse engine (mulberry32), so that a run is reproducible from
// options.seed. A class with its state in a field: V8 inlines its methods into the hot loops (a closure-based
// generator measured 4× slower per draw). Nothing here knows about games or masks.

/** A seeded stream of pseudo-random numbers. see: Tommy Ettinger, mulberry32 (public domain, 2017). */
export class Rng {
  private state: number;

  /** @param seed - any number; only its low 32 bits count */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const s = (this.state = (this.state + 0x6d2b79f5) | 0);
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** The stream's state (a u32): a kernel that draws the same numbers (treeBoostF64) starts from it. */
  save(): number {
    return this.state >>> 0;
  }

  /** Continues from a saved state, e.g. where such a kernel left the stream. */
  restore(state: number): void {
    this.state = state | 0;
  }

  /** A uniform number in [0, 1). */
  uniform(): number {
    return this.uint32() / 4294967296;
  }

  /**
   * A uniform integer in [0, k).
   * @param k - the bound, 1..2^31
   * @returns ⌊u·k⌋ for a uniform 32-bit u/2^32
   */
  below(k: number): number {
    return ((this.uint32() * k) / 4294967296) | 0;
  }
}

/**
 * Creates a mulberry32 stream.
 * @param seed - any number; only its low 32 bits count
 * @returns the stream
 */
export function createRng(seed: number): Rng {
  return new Rng(seed);
}
