// The report of one explanation, from its JSON form (andor.explain/1), so a saved result can be re-rendered:
// Shapley waterfall and force plot, interaction network, AND-OR graph, UpSet plot, sparsity curve, per-order
// strength, the interactions on the input, the interaction indices and the objective trace. The pieces that need no
// 2^n array also draw sparse results (sparse-report.ts).
import type { ExplainResultJson, IndexTermJson } from '../api/result.js';
import { forcePlot, waterfall, type Contribution } from './attribution.js';
import { frame } from './frame.js';
import { andOrGraph, interactionNetwork, type Interaction } from './graph.js';
import { imagePanels, pointPanels, sentenceArcs } from './on-input.js';
import type { Section } from './page.js';
import { groupedBars, orderBars, table } from './plots.js';
import { sparsityCurve, upset } from './salient.js';
import { extent } from './scale.js';
import { COLOR, esc, fmt, fmtSigned, kindColor, num, px, rewardUnit, tip, type Chart } from './svg.js';

/** How many of the strongest salient interactions each picture shows. */
export const TOP = { network: 12, graph: 12, upset: 20, input: 7, table: 12 } as const;

/** What the shared pieces read: the fields andor.explain/1 and andor.sparse/1 have in common. */
export type CommonResultJson = Pick<ExplainResultJson, 'players' | 'input' | 'indices'> & {
  readonly salient: readonly { readonly kind: 'and' | 'or'; readonly players: readonly number[]; readonly names: readonly string[]; readonly value: number }[];
};

/** Each player's Shapley value, labelled (tabular: with its value). */
export function contributions(r: CommonResultJson): Contribution[] {
  const input = r.input;
  return r.players.map((name, p) => {
    let label = name;
    if (input?.modality === 'tabular' && input.offsets[p + 1] - input.offsets[p] === 1) {
      const value = num(input.values[input.indices[input.offsets[p]]]);
      if (Number.isFinite(value)) label = `${name} = ${fmt(value, 2)}`;
    }
    return { label, short: name, value: num(r.indices.shapley[p]) };
  });
}

function summary(r: ExplainResultJson, unit: string): string {
  const m = r.model;
  const d = r.decomposition;
  const v0 = r.v.length ? fmt(r.v[0]) : '–';
  const vN = r.v.length ? fmt(r.v[r.v.length - 1]) : '–';
  const target = r.target === undefined ? '' : `, target ${r.target}${r.targetName === undefined ? '' : ` (${esc(r.targetName)})`}`;
  const sample = r.sample ? `row ${r.sample.row}${r.sample.id ? ` (${esc(r.sample.id)})` : ''}${r.sample.label === undefined ? '' : `, label ${r.sample.label}`}` : '–';
  const rows: [string, string][] = [
    ['model', m ? `${esc(m.file ?? '(bytes)')} [${esc(m.backend)}/${esc(m.executionProvider)}], input "${esc(m.input)}" → output "${esc(m.output)}"` : '(game values)'],
    ['sample', sample],
    ['players', `n = ${r.n}: ${esc(r.players.join(', '))}`],
    ['reward', `${esc(r.reward)} (${esc(unit)})${target}; v(∅) = ${v0}, v(N) = ${vN}`],
    ['decomposition', `${esc(d.method)}, preset ${esc(d.preset)} (${esc(d.solver)}${d.solver === 'lp' ? ': exact' : `, ${d.iterations} iterations`}): L1 ${fmt(d.objective.initial)} → ${fmt(d.objective.final)}`],
    // the CLI prints the warning on stderr; the page, read later and elsewhere, says it too
    ...(d.diverged ? [['diverged', `<b>${esc(d.warning ?? 'the split diverged')}</b> The interactions are those of its best iterate.`] as [string, string]] : []),
    ['matching', `max |v − rebuilt| = ${fmt(r.matching.maxAbsError)} (|q| ≤ ${fmt(d.qBound)})`],
    ['salient', `${r.salient.length} interactions with |I| ≥ ${fmt(r.threshold)}`],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th class="l">${k}</th><td class="l">${v}</td></tr>`).join('')}</table>`;
}

/** The table of the strongest salient interactions, with a bar each. */
export function strongestTable(r: CommonResultJson, unit: string): string {
  const top = r.salient.slice(0, TOP.table);
  const max = Math.max(1e-12, ...top.map((s) => Math.abs(s.value)));
  const rows = top.map((s) => {
    const w = (80 * Math.abs(s.value)) / max;
    const bar = `<svg width="164" height="12" role="img" aria-label="${esc(fmtSigned(s.value))}"><rect x="${px(s.value < 0 ? 82 - w : 82)}" width="${px(w)}" height="12" fill="${kindColor(s.kind, s.value)}">${tip(fmtSigned(s.value))}</rect><line x1="82" x2="82" y1="0" y2="12" stroke="#999"/></svg>`;
    return `<tr><td class="l">${esc(s.kind.toUpperCase())}</td><td>${s.players.length}</td><td class="l">{${esc(s.names.join(' · '))}}</td><td>${fmtSigned(s.value)}</td><td class="l">${bar}</td></tr>`;
  });
  return `<table><tr><th class="l">kind</th><th>order</th><th class="l">players</th><th>I (${esc(unit)})</th><th></th></tr>${rows.join('')}</table>`;
}

/** The pairwise terms of the interaction indices, strongest |SII| first. */
export function indicesTable(r: CommonResultJson): string {
  const ix = r.indices;
  if (ix.order < 2) return '';
  const key = (players: readonly number[]) => players.join(',');
  const lookup = (terms: readonly { players: readonly number[]; value: number }[]) => new Map(terms.map((t) => [key(t.players), t.value]));
  // BII, CHII and FBII: absent in results written before them
  const named: [string, readonly IndexTermJson[] | undefined][] = [['SII', ix.sii], [`${ix.order}-SII`, ix.kSii], ['STII', ix.stii], ['FSII', ix.fsii], ['BII', ix.bii], ['CHII', ix.chii], ['FBII', ix.fbii]];
  const columns = named.flatMap(([name, terms]) => (terms === undefined ? [] : [[name, lookup(terms)] as const]));
  const pairs = ix.sii.filter((t) => t.players.length === 2).sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 10);
  if (pairs.length === 0) return '';
  const rows = pairs.map((t) => [t.players.map((p) => r.players[p]).join(' · '), ...columns.map(([, m]) => m.get(key(t.players)) ?? NaN)]);
  return `<p class="note">Pairwise terms of the game-theoretic interaction indices of v (from its Möbius transform, not from the AND-OR split), strongest |SII| first; order ${ix.order}.</p>` +
    table(['pair', ...columns.map(([name]) => name)], rows);
}

function objectiveTrace(r: ExplainResultJson, unit: string): Chart | undefined {
  const t = r.decomposition.trace;
  const values = t.values.map(num);
  if (values.length < 2) return undefined;
  const positive = values.filter((v) => v > 0);
  // extent, not Math.max(...positive): an edited trace of 10^5 values overflowed the call stack
  const [lo, hi] = extent(positive);
  const log = positive.length === values.length && hi / lo > 50;
  const f = frame({
    id: 'objective-trace',
    title: 'Learning the split: the L1 objective over iterations',
    ...(r.decomposition.diverged ? { note: `The split diverged: the result holds its best iterate (L1 ${fmt(r.decomposition.objective.final)}), not the last one drawn.` } : {}),
    x: { values: [0, (values.length - 1) * t.every], title: 'iteration' },
    y: { values, log, zero: !log, title: `L1 objective Σ|I| (${unit}${log ? ', log scale' : ''})` },
  });
  const pts = values.map((v, i) => (Number.isFinite(v) ? `${px(f.x(i * t.every))},${px(f.y(v))}` : '')).filter(Boolean);
  const last = values.length - 1;
  return f.finish(`<polyline fill="none" stroke="${COLOR.ink}" stroke-width="2" points="${pts.join(' ')}"/><circle cx="${px(f.x(last * t.every))}" cy="${px(f.y(values[last]))}" r="3.5" fill="${COLOR.ink}">${tip(`iteration ${last * t.every}: ${fmt(values[last])}`)}</circle>`);
}

/** The strongest interactions drawn on the input (image, point cloud, sentence), when the result has its layout. */
export function onInput(r: CommonResultJson, unit: string, top: readonly Interaction[]): Chart | undefined {
  const input = r.input;
  if (!input || top.length === 0) return undefined;
  const o = { input, players: r.players, interactions: top, unit };
  if (input.modality === 'image' && input.dims.length >= 2) return imagePanels({ id: 'input', ...o });
  if (input.modality === 'pointcloud' && input.dims.includes(3)) return pointPanels({ id: 'input', ...o });
  if (input.modality === 'text') return sentenceArcs({ id: 'sentence', ...o });
  return undefined;
}

/**
 * The sections of an explain report.
 * @param r - an andor.explain/1 result (a live one through resultToJson, or a saved one)
 * @returns headings, tables and charts in reading order
 */
export function explainSections(r: ExplainResultJson): Section[] {
  const unit = rewardUnit(r.reward);
  const v0 = r.v.length ? num(r.v[0]) : NaN;
  const vN = r.v.length ? num(r.v[r.v.length - 1]) : NaN;
  const interactions: Interaction[] = r.salient.map((s) => ({ kind: s.kind, players: s.players, value: s.value }));
  const total = interactions.length;
  const contrib = contributions(r);
  const byOrder = (k: number) => String(k);
  const charts = {
    attribution: [waterfall({ id: 'waterfall', contributions: contrib, v0, vN, unit }), forcePlot({ id: 'force', contributions: contrib, v0, vN, unit })],
    interactions: [
      interactionNetwork({ id: 'interaction-graph', players: r.players, shapley: r.indices.shapley.map(num), interactions: interactions.slice(0, TOP.network), unit, total }),
      andOrGraph({ id: 'and-or-graph', players: r.players, interactions: interactions.slice(0, TOP.graph), unit, vN, total }),
      upset({ id: 'upset', players: r.players, interactions: interactions.slice(0, TOP.upset), unit, total }),
      ...(r.and.length > 1 ? [sparsityCurve({ id: 'sparsity', and: r.and.map(num), or: r.or.map(num), threshold: r.threshold, unit })] : []).filter((c): c is Chart => c !== undefined),
    ],
    orders: [
      orderBars({ id: 'orders', title: 'Salient interaction strength per order, AND and OR together', positive: r.orders.positive, negative: r.orders.negative, unit }),
      groupedBars({ id: 'normalized', title: 'Normalized distribution of salient strength over orders', labels: Array.from({ length: r.n }, (_, k) => byOrder(k + 1)), series: [{ name: 'share', color: COLOR.ink, values: r.orders.normalized }], from: 1, xTitle: 'order k = |S|', yTitle: 'share of salient strength (0–1)' }),
    ],
  };
  const input = onInput(r, unit, interactions.slice(0, TOP.input));
  const trace = objectiveTrace(r, unit);
  const nothing = total === 0 ? '<p class="note">No interaction reaches the salient threshold: the graphs are empty.</p>' : '';
  return [
    { html: summary(r, unit), charts: [] },
    { heading: 'Attribution: Shapley values', charts: charts.attribution },
    { heading: 'Salient AND and OR interactions', html: nothing, charts: charts.interactions },
    { heading: 'Strength per order', charts: charts.orders },
    { heading: 'Strongest interactions', html: strongestTable(r, unit), charts: [] },
    { heading: 'On the input', charts: input ? [input] : [] },
    { heading: 'Interaction indices', html: indicesTable(r), charts: [] },
    { heading: 'Learning the split', charts: trace ? [trace] : [] },
  ];
}

/** The page title of an explain report. */
export const explainTitle = (r: ExplainResultJson): string => `andor explain: ${r.model?.file?.split('/').pop() ?? 'game'}${r.targetName ? ` → ${r.targetName}` : ''}`;
