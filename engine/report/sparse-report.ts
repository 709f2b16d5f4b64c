// The report of one sparse explanation, from its JSON form (andor.sparse/1): the explain report's pieces that need no
// 2^n array (Shapley waterfall and force plot, interaction network, AND-OR graph, UpSet plot, per-order strength, the
// strongest terms, the input, the indices), for up to thousands of players, and how the terms were recovered. The
// sparsity curve and the objective trace need the 2^n arrays and a learned split: they are left out.
import type { SparseResultJson } from '../api/result.js';
import { forcePlot, waterfall, type Contribution } from './attribution.js';
import { contributions, indicesTable, onInput, strongestTable, TOP } from './explain-report.js';
import { andOrGraph, interactionNetwork, type Interaction } from './graph.js';
import type { Section } from './page.js';
import { groupedBars, orderBars } from './plots.js';
import { upset } from './salient.js';
import { COLOR, esc, fmt, rewardUnit } from './svg.js';

/** Players drawn around the network and in the force plot at most; beyond, only those that matter are kept. */
const MAX_DRAWN_PLAYERS = 24;
/** Terms whose values are exact (SparseTerm.exact). */
const exactCount = (terms: SparseResultJson['and']) => terms.filter((t) => t.exact === true).length;

function summary(r: SparseResultJson, unit: string): string {
  const m = r.model;
  const f = r.faithfulness;
  const target = r.target === undefined ? '' : `, target ${r.target}${r.targetName === undefined ? '' : ` (${esc(r.targetName)})`}`;
  const sample = r.sample ? `row ${r.sample.row}${r.sample.id ? ` (${esc(r.sample.id)})` : ''}${r.sample.label === undefined ? '' : `, label ${r.sample.label}`}` : '–';
  const r2 = (x: number | null, held: number) => `${x === null ? '–' : fmt(x, 4)} ${held === 0 ? 'on all 2^n masks' : `on ${held} held-out masks`}`;
  const names = r.players.length <= MAX_DRAWN_PLAYERS ? r.players.join(', ') : `${r.players.slice(0, 20).join(', ')}, … (${r.players.length - 20} more)`;
  const rows: [string, string][] = [
    ['model', m ? `${esc(m.file ?? '(bytes)')} [${esc(m.backend)}/${esc(m.executionProvider)}], input "${esc(m.input)}" → output "${esc(m.output)}"` : '(game function)'],
    ['sample', sample],
    ['players', `n = ${r.n}: ${esc(names)}`],
    ['reward', `${esc(r.reward)} (${esc(unit)})${target}; v(∅) = ${fmt(r.values.empty)}, v(N) = ${fmt(r.values.full)}`],
    ['method', `sparse (${esc(r.recovery)}): ${r.evaluations} of at most ${r.budget} evaluations, orders ≤ ${r.maxOrder}; ${r.and.length} AND and ${r.or.length} OR terms`],
    ['faithfulness', `R² of the AND expansion ${r2(f.r2, f.heldOut)}; of the OR expansion ${r2(f.or.r2, f.or.heldOut)}`],
    ...(r.fit && r.fit.and !== null ? [['fit', `AND: ${esc(r.fit.and)}, OR: ${esc(r.fit.or ?? '–')} (the expansion kept by R² on validation masks)`] as [string, string]] : []),
    ['exact values', r.recovery === 'exact' ? 'every term (all 2^n masks evaluated)' : `${exactCount(r.and)} AND and ${exactCount(r.or)} OR terms (v evaluated at every subset of their players); the others are estimates`],
    ['decomposition', 'none: AND = Möbius terms of v, OR = the negated Möbius terms of the complement game u(T) = v(N∖T); no AND-OR split is learned'],
    ['salient', `${r.salient.length} terms with |I| ≥ ${fmt(r.threshold)}`],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th class="l">${k}</th><td class="l">${v}</td></tr>`).join('')}</table>`;
}

/** The strongest |φ| players, the rest merged into one, so a force plot of thousands of players stays readable. */
function strongestPlayers(items: readonly Contribution[], max: number): Contribution[] {
  if (items.length <= max) return [...items];
  const sorted = [...items].sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  const rest = sorted.slice(max - 1);
  return [...sorted.slice(0, max - 1), { label: `${rest.length} other players`, value: rest.reduce((s, c) => s + c.value, 0) }];
}

/** The players of the drawn interactions only (renumbered), when there are too many to place them all on a circle. */
function drawnPlayers(r: SparseResultJson, interactions: readonly Interaction[]): { players: string[]; shapley: number[]; interactions: Interaction[] } {
  if (r.n <= MAX_DRAWN_PLAYERS) return { players: [...r.players], shapley: [...r.indices.shapley], interactions: [...interactions] };
  const used = [...new Set(interactions.flatMap((s) => s.players))].sort((a, b) => a - b);
  const at = new Map(used.map((p, k) => [p, k]));
  return {
    players: used.map((p) => r.players[p]),
    shapley: used.map((p) => r.indices.shapley[p]),
    interactions: interactions.map((s) => ({ ...s, players: s.players.map((p) => at.get(p)!) })),
  };
}

/**
 * The sections of a sparse report.
 * @param r - an andor.sparse/1 result (a live one through sparseToJson, or a saved one)
 * @returns headings, tables and charts in reading order
 */
export function sparseSections(r: SparseResultJson): Section[] {
  const unit = rewardUnit(r.reward);
  const { empty: v0, full: vN } = r.values;
  const interactions: Interaction[] = r.salient.map((s) => ({ kind: s.kind, players: s.players, value: s.value }));
  const total = interactions.length;
  const contrib = contributions(r);
  const network = drawnPlayers(r, interactions.slice(0, TOP.network));
  const graph = drawnPlayers(r, interactions.slice(0, TOP.graph));
  const upsetView = drawnPlayers(r, interactions.slice(0, TOP.upset));
  // orders beyond maxOrder hold nothing: the bars stop there
  const top = Math.max(1, Math.min(r.n, r.maxOrder));
  const charts = {
    attribution: [waterfall({ id: 'waterfall', contributions: contrib, v0, vN, unit }), forcePlot({ id: 'force', contributions: strongestPlayers(contrib, MAX_DRAWN_PLAYERS), v0, vN, unit })],
    interactions: [
      interactionNetwork({ id: 'interaction-graph', ...network, unit, total }),
      andOrGraph({ id: 'and-or-graph', players: graph.players, interactions: graph.interactions, unit, vN, total }),
      upset({ id: 'upset', players: upsetView.players, interactions: upsetView.interactions, unit, total }),
    ],
    orders: [
      orderBars({ id: 'orders', title: 'Salient term strength per order, AND and OR together', positive: r.orders.positive.slice(0, top + 1), negative: r.orders.negative.slice(0, top + 1), unit }),
      groupedBars({
        id: 'normalized', title: 'Normalized distribution of salient strength over orders', labels: Array.from({ length: top }, (_, k) => String(k + 1)),
        series: [{ name: 'share', color: COLOR.ink, values: r.orders.normalized }], from: 1, xTitle: 'order k = |S|', yTitle: 'share of salient strength (0–1)',
      }),
    ],
  };
  const input = onInput(r, unit, interactions.slice(0, TOP.input));
  const nothing = total === 0 ? '<p class="note">No term reaches the salient threshold: the graphs are empty.</p>' : '';
  const recovered =
    `<p class="note">The sparse method evaluated ${r.evaluations} masks (budget ${r.budget}) and recovered the AND terms (Möbius coefficients of v) and the OR terms ` +
    `(through the complement game) up to order ${r.maxOrder}. It holds no 2^n arrays, so the sparsity curve over every set is not drawn, and it learns no AND-OR split, so there is no objective trace.</p>`;
  return [
    { html: summary(r, unit), charts: [] },
    { heading: 'Attribution: Shapley values (from the recovered AND terms)', charts: charts.attribution },
    { heading: 'Salient AND and OR terms', html: nothing, charts: charts.interactions },
    { heading: 'Strength per order', charts: charts.orders },
    { heading: 'Strongest terms', html: strongestTable(r, unit), charts: [] },
    { heading: 'On the input', charts: input ? [input] : [] },
    { heading: 'Interaction indices', html: indicesTable(r), charts: [] },
    { heading: 'Recovery', html: recovered, charts: [] },
  ];
}

/** The page title of a sparse report. */
export const sparseTitle = (r: SparseResultJson): string => `andor explain (sparse): ${r.model?.file?.split('/').pop() ?? 'game'}${r.targetName ? ` → ${r.targetName}` : ''}, n = ${r.n}`;
