// The figures REPRODUCTION.md cites, as standalone SVG documents: the dynamics report's own charts of each run
// (chartsOf), and the charts built for the claims with the report primitives (engine/report/plots.ts): the spindle
// at initialization against the random game, κ under each combination of the conventions' choices, and the loss gap
// with and without the non-generalizable interactions. Nothing here decides a verdict or writes a file.
import { chartsOf, dynamicsToJson } from '../index.js';
import { groupedBars, lineChart } from '../report/plots.js';
import { CATEGORICAL, COLOR } from '../report/svg.js';
import { randomGameDistribution } from '../studies/claims.js';
import type { InitRow, SeriesRun, SweepRow } from './reproduce-runs.js';

/** A figure: its file name under docs/reproduction/, title and SVG. */
export interface Figure {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

/** The dynamics charts each run contributes (ids of engine/report/dynamics-report.ts). */
export const RUN_CHARTS: Readonly<Record<string, readonly string[]>> = {
  andor: ['grid', 'kappa', 'loss-gap', 'theory', 'jaccard', 'generalization', 'generalizable-orders', 'high-order'],
  authors: ['grid', 'kappa', 'generalization'],
};

/** The file name of a run's chart. */
export const runFigureFile = (series: string, conventions: string, chart: string): string => `${series}-${conventions}-${chart}.svg`;
/** The file name of a series' spindle figure. */
export const spindleFigureFile = (series: string): string => `spindle-${series}.svg`;
/** The file name of the conventions sweep figure (of the first series of a run). */
export const sweepFigureFile = (series: string): string => `conventions-${series}.svg`;
/** The file name of the removal figure. */
export const REMOVAL_FIGURE_FILE = 'removal.svg';

/**
 * Every figure file a run over these series may write (a run's charts are those its report has: a subset of
 * RUN_CHARTS), so that a folder in place of one is refused before the run.
 * @param series - the series' names, in run order (the first one gets the sweep figure)
 * @returns file names under docs/reproduction/
 */
export function figureFiles(series: readonly string[]): string[] {
  const runs = series.flatMap((s) => Object.entries(RUN_CHARTS).flatMap(([conventions, charts]) => charts.map((c) => runFigureFile(s, conventions, c))));
  return [...runs, ...series.map(spindleFigureFile), ...series.slice(0, 1).map(sweepFigureFile), REMOVAL_FIGURE_FILE];
}

/**
 * The cited charts of one dynamics run.
 * @param run - the run
 * @returns RUN_CHARTS[conventions] of its report, those the run has
 */
export function runFigures(run: SeriesRun): Figure[] {
  const wanted = RUN_CHARTS[run.conventions] ?? [];
  return chartsOf(dynamicsToJson(run.result))
    .filter((c) => wanted.includes(c.id))
    .map((c) => ({ file: runFigureFile(run.spec.name, run.conventions, c.id), title: `${run.spec.name} (${run.conventions}): ${c.title}`, svg: c.svg }));
}

const ORDER_LABELS = (n: number) => Array.from({ length: n }, (_, k) => String(k + 1));

/**
 * The normalized distribution at initialization under some variants, against the random game's spindle.
 * @param series - the series' name
 * @param rows - the variants (the first four are drawn, to keep the bars readable)
 */
export function spindleFigure(series: string, rows: readonly InitRow[], picks: readonly number[]): Figure {
  const n = rows[0].normalized.length - 1;
  const chosen = picks.map((i) => rows[i]).filter(Boolean);
  const chart = groupedBars({
    id: `spindle-${series}`, title: `${series}: distribution over orders at initialization`, labels: ORDER_LABELS(n), from: 1,
    series: [
      { name: 'random game (i.i.d. v)', values: randomGameDistribution(n), color: COLOR.faint },
      ...chosen.map((r, i) => ({ name: r.variant.label, values: r.normalized, color: CATEGORICAL[i % CATEGORICAL.length] })),
    ],
    xTitle: 'order k = |S|', yTitle: 'share of salient strength (0–1)',
    note: 'Normal (train + test) samples of the claims set, first checkpoint. The random game is the spindle the papers derive (spec §4.2).',
  });
  return { file: spindleFigureFile(series), title: chart.title, svg: chart.svg };
}

/**
 * κ(t) of one series under each combination of the conventions' choices.
 * @param series - the series' name
 * @param labels - checkpoint labels (epochs)
 * @param rows - the sweep
 */
export function sweepFigure(series: string, labels: readonly string[], rows: readonly SweepRow[]): Figure {
  const chart = lineChart({
    id: `conventions-${series}`, title: `${series}: mean order κ under each combination of the conventions' choices`, labels, xTitle: 'epoch', yTitle: 'mean order κ (order k)', zero: false,
    series: rows.map((r, i) => ({ name: `${r.variant.label} (turning point ${labels[r.turningPoint]})`, values: r.kappa, color: CATEGORICAL[i % CATEGORICAL.length], dash: i % 2 === 1 })),
    note: 'The same pairs re-thresholded: the optimizer (PDHG or the authors\' SGD) crossed with the salient max (without or with ∅).',
  });
  return { file: sweepFigureFile(series), title: chart.title, svg: chart.svg };
}

/** One bar group of the removal figure. */
export interface RemovalBar {
  readonly label: string;
  readonly gapOutput: number;
  readonly gapGeneralizable: number;
}

/**
 * The train–test loss gap at the last checkpoint, from the output and with only the generalizable interactions.
 * @param bars - one group per series and convention
 */
export function removalFigure(bars: readonly RemovalBar[]): Figure {
  const chart = groupedBars({
    id: 'removal', title: 'Last checkpoint: test − train loss, from the output and with the non-generalizable interactions removed', labels: bars.map((b) => b.label),
    series: [
      { name: 'from the output v(N)', values: bars.map((b) => b.gapOutput), color: COLOR.ink },
      { name: 'generalizable interactions only', values: bars.map((b) => b.gapGeneralizable), color: '#16a085' },
    ],
    xTitle: 'series (conventions)', yTitle: 'test − train cross-entropy (nats)',
    note: 'Claims sample sets: the train samples and the random test samples of each series, misclassified test samples included.',
  });
  return { file: REMOVAL_FIGURE_FILE, title: chart.title, svg: chart.svg };
}
