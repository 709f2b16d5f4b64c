// What a run of many units (a batch, a dynamics run) says of their warnings: each kind once, as its first unit gives
// it, and at the end how many units gave it in all. Per unit, a batch of 500 samples whose sparse expansions all fit
// poorly printed 500 such warnings, each with its own numbers.

/** A warning, and its kind where units of a run may repeat it (their messages differ in their numbers). */
export type WarningSink = (message: string, kind?: WarningKind) => void;

/** The warnings a unit may give again and again: the split's divergence, a sparse expansion that fits poorly, sparse
 *  indices given to a lower order than asked. */
export type WarningKind = 'split-diverged' | 'sparse-unfaithful' | 'sparse-indices-lowered';

/** Below this held-out R² (of either expansion) a sparse explanation's terms explain too little of v to be read as
 *  the model's interactions, and the run says so ('sparse-unfaithful'; a dense game of 4096 players from 10⁴
 *  evaluations: −0.001 to 0.024, bench/sparse-real part 5, runs 37–39). */
export const LOW_FAITHFULNESS = 0.5;

/** How the summary names the units that gave a kind. */
const SAID: Record<WarningKind, string> = {
  'split-diverged': 'had a decomposition that diverged (their interactions are those of the best iterate)',
  'sparse-unfaithful': `had sparse expansions with a held-out R² below ${LOW_FAITHFULNESS} (their terms are a rough account)`,
  'sparse-indices-lowered': 'had their interaction indices given to a lower order than asked (the sets of the order asked would not fit)',
};

/**
 * A sink for the units of one run: a warning without a kind, and the first of each kind, go on to `onWarning` at
 * once; later ones of that kind are counted. summarize() then says each kind that more than one unit gave, once.
 * @param onWarning - the run's sink (none: nothing is said)
 * @param what - the units, as the summary names them ('pairs', 'samples')
 */
export function warningSummary(onWarning: WarningSink | undefined, what: string): { readonly onWarning: WarningSink; summarize(total: number): void } {
  const counts = new Map<WarningKind, number>();
  return {
    onWarning: (message, kind) => {
      if (kind === undefined || !counts.has(kind)) onWarning?.(message, kind);
      if (kind !== undefined) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    },
    summarize: (total) => {
      for (const [kind, count] of counts) {
        if (count > 1) onWarning?.(`${count} of ${total} ${what} ${SAID[kind]}; the first said so above, the others were not said one by one.`);
      }
    },
  };
}
