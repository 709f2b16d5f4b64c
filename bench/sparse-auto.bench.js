// The sparse method's default (tolerance auto) against tolerance 0 on small exactly sparse games at budgets below the
// formula F (README, "Budget"), side by side in one run. Each game is v = 1 + Σ_j c_j·1[S_j ⊆ T] with 6–15 planted
// terms of order ≤ 3 (|c_j| in [0.5, 3.5], random signs), n ∈ {12, 20, 40, 100}, 6 games per n, run through
// engine.explainFunction (AND and OR expansions, maxOrder 3) at budgets 800 and 1500.
//
//   node bench/sparse-auto.bench.js     # about 1 min
//
// A game counts as recovered when every AND term (∅ included) is within 1e-9 of the planted coefficient and no other
// term is there. Auto stops its exact search once it holds twice the terms F pays for and one of them is under 1 % of
// |v(N) − v(∅)| (a trained model's dense tail), and gives it at most 90 % of its budget: tolerance 0 searches on to the
// whole budget. No target: this suite documents where auto is the wrong choice.
import { createEngine } from '../dist/engine/index.js';
import { busyNote, foreignCpu, progress, runSuite } from './harness.js';

const SIZES = [12, 20, 40, 100];
const GAMES = 6;
const BUDGETS = [800, 1500];
const MAX_ORDER = 3;

/** A linear congruential stream in [0, 1) (the games only; the engine draws its own masks). */
function stream(seed) {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** k planted terms of order 1–3 over n players, and ∅ = 1. */
function plantedGame(n, random) {
  const k = 6 + Math.floor(random() * 10);
  const terms = new Map([['', 1]]);
  while (terms.size < k + 1) {
    const order = 1 + Math.floor(random() * MAX_ORDER);
    const players = new Set();
    while (players.size < order) players.add(Math.floor(random() * n));
    terms.set([...players].sort((a, b) => a - b).join(','), (random() < 0.5 ? -1 : 1) * (0.5 + 3 * random()));
  }
  const supports = [...terms].map(([key, value]) => ({ players: key === '' ? [] : key.split(',').map(Number), value }));
  const game = (masks) => {
    const out = new Float64Array(masks.count);
    for (let r = 0; r < masks.count; r++) {
      const has = (i) => (masks.bits[r * masks.words + (i >>> 5)] >>> (i & 31)) & 1;
      for (const { players, value } of supports) if (players.every(has)) out[r] += value;
    }
    return out;
  };
  return { k, terms, game };
}

async function run() {
  const foreign = foreignCpu();
  const engine = await createEngine({ workers: 0 });
  const rows = [];
  try {
    for (const n of SIZES) {
      const random = stream(n);
      for (let g = 0; g < GAMES; g++) {
        const { k, terms, game } = plantedGame(n, random);
        for (const budget of BUDGETS) {
          progress(`n = ${n}, game ${g + 1} (${k} terms), budget ${budget}`);
          const row = { n, game: g + 1, terms: k, budget };
          for (const [label, tolerance] of [['auto', undefined], ['zero', 0]]) {
            const result = await engine.explainFunction({ game, n, budget, maxOrder: MAX_ORDER, ...(tolerance === undefined ? {} : { tolerance }) });
            const found = new Map(result.and.map((t) => [t.players.join(','), t.value]));
            let error = 0;
            for (const key of new Set([...found.keys(), ...terms.keys()])) error = Math.max(error, Math.abs((found.get(key) ?? 0) - (terms.get(key) ?? 0)));
            Object.assign(row, { [`${label}Exact`]: error <= 1e-9 ? 'yes' : 'no', [`${label}Error`]: error, [`${label}Terms`]: result.and.length, [`${label}Evaluations`]: result.evaluations, [`${label}R2`]: result.faithfulness.r2 });
          }
          rows.push(row);
        }
      }
    }
  } finally {
    await engine.dispose();
  }
  const summary = BUDGETS.map((budget) => {
    const at = rows.filter((r) => r.budget === budget);
    const wrong = at.filter((r) => r.autoExact === 'no');
    return {
      budget, games: at.length, autoRecovered: at.length - wrong.length, zeroRecovered: at.filter((r) => r.zeroExact === 'yes').length,
      autoWrongR2: wrong.length === 0 ? '–' : `${Math.min(...wrong.map((r) => r.autoR2)).toFixed(3)}–${Math.max(...wrong.map((r) => r.autoR2)).toFixed(3)}`,
      zeroEvaluations: `${Math.min(...at.map((r) => r.zeroEvaluations))}–${Math.max(...at.map((r) => r.zeroEvaluations))}`,
    };
  });
  return {
    suite: 'sparse-auto',
    args: {},
    tables: [
      {
        title: `sparse-auto: planted games of 6–15 terms of order ≤ ${MAX_ORDER}, n ∈ {${SIZES.join(', ')}}, ${GAMES} games per n: tolerance auto against 0, same budget`,
        columns: [['budget', 'budget'], ['games', 'games'], ['autoRecovered', 'auto exact'], ['zeroRecovered', 'tolerance 0 exact'], ['autoWrongR2', 'auto held-out R² where wrong'], ['zeroEvaluations', 'tolerance 0 evaluations']],
        rows: summary,
        notes: ['exact: every AND term within 1e-9 of the planted coefficient, no other term.', busyNote(foreign.stop())],
      },
      {
        title: 'sparse-auto: every game',
        columns: [['n', 'n'], ['game', 'game'], ['terms', 'terms'], ['budget', 'budget'], ['autoExact', 'auto exact'], ['autoError', 'auto max err'], ['autoTerms', 'auto terms'], ['autoEvaluations', 'auto evals'], ['autoR2', 'auto R²'], ['zeroExact', 'tol 0 exact'], ['zeroEvaluations', 'tol 0 evals']],
        rows,
        notes: [],
      },
    ],
    targets: [],
  };
}

await runSuite(run);
