// Players whose absence changes nothing: every element they own holds its baseline value already (in the dtype the
// model is fed; for the marginal baseline, every reference row's), as a blank cell of an MNIST digit at the zero
// baseline, or a one-hot feature that is 0. A mask with or without such a player is the same input, so
// v(T) = v(T ∖ i) exactly: the exact path evaluates the 2^(n−k) masks of the other players only, and copies. SHAP
// skips such features the same way (peers.md, "Where to beat them").
import { toTyped } from './masking.js';
import { rowsPerMask, type MaskPlan } from './plan.js';

/**
 * The players of a plan whose every element equals its baseline value (each of the R baselines), as fed to the model.
 * @returns player indices, ascending
 */
export function nullPlayers(plan: MaskPlan): number[] {
  const per = rowsPerMask(plan);
  const isNull = new Array<boolean>(plan.n).fill(true);
  for (const masked of plan.masked) {
    const input = plan.inputs.find((i) => i.name === masked.name);
    if (!input) return [];
    const size = input.values.length;
    const present = toTyped(input.dtype, input.values);
    const absent = toTyped(input.dtype, masked.baseline);
    for (let i = 0; i < plan.n; i++) {
      for (let k = masked.offsets[i]; isNull[i] && k < masked.offsets[i + 1]; k++) {
        const d = masked.indices[k];
        for (let r = 0; r < per; r++) {
          if (present[d] !== absent[r * size + d]) {
            isNull[i] = false;
            break;
          }
        }
      }
    }
  }
  return isNull.flatMap((yes, i) => (yes ? [i] : []));
}

/**
 * The players that change the input (not null), at least one: a plan of none has no mask to evaluate.
 * @returns player indices, ascending
 */
export function changingPlayers(plan: MaskPlan): number[] {
  const nulls = new Set(nullPlayers(plan));
  const kept = Array.from({ length: plan.n }, (_, i) => i).filter((i) => !nulls.has(i));
  return kept.length > 0 ? kept : [0];
}

/**
 * The plan of the kept players only (player j of it is kept[j]); the others stay at their values, which are their
 * baselines.
 */
export function keepPlayers(plan: MaskPlan, kept: readonly number[]): MaskPlan {
  const masked = plan.masked.map((m) => {
    const offsets = new Int32Array(kept.length + 1);
    kept.forEach((i, j) => (offsets[j + 1] = offsets[j] + m.offsets[i + 1] - m.offsets[i]));
    const indices = new Int32Array(offsets[kept.length]);
    kept.forEach((i, j) => indices.set(m.indices.subarray(m.offsets[i], m.offsets[i + 1]), offsets[j]));
    return { ...m, offsets, indices };
  });
  return { ...plan, n: kept.length, masked };
}

/**
 * The game of all n players from the game of the kept ones: v[T] = reduced[T ∩ kept], the others' bits dropped.
 * @param reduced - v of the kept players, 2^kept.length values (bit j = player kept[j])
 * @param kept - the kept players, ascending
 * @param n - all players
 */
export function expandGame(reduced: Float64Array, kept: readonly number[], n: number): Float64Array {
  const v = new Float64Array(2 ** n);
  const dropped: number[] = [];
  for (let i = 0, j = 0; i < n; i++) {
    if (kept[j] === i) j++;
    else dropped.push(i);
  }
  // each reduced mask, deposited at the kept players' bits, then every subset of the dropped players added to it
  const subsets = Array.from({ length: 2 ** dropped.length }, (_, z) => dropped.reduce((mask, player, b) => ((z >>> b) & 1 ? mask | (1 << player) : mask), 0));
  for (let r = 0; r < reduced.length; r++) {
    let mask = 0;
    for (let j = 0; j < kept.length; j++) if ((r >>> j) & 1) mask |= 1 << kept[j];
    for (const z of subsets) v[(mask | z) >>> 0] = reduced[r];
  }
  return v;
}
