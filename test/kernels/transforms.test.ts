// The transform kernels (release and debug builds) against O(3^n) brute force for n = 1..12, on known games, and
// the identities that tie them together.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KERNEL_TARGETS, ShapeMismatchError, bruteForce, bruteForceOr, createEngine, expectClose, seededRandom, unanimityGame, type Engine,
} from '../helpers/index.js';

const SIZES = Array.from({ length: 12 }, (_, i) => i + 1);

describe.each(KERNEL_TARGETS)('transforms (%s kernels)', (target) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ kernels: target });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it.each(SIZES)('zeta, mobius and their superset forms match brute force at n = %i', async (n) => {
    const x = seededRandom(1000 + n, 1 << n);
    const tol = { atol: 1e-9 * n };
    expectClose(await engine.zeta(x), bruteForce(x, 'zeta'), tol);
    expectClose(await engine.mobius(x), bruteForce(x, 'mobius'), tol);
    expectClose(await engine.zetaSuperset(x), bruteForce(x, 'zetaSuperset'), tol);
    expectClose(await engine.mobiusSuperset(x), bruteForce(x, 'mobiusSuperset'), tol);
  });

  it.each(SIZES)('the OR transform matches its definition at n = %i', async (n) => {
    const v = seededRandom(2000 + n, 1 << n);
    expectClose(await engine.orTransform(v), bruteForceOr(v), { atol: 1e-9 * n });
  });

  it('sums over subsets (n = 2, hand-computed)', async () => {
    // y[S] = Σ_{T⊆S} x[T]; bit i of the index = element i is in the set
    expect(await engine.zeta(Float64Array.of(1, 2, 3, 4))).toEqual(Float64Array.of(1, 3, 4, 10));
    expect(await engine.mobius(Float64Array.of(1, 3, 4, 10))).toEqual(Float64Array.of(1, 2, 3, 4));
  });

  it('recovers the coefficients of a sum of unanimity games', async () => {
    // v = 2·u_{0,1} − 3·u_{2} + 0.5·u_{0,2,3} + 7·u_∅ over n = 4: Möbius(v) is exactly these weights
    const terms = [{ mask: 0b0011, weight: 2 }, { mask: 0b0100, weight: -3 }, { mask: 0b1101, weight: 0.5 }, { mask: 0, weight: 7 }];
    const expected = new Float64Array(16);
    for (const t of terms) expected[t.mask] = t.weight;
    expectClose(await engine.mobius(unanimityGame(4, terms)), expected, { atol: 1e-12 });
  });

  it('a disjunctive game has a single OR interaction', async () => {
    // v(T) = 5·[T ∩ {1,2} ≠ ∅]: I_or({1,2}) = 5 and every other OR term (∅ included) is 0
    const n = 3;
    const v = Float64Array.from({ length: 1 << n }, (_, t) => (t & 0b110 ? 5 : 0));
    const expected = new Float64Array(1 << n);
    expected[0b110] = 5;
    expectClose(await engine.orTransform(v), expected, { atol: 1e-12 });
  });

  it.each([1, 5, 12])('mobius inverts zeta, superset Möbius inverts superset zeta, OR inverse inverts OR (n = %i)', async (n) => {
    const x = seededRandom(3000 + n, 1 << n);
    expectClose(await engine.mobius(await engine.zeta(x)), x, { atol: 1e-9 });
    expectClose(await engine.mobiusSuperset(await engine.zetaSuperset(x)), x, { atol: 1e-9 });
    expectClose(await engine.orInverse(await engine.orTransform(x)), x, { atol: 1e-9 });
  });

  it('superset transforms are the adjoints of subset transforms', async () => {
    // <Mx, y> = <x, Mᵀy> for M = subset Möbius and Mᵀ = superset Möbius
    const n = 9;
    const x = seededRandom(41, 1 << n);
    const y = seededRandom(42, 1 << n);
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, ai, i) => s + ai * b[i], 0);
    expectClose(dot(await engine.mobius(x), y), dot(x, await engine.mobiusSuperset(y)), { atol: 1e-9 });
    expectClose(dot(await engine.zeta(x), y), dot(x, await engine.zetaSuperset(y)), { atol: 1e-9 });
  });

  it('handles the size-1 (n = 0) vector and propagates NaN only where it belongs', async () => {
    expect(await engine.mobius(Float64Array.of(3))).toEqual(Float64Array.of(3));
    const x = Float64Array.of(1, 2, NaN, 4);
    const z = await engine.zeta(x);
    expect(Array.from(z, Number.isNaN)).toEqual([false, false, true, true]); // {1} and {0} do not contain player 1
  });

  it('rejects a length that is not a power of two, and the empty vector', async () => {
    await expect(engine.zeta(new Float64Array(3))).rejects.toThrowError(ShapeMismatchError);
    await expect(engine.mobius(new Float64Array(0))).rejects.toThrowError(ShapeMismatchError);
  });
});

describe.each(KERNEL_TARGETS)('blocked transforms against the radix-2 kernels (%s)', (target) => {
  // n > 16 exercises the row + panel phase with 1, 3, 3+1 and 3+2 high bits
  it.each([13, 16, 17, 19, 20, 21])('agree at n = %i', async (n) => {
    const { loadKernels } = await import('../../dist/bindings/index.js');
    const host = await loadKernels(target);
    const x = seededRandom(5000 + n, 1 << n);
    const fast = host.alloc(x.length);
    const simple = host.alloc(x.length);
    const pairs = [
      ['zetaSubsetF64', 'zetaSubsetRadix2F64'], ['mobiusSubsetF64', 'mobiusSubsetRadix2F64'],
      ['zetaSupersetF64', 'zetaSupersetRadix2F64'], ['mobiusSupersetF64', 'mobiusSupersetRadix2F64'],
    ] as const;
    for (const [blocked, radix2] of pairs) {
      host.view(fast).set(x);
      host.view(simple).set(x);
      host.call(blocked, fast.ptr, n);
      host.call(radix2, simple.ptr, n);
      // the two orders of summation differ in rounding only; values grow like 2^n·|x| for zeta
      expectClose(host.view(fast), host.view(simple), { atol: 1e-12 * 2 ** n, rtol: 1e-12 });
    }
    host.free(fast);
    host.free(simple);
  });
});
