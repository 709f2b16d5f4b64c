// Generic charts over the frame: signed bars per order, grouped bars, stacked bars, lines over checkpoints (with
// markers, a shaded phase and values at a bound drawn open) and small multiples on one shared scale. They take
// plain arrays; the reports decide what to plot.
import { frame, marker, shade } from './frame.js';
import { linearScale, extent } from './scale.js';
import { chart, COLOR, esc, fmt, FONT, hatchDef, legend, num, px, text, tip, titleBlock, type Chart, type LegendItem } from './svg.js';

type Values = ArrayLike<number | null>;

/** One bar or line series. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: Values;
  readonly dash?: boolean;
  /** Per point: a label such as "≤ 1e-8" where the value is only a bound (drawn as an open marker). */
  readonly bounds?: readonly (string | null)[];
}

const orderLabels = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

/**
 * The highest order k ≥ 1 at which some per-order array (index = order) holds a value that `counts`; at least 1. A
 * sparse result recovers orders up to its maxOrder only: its charts stop there instead of drawing empty orders to n.
 * @param counts - which values count (default: numbers other than 0)
 */
export function highestOrder(arrays: readonly (Values | undefined)[], counts = (x: number | null | undefined) => typeof x === 'number' && x !== 0): number {
  let top = 1;
  for (const a of arrays) for (let k = 1; k < (a?.length ?? 0); k++) if (counts(a![k])) top = Math.max(top, k);
  return top;
}
const bar = (x: number, y0: number, y1: number, w: number, fill: string, title: string, extra = '') =>
  `<rect x="${px(x)}" y="${px(Math.min(y0, y1))}" width="${px(Math.max(0.5, w))}" height="${px(Math.abs(y1 - y0))}" fill="${fill}"${extra}>${tip(title)}</rect>`;

/**
 * Salient positive (up, red) and negative (down, blue) strength per order k = 1..n; the y axis covers only the signs
 * present.
 * @param o - id, title, per-order arrays (index = order, index 0 ignored) and the unit of v
 */
export function orderBars(o: { id: string; title: string; positive: Values; negative: Values; unit: string; note?: string; width?: number }): Chart {
  const n = o.positive.length - 1;
  const pos = Array.from({ length: n }, (_, k) => num(o.positive[k + 1]));
  const neg = Array.from({ length: n }, (_, k) => num(o.negative[k + 1]));
  const f = frame({
    id: o.id, title: o.title, width: o.width, note: o.note,
    x: { band: orderLabels(n), title: 'order k = |S|' },
    y: { values: [...pos, ...neg], zero: true, title: `Σ I over salient S (${o.unit})` },
    legend: [{ label: 'positive', color: COLOR.pos }, { label: 'negative', color: COLOR.neg }],
  });
  const band = f.xBand!;
  let body = '';
  for (let k = 0; k < n; k++) {
    if (Number.isFinite(pos[k]) && pos[k] !== 0) body += bar(band.start(k), f.y(0), f.y(pos[k]), band.width, COLOR.pos, `order ${k + 1}: positive ${fmt(pos[k])} ${o.unit}`);
    if (Number.isFinite(neg[k]) && neg[k] !== 0) body += bar(band.start(k), f.y(0), f.y(neg[k]), band.width, COLOR.neg, `order ${k + 1}: negative ${fmt(neg[k])} ${o.unit}`);
  }
  return f.finish(body);
}

/**
 * Bars side by side per category, one colour per series.
 * @param o - categories (x), series, axis titles; `from` skips leading entries of every series (e.g. order 0)
 */
export function groupedBars(o: { id: string; title: string; labels: readonly string[]; series: readonly Series[]; xTitle: string; yTitle: string; from?: number; note?: string; width?: number }): Chart {
  const from = o.from ?? 0;
  const values = o.series.map((s) => Array.from({ length: o.labels.length }, (_, i) => num(s.values[i + from])));
  const f = frame({
    id: o.id, title: o.title, width: o.width, note: o.note,
    x: { band: o.labels, title: o.xTitle },
    y: { values: values.flat(), zero: true, title: o.yTitle },
    legend: o.series.length > 1 ? o.series.map((s) => ({ label: s.name, color: s.color })) : [],
  });
  const band = f.xBand!;
  const w = band.width / o.series.length;
  let body = '';
  o.labels.forEach((label, i) =>
    o.series.forEach((s, j) => {
      const v = values[j][i];
      if (Number.isFinite(v)) body += bar(band.start(i) + j * w, f.y(0), f.y(v), w * 0.92, s.color, `${s.name}, ${label}: ${fmt(v)}`);
    }),
  );
  return f.finish(body);
}

/**
 * Bars stacked per category (layer j of category i = values[i][j]), e.g. strength per order for each class or
 * checkpoint.
 */
export function stackedBars(o: { id: string; title: string; labels: readonly string[]; layers: readonly LegendItem[]; values: readonly (readonly number[])[]; xTitle: string; yTitle: string; note?: string; width?: number }): Chart {
  const totals = o.values.map((row) => row.reduce((a, v) => a + (Number.isFinite(v) ? Math.max(0, v) : 0), 0));
  const f = frame({
    id: o.id, title: o.title, width: o.width, note: o.note,
    x: { band: o.labels, title: o.xTitle, padding: 0.3 },
    y: { values: totals, zero: true, title: o.yTitle },
    legend: o.layers,
  });
  const band = f.xBand!;
  let body = '';
  o.values.forEach((row, i) => {
    let acc = 0;
    row.forEach((v, j) => {
      if (!(v > 0)) return;
      body += bar(band.start(i), f.y(acc), f.y(acc + v), band.width, o.layers[j].color, `${o.labels[i]}, ${o.layers[j].label}: ${fmt(v)}`, ' stroke="#fff" stroke-width="0.5"');
      acc += v;
    });
  });
  return f.finish(body);
}

/**
 * Lines over categories (checkpoints): markers at turning points, phase 1 shaded, values at a bound drawn open with
 * their label, and a y axis that starts at 0 only when nothing is negative.
 */
export function lineChart(o: {
  id: string; title: string; labels: readonly string[]; series: readonly Series[]; xTitle: string; yTitle: string;
  log?: boolean; marks?: readonly { at: number; label: string }[]; phase1?: number; note?: string; width?: number; zero?: boolean;
}): Chart {
  const all = o.series.flatMap((s) => Array.from(s.values, num));
  // a log axis gets room around its extremes, so markers at a bound sit inside the plot
  const padded = o.log ? [...all, ...all.filter((v) => v > 0).flatMap((v) => [v / 3, v * 3])] : all;
  const f = frame({
    id: o.id, title: o.title, width: o.width, note: o.note,
    x: { band: o.labels, title: o.xTitle },
    y: { values: padded, zero: o.zero ?? (!o.log && all.every((v) => !(v < 0))), log: o.log, title: o.yTitle },
    legend: o.series.length > 1 || o.series.some((s) => s.bounds?.some(Boolean))
      ? [...o.series.map((s) => ({ label: s.name, color: s.color, swatch: s.dash ? ('dash' as const) : ('line' as const) })), ...(o.series.some((s) => s.bounds?.some(Boolean)) ? [{ label: 'at the bound of the fitted grid', color: COLOR.ink, swatch: 'open' as const }] : [])]
      : [],
  });
  const band = f.xBand!;
  let body = '';
  const back = o.phase1 && o.phase1 > 0 ? shade(f, f.plot.left, band.center(o.phase1) - band.step / 2, 'phase 1') : '';
  let front = '';
  (o.marks ?? []).forEach((m, r) => (front += marker(f, band.center(m.at), m.label, r)));
  for (const s of o.series) {
    const v = Array.from(s.values, num);
    const ok = (i: number) => Number.isFinite(v[i]) && (!o.log || v[i] > 0);
    for (let i = 0; i + 1 < v.length; i++) {
      if (!ok(i) || !ok(i + 1)) continue;
      const dashed = s.dash || s.bounds?.[i] || s.bounds?.[i + 1];
      body += `<line x1="${px(band.center(i))}" y1="${px(f.y(v[i]))}" x2="${px(band.center(i + 1))}" y2="${px(f.y(v[i + 1]))}" stroke="${s.color}" stroke-width="2"${dashed ? ' stroke-dasharray="5 3"' : ''}/>`;
    }
    v.forEach((value, i) => {
      if (!ok(i)) return;
      const bound = s.bounds?.[i];
      const [cx, cy] = [band.center(i), f.y(value)];
      body += bound
        ? `<circle cx="${px(cx)}" cy="${px(cy)}" r="5" fill="#fff" stroke="${s.color}" stroke-width="2">${tip(`${s.name} @ ${o.labels[i]}: ${bound} (at the bound of the fitted grid)`)}</circle>` +
          `<text x="${px(cx - 9)}" y="${px(cy + 4)}" font-size="${FONT.tick}" text-anchor="end" fill="${s.color}" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(bound)}</text>`
        : `<circle cx="${px(cx)}" cy="${px(cy)}" r="3.5" fill="${s.color}">${tip(`${s.name} @ ${o.labels[i]}: ${fmt(value)}`)}</circle>`;
    });
  }
  return f.finish(body, { front, back });
}

/** One panel of a small-multiples chart. */
export interface Panel {
  readonly title: string;
  readonly subtitle?: string;
  /** Bars (drawn side by side) and lines (drawn over them), per order k = 1..n (index 0 ignored). */
  readonly bars: readonly Series[];
  readonly lines?: readonly Series[];
  /** Greyed out, with this reason (e.g. "phase 1: no theory"). */
  readonly muted?: string;
  readonly highlight?: boolean;
}

/**
 * Small multiples per order k = 1..n, all panels on ONE shared y scale (said in the chart).
 * @param o - panels, axis titles and legend; `columns` defaults to up to 4
 */
export function panelChart(o: { id: string; title: string; panels: readonly Panel[]; n: number; yTitle: string; legend: readonly LegendItem[]; columns?: number; note?: string; panelHeight?: number; overlay?: boolean }): Chart {
  const columns = Math.max(1, Math.min(o.columns ?? (o.panels.length > 12 ? 6 : 4), o.panels.length));
  const rows = Math.ceil(o.panels.length / columns);
  const width = Math.max(640, 80 + columns * 190);
  const head = titleBlock(`${o.title} (one shared y scale)`, width);
  const hatchId = `${o.id}-hatch`;
  const leg = legend(o.legend, 12, head.height + 2, width - 24, hatchId);
  const values = o.panels.flatMap((p) => [...p.bars, ...(p.lines ?? [])].flatMap((s) => Array.from(s.values, num).slice(1)));
  const probe = linearScale(extent(values, true), [0, 1], 4);
  const axisW = 26 + Math.max(...probe.ticks.map((t) => probe.format(t).length * FONT.tick * 0.6)) + 8;
  const gap = 16;
  const panelW = (width - axisW - 16 - gap * (columns - 1)) / columns;
  const plotH = o.panelHeight ?? 120;
  const [titleH, labelsH] = [36, 20];
  const cellH = titleH + plotH + labelsH + 10;
  const top = head.height + leg.height + 12;
  const height = top + rows * cellH + 26;
  const y = (row: number) => linearScale(extent(values, true), [top + row * cellH + titleH + plotH, top + row * cellH + titleH], 4);
  const step = panelW / o.n;
  const labelEvery = Math.max(1, Math.ceil((FONT.tick * 1.3 + 2) / step));
  let body = '';
  o.panels.forEach((p, idx) => {
    const [row, col] = [Math.floor(idx / columns), idx % columns];
    const x0 = axisW + col * (panelW + gap);
    const scale = y(row);
    const [yBottom, yTop] = [scale(scale.domain[0]), scale(scale.domain[1])];
    let g = `<rect x="${px(x0)}" y="${px(yTop)}" width="${px(panelW)}" height="${px(yBottom - yTop)}" fill="${p.muted ? COLOR.shade : '#fff'}" stroke="${p.highlight ? COLOR.ink : COLOR.grid}"${p.highlight ? ' stroke-width="1.5"' : ''}/>`;
    for (const t of scale.ticks) {
      g += `<line x1="${px(x0)}" x2="${px(x0 + panelW)}" y1="${px(scale(t))}" y2="${px(scale(t))}" stroke="${t === 0 ? COLOR.muted : COLOR.grid}"/>`;
      if (col === 0) g += text(x0 - 6, scale(t) + 4, scale.format(t), { anchor: 'end', fill: COLOR.muted });
    }
    // overlay: every series at the same x (positive up, negative down); else side by side
    const barW = o.overlay ? step * 0.8 : (step * 0.8) / Math.max(1, p.bars.length);
    for (let k = 1; k <= o.n; k++) {
      const xs = x0 + (k - 1) * step + step * 0.1;
      p.bars.forEach((s, j) => {
        const v = num(s.values[k]);
        if (Number.isFinite(v) && v !== 0) g += bar(xs + (o.overlay ? 0 : j * barW), scale(0), scale(v), barW * 0.92, p.muted ? COLOR.faint : s.color, `${p.title}, order ${k}, ${s.name}: ${fmt(v)}`);
      });
      if ((k - 1) % labelEvery === 0 || k === o.n) g += text(x0 + (k - 0.5) * step, yBottom + 14, String(k), { anchor: 'middle', fill: COLOR.muted });
    }
    for (const s of p.muted ? [] : p.lines ?? []) {
      const pts: string[] = [];
      for (let k = 1; k <= o.n; k++) {
        const v = num(s.values[k]);
        if (!Number.isFinite(v)) continue;
        const [cx, cy] = [x0 + (k - 0.5) * step, scale(v)];
        pts.push(`${px(cx)},${px(cy)}`);
        g += `<circle cx="${px(cx)}" cy="${px(cy)}" r="2.8" fill="${s.color}">${tip(`${p.title}, order ${k}, ${s.name}: ${fmt(v)}`)}</circle>`;
      }
      g += `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`;
    }
    if (p.muted) g += text(x0 + panelW - 6, yTop + 16, p.muted, { anchor: 'end', fill: COLOR.muted });
    g += text(x0, yTop - 20, p.title, { size: FONT.label, weight: 600 });
    if (p.subtitle) g += text(x0, yTop - 6, p.subtitle, { fill: COLOR.muted });
    body += `<g data-panel="${idx}">${g}</g>`;
  });
  body += text(axisW + (width - axisW - 16) / 2, height - 8, 'order k = |S|', { anchor: 'middle', size: FONT.label, weight: 600 });
  body += text(16, top + (rows * cellH) / 2, o.yTitle, { anchor: 'middle', size: FONT.label, weight: 600, rotate: -90 });
  return chart({ id: o.id, title: o.title, width, height, note: o.note, defs: hatchDef(hatchId), body: head.svg + leg.svg + body });
}

/** An HTML table (for numbers a chart cannot hold). */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[], leftColumns = 1): string {
  const cell = (tag: string, v: string | number, i: number) => `<${tag}${i < leftColumns ? ' class="l"' : ''}>${esc(typeof v === 'number' ? fmt(v) : v)}</${tag}>`;
  return `<table><tr>${head.map((h, i) => cell('th', h, i)).join('')}</tr>${rows.map((r) => `<tr>${r.map((v, i) => cell('td', v, i)).join('')}</tr>`).join('')}</table>`;
}
