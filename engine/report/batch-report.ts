// The report of many samples of one model, from its JSON form (andor.batch/1): the beeswarm of Shapley values,
// mean |I| of the strongest interactions per class, per-order strength stacked per class, and the samples.
// Only the aggregate is drawn here; each sample's own andor.explain/1 line renders with the explain report.
import type { BatchResultJson } from '../api/result.js';
import { beeswarm } from './attribution.js';
import { frame } from './frame.js';
import type { Section } from './page.js';
import { groupedBars, highestOrder, orderBars, stackedBars, table } from './plots.js';
import { CATEGORICAL, COLOR, esc, fmt, px, sequential, tip, type Chart, type LegendItem } from './svg.js';

type Group = BatchResultJson['all'];
const UNIT = 'units of v';
const TOP_INTERACTIONS = 12;

/** Class keys in numeric order, with their names and colours. */
function classesOf(b: BatchResultJson) {
  return Object.keys(b.classes)
    .sort((x, y) => Number(x) - Number(y))
    .map((key, i) => {
      const name = b.classNames?.[Number(key)];
      return { key, label: name === undefined ? `class ${key}` : `class ${key} (${name})`, color: CATEGORICAL[i % CATEGORICAL.length], group: b.classes[key] as Group };
    });
}

const interactionKey = (s: { kind: string; players: readonly number[] }) => `${s.kind}:${s.players.join(',')}`;

/** Mean |I| of the strongest interactions (over all samples), one bar per class. */
function classInteractions(b: BatchResultJson, classes: ReturnType<typeof classesOf>): Chart | undefined {
  const top = b.all.interactions.slice(0, TOP_INTERACTIONS);
  if (top.length === 0) return undefined;
  const series = classes.length > 1 ? classes.map((c) => ({ name: c.label, color: c.color, group: c.group })) : [{ name: 'all samples', color: COLOR.ink, group: b.all }];
  const lookup = series.map((s) => new Map(s.group.interactions.map((i) => [interactionKey(i), i])));
  // a class lists the batch's strongest (aggregateBatch); one it does not list (a result written before, or past its
  // 200 strongest) has no bar, never a 0 it was not measured at
  const values = top.map((t) => lookup.map((m) => m.get(interactionKey(t))?.meanAbs));
  const f = frame({
    id: 'class-interactions',
    title: `Mean |I| per interaction and class: the ${top.length} strongest over all samples`,
    x: { values: [0, ...values.flat().filter((v): v is number => v !== undefined)], title: `mean |I| over the class's samples (${UNIT})` },
    y: { band: top.map((t) => `${t.kind.toUpperCase()} {${t.names.join(' · ')}}`), title: 'interaction' },
    legend: series.length > 1 ? series.map((s) => ({ label: s.name, color: s.color })) : [],
    rowHeight: Math.max(22, 8 + 10 * series.length),
    note: b.method === 'sparse'
      ? 'Each sample counts with its value, salient there or not; a term its sparse expansion does not list counts as 0.'
      : 'Each sample counts with its value, salient there or not.',
  });
  const band = f.yBand!;
  const h = band.width / series.length;
  let body = '';
  top.forEach((t, i) =>
    series.forEach((s, j) => {
      const v = values[i][j];
      const entry = lookup[j].get(interactionKey(t));
      if (v === undefined || entry === undefined) return;
      body += `<rect x="${px(f.x(0))}" y="${px(band.start(i) + j * h)}" width="${px(Math.max(0, f.x(v) - f.x(0)))}" height="${px(h * 0.9)}" fill="${s.color}">${tip(`${t.kind.toUpperCase()} {${t.names.join(', ')}}, ${s.name}: mean |I| = ${fmt(v)}, mean I = ${fmt(entry?.mean)} ± ${fmt(entry?.std)}, salient in ${entry?.salientIn ?? 0} of ${s.group.count}`)}</rect>`;
    }),
  );
  return f.finish(body);
}

function perOrder(groups: readonly { label: string; group: Group }[], n: number): number[][] {
  return groups.map(({ group }) => Array.from({ length: n }, (_, k) => Math.abs(group.orders.positive[k + 1] ?? 0) + Math.abs(group.orders.negative[k + 1] ?? 0)));
}

/**
 * The sections of a batch report.
 * @param b - an andor.batch/1 result
 * @returns headings, tables and charts in reading order
 */
export function batchSections(b: BatchResultJson): Section[] {
  const classes = classesOf(b);
  const classIndex = new Map(classes.map((c, i) => [Number(c.key), i]));
  const groups: LegendItem[] = classes.map((c) => ({ label: c.label, color: c.color, swatch: 'dot' }));
  const sampleTips = b.samples.map((s) => `row ${s.row}${s.id ? ` (${s.id})` : ''}, target ${s.target}`);
  const stackGroups = [{ label: 'all samples', group: b.all }, ...classes];
  // a sparse batch's orders stop at its maxOrder: no empty orders up to n
  const n = b.method === 'sparse' ? highestOrder(stackGroups.flatMap(({ group }) => [group.orders.positive, group.orders.negative])) : b.n;
  const cut = (values: readonly number[]) => values.slice(0, n + 1);
  const orderLayers: LegendItem[] = Array.from({ length: n }, (_, k) => ({ label: `order ${k + 1}`, color: sequential(k, n) }));
  const charts: Chart[] = [
    beeswarm({ id: 'beeswarm', players: b.players, rows: b.shapley, group: b.samples.map((s) => classIndex.get(s.target) ?? 0), groups, unit: UNIT, tips: sampleTips }),
  ];
  const inter = classInteractions(b, classes);
  const orders: Chart[] = [
    stackedBars({ id: 'orders-stacked', title: 'Salient strength per order, stacked: all samples and each class', labels: stackGroups.map((g) => g.label), layers: orderLayers, values: perOrder(stackGroups, n), xTitle: 'samples', yTitle: `mean Σ|I| of salient S (${UNIT})` }),
    orderBars({ id: 'orders', title: 'Mean salient strength per order over all samples', positive: cut(b.all.orders.positive), negative: cut(b.all.orders.negative), unit: UNIT }),
    groupedBars({
      id: 'normalized', title: 'Normalized distribution over orders: all samples and each class',
      labels: Array.from({ length: n }, (_, k) => String(k + 1)), from: 1,
      series: [{ name: 'all samples', color: COLOR.ink, values: cut(b.all.orders.normalized) }, ...classes.map((c) => ({ name: c.label, color: c.color, values: cut(c.group.orders.normalized) }))],
      xTitle: 'order k = |S|', yTitle: 'share of salient strength (0–1)',
    }),
  ];
  const sparse = b.method === 'sparse';
  const samples = table(
    ['row', 'id', 'label', 'target', 'cached', ...(sparse ? ['evaluations', 'held-out R² (AND)'] : [])],
    b.samples.map((s) => [
      String(s.row), s.id ?? '', s.label === undefined ? '' : String(s.label), `${s.target}${s.targetName ? ` (${s.targetName})` : ''}`, s.cached ? 'yes' : 'no',
      ...(sparse ? [String(s.evaluations ?? ''), s.r2 === null || s.r2 === undefined ? 'n/a' : fmt(s.r2)] : []),
    ]),
    2,
  );
  const method = sparse ? ` Each sample was explained by the sparse method: its AND and OR terms recovered from a budget of evaluations (no AND-OR split learned); the per-order charts stop at order ${n}, the highest recovered.` : '';
  const head = `<p>${esc(b.model.file ?? '(model bytes)')}: ${b.samples.length} samples, n = ${b.n} players (${esc(b.players.join(', '))}); ${classes.map((c) => `${esc(c.label)}: ${c.group.count}`).join(', ')}.${method}</p>`;
  return [
    { html: head, charts: [] },
    { heading: 'Shapley values over the samples', charts },
    { heading: 'Interactions per class', charts: inter ? [inter] : [] },
    { heading: 'Strength per order', charts: orders },
    { heading: 'Samples', html: samples, charts: [] },
  ];
}

/** The page title of a batch report. */
export const batchTitle = (b: BatchResultJson): string => `andor batch: ${b.model.file?.split('/').pop() ?? 'model'}, ${b.samples.length} samples`;
