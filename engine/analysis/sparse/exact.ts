// The exact path: when the budget covers all 2^n masks (n ≤ 20), evaluate every mask and take the full Möbius
// transform. Used for small n and as the reference the sparse methods must agree with.
import { createMasks } from './masks.js';
import type { GameOracle } from './oracle.js';
import { rSquared } from './expansion.js';
import { sortTerms } from './terms.js';
import type { SparseExpansion, SparseTerm } from './types.js';

/** Masks per game call on the exact path (progress and cancellation between calls). */
const CHUNK = 1 << 14;

/**
 * Evaluates v on all 2^n masks (row index = mask, bit i = player i) and returns its Möbius terms of order ≤ d.
 * Faithfulness is the R² of the truncated expansion on all 2^n masks (heldOut = 0: no mask is unseen).
 * @param oracle - the game (budget ≥ 2^n)
 * @param n - players, ≤ 20
 * @param maxOrder - d
 * @returns the expansion, method 'exact', with every coefficient by mask (mobius)
 */
export async function exactMobius(oracle: GameOracle, n: number, maxOrder: number): Promise<SparseExpansion> {
  const size = 2 ** n;
  const v = new Float64Array(size);
  for (let start = 0; start < size; start += CHUNK) {
    const count = Math.min(CHUNK, size - start);
    const batch = createMasks(n, count);
    if (batch.words > 0) for (let r = 0; r < count; r++) batch.bits[r] = start + r;
    v.set(await oracle.evaluate(batch), start);
  }
  const m = Float64Array.from(v);
  mobiusInPlace(m, n);
  oracle.throwIfCancelled();
  let largest = 0;
  for (let s = 0; s < size; s++) largest = Math.max(largest, Math.abs(v[s]));
  // m(S) sums 2^|S| values, each at most `largest`: below 4ε·2^|S|·largest it is round-off of a zero coefficient
  // (2^n in place of 2^|S| dropped a pair term of 2e-6 on v ≈ 10^6 at n = 12: an adversarial sweep, stop 33)
  const dust = 4 * Number.EPSILON * largest;
  const kept = new Float64Array(size);
  const terms: SparseTerm[] = [];
  for (let s = 0; s < size; s++) {
    const players = playersOf(s);
    if (players.length > maxOrder || (s !== 0 && !(Math.abs(m[s]) > dust * 2 ** players.length))) continue;
    kept[s] = m[s];
    terms.push({ players, value: m[s] });
  }
  zetaInPlace(kept, n);
  return { n, method: 'exact', terms: sortTerms(terms), evaluations: oracle.used, faithfulness: { r2: rSquared(v, kept), heldOut: 0 }, mobius: m };
}

/** a[S] ← Σ_{T⊆S} (−1)^{|S|−|T|} a[T], in place (one pass per player: the fast Möbius transform, O(n·2^n)). */
export function mobiusInPlace(a: Float64Array, n: number): void {
  for (let bit = 1; bit < 2 ** n; bit *= 2) for (let s = 0; s < a.length; s++) if (s & bit) a[s] -= a[s ^ bit];
}

/** a[S] ← Σ_{T⊆S} a[T], in place. */
function zetaInPlace(a: Float64Array, n: number): void {
  for (let bit = 1; bit < 2 ** n; bit *= 2) for (let s = 0; s < a.length; s++) if (s & bit) a[s] += a[s ^ bit];
}

function playersOf(mask: number): number[] {
  const players: number[] = [];
  for (let i = 0; mask >>> i; i++) if ((mask >>> i) & 1) players.push(i);
  return players;
}
