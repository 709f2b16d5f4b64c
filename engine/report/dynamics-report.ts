// The report of a dynamics run, from its JSON form (andor.dynamics/1): the per-checkpoint grid on one shared scale,
// per-order shares stacked per checkpoint, loss gap and κ, theory against real (phase 2 only; σ² at the bound of the
// fitted grid drawn as a bound), train/test Jaccard, generalizable interactions and OOD samples.
import type { DynamicsResultJson } from '../api/result.js';
import type { Section } from './page.js';
import { groupedBars, highestOrder, lineChart, panelChart, stackedBars, table, type Panel } from './plots.js';
import { powerOfTen } from './scale.js';
import { COLOR, esc, fmt, num, sequential, type Chart, type LegendItem } from './svg.js';

type Checkpoint = DynamicsResultJson['checkpoints'][number];
const UNIT = 'units of v';

/** Phase 2 starts at the turning point (spec interactions.md §4.3: "Turning point (start of phase 2)"). */
export const inPhase2 = (t: number, turningPoint: number): boolean => t >= turningPoint;

const sci = (x: number) => {
  const k = Math.log10(x);
  return Math.abs(k - Math.round(k)) < 1e-9 ? powerOfTen(Math.round(k)) : x.toExponential(1).replace('-', '−');
};

/** The least and the largest value: a loop, not Math.min(...grid), which a long grid overflows the call stack with. */
const extentOf = (grid: readonly number[]): [number, number] => grid.reduce<[number, number]>(([a, b], x) => [Math.min(a, x), Math.max(b, x)], [Infinity, -Infinity]);

/** "≤ 10⁻⁸" / "≥ 10²" when σ² sits at the first or last value of the fitted grid, else null. */
export function sigma2Bound(sigma2: number, grid: readonly number[]): string | null {
  if (!Number.isFinite(sigma2) || grid.length === 0) return null;
  const [lo, hi] = extentOf(grid);
  if (sigma2 <= lo * (1 + 1e-9)) return `≤ ${sci(lo)}`;
  if (sigma2 >= hi * (1 - 1e-9)) return `≥ ${sci(hi)}`;
  return null;
}

function labelsOf(cps: readonly Checkpoint[]) {
  const epochs = cps.every((c) => typeof c.epoch === 'number');
  return { labels: cps.map((c) => (epochs ? String(c.epoch) : c.name)), xTitle: epochs ? 'epoch' : 'checkpoint' };
}

function lossTable(cps: readonly Checkpoint[]): string {
  const splits = Object.keys(cps[0]?.generalization?.loss ?? {});
  const head = ['checkpoint', 'gen. share', ...splits.flatMap((s) => [`${s}: from v(N)`, 'salient', 'generalizable only'])];
  const rows = cps.map((c) => [c.name, num(c.generalization?.ratio), ...splits.flatMap((s) => {
    const l = c.generalization?.loss[s];
    return [num(l?.output), num(l?.salient), num(l?.generalizable)];
  })]);
  return `<p class="note">Cross-entropy (nats) of the label from the output v(N), from its salient interactions, and with the non-generalizable ones removed.</p>${table(head, rows)}`;
}

/** The theory's panels against the real distribution, and σ²(t): for an exact run, which has a theory fit. */
function theoryAgainstReal(d: DynamicsResultJson, grid: readonly number[], tp: number, common: { labels: string[]; xTitle: string; marks: { at: number; label: string }[]; phase1: number }): Chart[] {
  const cps = d.checkpoints;
  const bounds = cps.map((c) => sigma2Bound(num(c.theory?.sigma2), grid));
  const theoryPanels: Panel[] = cps.map((c, t) => {
    const phase2 = inPhase2(t, tp);
    const sigma = num(c.theory?.sigma2);
    return {
      title: c.name,
      subtitle: phase2 ? `σ² ${bounds[t] ?? `= ${fmt(sigma, 3)}`}` : 'phase 1',
      muted: phase2 ? undefined : 'no theory in phase 1',
      highlight: t === tp && cps.length > 1,
      bars: [{ name: 'real', color: COLOR.ink, values: c.normalized }],
      lines: c.theory ? [{ name: 'theory', color: COLOR.theory, values: c.theory.distribution }] : [],
    };
  });
  const theory = panelChart({
    id: 'theory', title: 'Theory against real: normalized strength per order', panels: theoryPanels, n: d.n,
    yTitle: 'share of salient strength (0–1)', legend: [{ label: 'real', color: COLOR.ink }, { label: 'theory ŵ(σ²)', color: COLOR.theory, swatch: 'line' }],
    note: 'The theory describes phase 2 (from the turning point on); phase-1 panels are greyed and show the real distribution only.',
  });
  const sigma2 = lineChart({
    id: 'sigma2', title: 'Fitted σ²(t) of the theory, phase 2', ...common, log: true, yTitle: 'σ² (log scale)',
    series: [{ name: 'σ²', color: COLOR.theory, values: cps.map((c, t) => (inPhase2(t, tp) ? num(c.theory?.sigma2) : NaN)), bounds: bounds.map((b, t) => (inPhase2(t, tp) ? b : null)) }],
    note: `σ² is fitted on a grid from ${sci(extentOf(grid)[1])} to ${sci(extentOf(grid)[0])}; an open marker means the best fit is the grid's end, so σ² is only bounded.`,
  });
  return [theory, sigma2];
}

/** The orders the per-order charts draw: all n, or for a sparse run those up to the highest it recovered (one with
 *  strength at some checkpoint, or a train/test Jaccard), not the empty orders above its maxOrder. */
function drawnOrders(d: DynamicsResultJson): number {
  if (d.method !== 'sparse') return d.n;
  const strength = d.checkpoints.flatMap((c) => [c.orders.positive, c.orders.negative, c.ood?.orders.positive, c.ood?.orders.negative]);
  return Math.max(highestOrder(strength), highestOrder(d.checkpoints.map((c) => c.jaccard ?? undefined), (x) => typeof x === 'number'));
}

/**
 * The sections of a dynamics report.
 * @param d - an andor.dynamics/1 result
 * @returns headings, tables and charts in reading order
 */
export function dynamicsSections(d: DynamicsResultJson): Section[] {
  const cps = d.checkpoints;
  const tp = d.turningPoint;
  // one checkpoint has no turning point (it needs checkpoints after initialization), as the CLI's summary says
  const turning = cps.length > 1;
  const { labels, xTitle } = labelsOf(cps);
  const marks = [...(turning ? [{ at: tp, label: 'turning point' }] : []), ...(d.gapRise === null ? [] : [{ at: d.gapRise, label: 'gap rises' }])];
  const common = { labels, xTitle, marks, phase1: tp };
  const last = cps[cps.length - 1];
  const orders = drawnOrders(d);
  const state = (t: number) => [turning && t === tp ? 'turning point' : '', t === d.gapRise ? 'gap rises' : ''].filter(Boolean).join(', ');

  const gridPanels: Panel[] = cps.map((c, t) => ({
    title: c.name,
    subtitle: `κ = ${fmt(c.kappa, 2)}${state(t) ? ` · ${state(t)}` : ''}`,
    highlight: turning && t === tp,
    bars: [{ name: 'positive', color: COLOR.pos, values: c.orders.positive }, { name: 'negative', color: COLOR.neg, values: c.orders.negative }],
  }));
  const grid = panelChart({
    id: 'grid', title: 'Two-phase dynamics: salient strength per order at each checkpoint', panels: gridPanels, n: orders, overlay: true,
    yTitle: `Σ I over salient S (${UNIT})`, legend: [{ label: 'positive', color: COLOR.pos }, { label: 'negative', color: COLOR.neg }],
    note: 'Mean over the train and test samples; the framed panel is the turning point.',
  });
  const orderLayers: LegendItem[] = Array.from({ length: orders }, (_, k) => ({ label: `order ${k + 1}`, color: sequential(k, orders) }));
  const stacked = stackedBars({
    id: 'orders-stacked', title: 'Share of salient strength per order at each checkpoint', labels, xTitle,
    layers: orderLayers, values: cps.map((c) => Array.from({ length: orders }, (_, k) => num(c.normalized[k + 1]))), yTitle: 'share of salient strength (0–1)',
  });
  const hasLoss = cps.every((c) => c.lossGap !== undefined);
  const loss = hasLoss
    ? lineChart({
        id: 'loss-gap', title: 'Train and test loss and their gap', ...common, yTitle: 'cross-entropy loss (nats)',
        series: [
          { name: 'train loss', values: cps.map((c) => num(c.trainLoss)), color: '#7a7a7a' },
          { name: 'test loss', values: cps.map((c) => num(c.testLoss)), color: '#d68910' },
          { name: 'gap (test − train)', values: cps.map((c) => num(c.lossGap)), color: COLOR.ink },
        ],
      })
    : undefined;
  const kappa = lineChart({ id: 'kappa', title: 'Mean order κ of the normalized distribution', ...common, zero: false, yTitle: 'mean order κ (order k)', series: [{ name: 'κ', values: cps.map((c) => c.kappa), color: COLOR.pos }] });

  const theoryCharts = d.theory ? theoryAgainstReal(d, d.theory.grid, tp, common) : [];
  const orderLabels = Array.from({ length: orders }, (_, k) => String(k + 1));
  const jaccard: Chart[] = [];
  if (d.jaccard) jaccard.push(groupedBars({ id: 'jaccard', title: 'Train/test weighted Jaccard per order at the last checkpoint', labels: orderLabels, from: 1, series: [{ name: 'Jaccard', values: d.jaccard, color: '#8e44ad' }], xTitle: 'order k = |S|', yTitle: 'weighted Jaccard (0–1)' }));
  if (cps[0]?.jaccard) {
    const colors = ['#8e44ad', '#2980b9', '#16a085', '#d35400'];
    jaccard.push(lineChart({ id: 'jaccard-orders', title: `Train/test weighted Jaccard over training, orders 1–${Math.min(4, orders)}`, ...common, yTitle: 'weighted Jaccard (0–1)', series: [1, 2, 3, 4].filter((k) => k <= orders).map((k, j) => ({ name: `order ${k}`, values: cps.map((c) => num(c.jaccard?.[k])), color: colors[j] })) }));
  }
  const gen = d.generalization;
  const genCharts: Chart[] = gen
    ? [
        lineChart({ id: 'generalization', title: 'Generalizable share of salient strength (shared with a reference model)', ...common, yTitle: 'generalizable share (0–1)', series: [{ name: 'generalizable share', values: gen.ratio.map(num), color: '#16a085' }] }),
        groupedBars({ id: 'generalizable-orders', title: 'Last checkpoint: generalizable vs non-generalizable strength per order', labels: orderLabels, from: 1, series: [{ name: 'generalizable', values: gen.last.generalizable, color: '#16a085' }, { name: 'non-generalizable', values: gen.last.nonGeneralizable, color: COLOR.pos }], xTitle: 'order k = |S|', yTitle: `mean Σ|I| of salient S (${UNIT})` }),
      ]
    : [];
  const oodCharts: Chart[] = last?.ood
    ? [
        groupedBars({ id: 'ood', title: 'Last checkpoint: normalized distribution of normal vs OOD (mislabeled) samples', labels: orderLabels, from: 1, series: [{ name: 'normal', values: last.normalized, color: COLOR.ink }, { name: 'OOD', values: last.ood.normalized, color: '#e67e22' }], xTitle: 'order k = |S|', yTitle: 'share of salient strength (0–1)' }),
        lineChart({ id: 'high-order', title: 'Share of strength at orders ≥ 3', ...common, yTitle: 'share at k ≥ 3 (0–1)', series: [{ name: 'normal', values: cps.map((c) => c.highOrderShare), color: COLOR.ink }, { name: 'OOD', values: cps.map((c) => num(c.ood?.highOrderShare)), color: '#e67e22' }] }),
      ]
    : [];
  // the lab's newer measures over training (arXiv 2605.17967, 2606.08129, 2512.18607, 2502.10162)
  const palette = ['#8e44ad', '#2980b9', '#16a085', '#d35400'];
  const fromTo = d.transitions.map((t) => cps[t.to]?.name ?? String(t.to));
  const sum = (a: readonly number[]) => a.reduce((x, y) => x + y, 0);
  const measureCharts: Chart[] = [
    // one checkpoint has no transition: no empty chart
    ...d.transitions.length === 0 ? [] : [stackedBars({
      id: 'transitions', title: 'Salient interactions kept, removed and newly emerged since the previous checkpoint', labels: fromTo, xTitle,
      layers: [{ label: 'preserved', color: '#16a085' }, { label: 'removed', color: '#7a7a7a' }, { label: 'emerged', color: COLOR.pos }],
      values: d.transitions.map((t) => [sum(t.preserved.strength), sum(t.removed.strength), sum(t.emerged.strength)]), yTitle: `mean Σ|I| (${UNIT})`,
      note: 'Preserved: salient at both checkpoints with the same kind and sign (strength at the later one); removed: strength at the earlier one.',
    })],
    lineChart({
      id: 'cancellation', title: 'Cancellation per order: |Σ I| / Σ |I| over the normal samples', ...common, yTitle: 'cancellation ratio (0–1)',
      series: [1, 2, 3, 4].filter((k) => k <= orders).map((k, j) => ({ name: `order ${k}`, values: cps.map((c) => num(c.cancellation[k])), color: palette[j] })),
      note: '1: the interactions of that order share one sign; near 0: they cancel each other out.',
    }),
    lineChart({
      id: 'mixture', title: 'Decay-shaped share of the per-order strength (decay + spindle fit)', ...common, yTitle: 'decay share a/(a+b) (0–1)',
      series: [{ name: 'decay share', values: cps.map((c) => num(c.mixture.decayShare)), color: '#16a085' }],
      note: 'Generalizable interactions decay with order, non-generalizable ones are spindle-shaped (arXiv 2502.10162).',
    }),
    ...(cps.every((c) => c.pairwise)
      ? [
          lineChart({
            id: 'pairwise', title: 'Multi-order pairwise interactions: mean |I^(m)(i, j)| over pairs', ...common, yTitle: `mean |I^(m)| (${UNIT})`,
            series: [0, Math.floor((d.n - 2) / 2), d.n - 2].filter((m, j, a) => a.indexOf(m) === j).map((m, j) => ({ name: `m = ${m}`, values: cps.map((c) => num(c.pairwise?.[m])), color: palette[j] })),
            note: 'I^(m)(i, j): the interaction of players i and j in contexts of m other players (arXiv 2512.18607); low, middle and top orders.',
          }),
        ]
      : []),
  ];
  const diverged = cps.map((c) => c.samples.filter((s) => s.diverged).length);
  const pairs = cps.reduce((a, c) => a + c.samples.length, 0);
  const divergedNote = diverged.some((k) => k > 0)
    ? ` <b>${diverged.reduce((a, k) => a + k, 0)} of ${pairs} pairs diverged</b> (${cps.flatMap((c, t) => (diverged[t] ? [`${esc(c.name)}: ${diverged[t]}`] : [])).join(', ')}): their interactions are those of the learned split's best iterate. Rerun them with another --lr or --preset.`
    : '';
  const intro = `<p>n = ${d.n} players (${esc(d.players.join(', '))}); ${d.samples.train} train, ${d.samples.test} test, ${d.samples.ood} OOD samples; ${cps.length} checkpoints. ` +
    `${turning ? `Turning point (start of phase 2): <b>${esc(cps[tp]?.name ?? '–')}</b>` : 'One checkpoint: no turning point (it needs checkpoints after initialization)'}${d.gapRise === null ? '' : `; the loss gap first rises at <b>${esc(cps[d.gapRise]?.name ?? '–')}</b>`}. Strengths are in the units of the reward v (log-odds by default).${d.method === 'sparse' ? ` Each pair was explained by the sparse method (no AND-OR split learned; its AND and OR expansions each rebuild v), so the per-order charts stop at order ${orders}, the highest recovered.` : ''}${divergedNote}</p>`;
  return [
    { html: intro, charts: [] },
    { heading: 'Two-phase dynamics', charts: [grid, stacked, ...(loss ? [loss] : []), kappa] },
    d.theory
      ? { heading: 'Theory against real', charts: theoryCharts }
      : { heading: 'Theory against real', html: '<p>This run used the sparse method: the theory\'s solve is over all 2^n sets, which its term lists do not hold, so no theory is fitted.</p>', charts: [] },
    { heading: 'Train/test similarity', charts: jaccard },
    { heading: 'Generalizable and non-generalizable interactions', html: gen ? lossTable(cps) : '', charts: genCharts },
    { heading: 'OOD samples', charts: oodCharts },
    { heading: 'Newer measures over training', charts: measureCharts },
  ];
}

/** The page title of a dynamics report. */
export const dynamicsTitle = (d: DynamicsResultJson): string => `andor dynamics: ${d.checkpoints.length} checkpoints, n = ${d.n}`;
