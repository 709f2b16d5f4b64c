// Pictures of the salient set of one sample: the UpSet plot of the strongest interactions (bars of |I| over a
// membership matrix; after shapiq's upset plot and Lex et al. 2014) and the sparsity curve (all |I| sorted, log
// scale, with the salient threshold; after the sparsity figures of Ren et al., arXiv 2111.06206).
import { frame } from './frame.js';
import type { Interaction } from './graph.js';
import { linearScale } from './scale.js';
import { chart, clip, COLOR, fmt, fmtSigned, FONT, kindColor, KIND_LEGEND, legend, px, text, textWidth, tip, titleBlock, type Chart } from './svg.js';

/**
 * The UpSet plot: one column per interaction (strongest first), a bar of |I| coloured by kind and sign, and below
 * it a dot per member player joined by a line.
 */
export function upset(o: { id: string; players: readonly string[]; interactions: readonly Interaction[]; unit: string; total: number }): Chart {
  const cols = o.interactions;
  const rows = [...new Set(cols.flatMap((s) => s.players))].sort((a, b) => a - b);
  const labelW = Math.min(170, Math.max(40, ...rows.map((p) => textWidth(o.players[p], FONT.label)))) + 14;
  const step = Math.max(24, Math.min(40, (640 - labelW - 30) / Math.max(1, cols.length)));
  const width = Math.max(600, labelW + 20 + step * cols.length + 20);
  const title = `UpSet plot of the ${cols.length} strongest of ${o.total} salient interactions`;
  const head = titleBlock(title, width);
  const leg = legend(KIND_LEGEND.map((l) => ({ ...l, swatch: 'rect' as const })), 12, head.height + 2, width - 24);
  const barTop = head.height + leg.height + 24;
  const barH = 150;
  const rowH = 22;
  const matrixTop = barTop + barH + 14;
  const height = matrixTop + rows.length * rowH + 30;
  const x0 = labelW + 20;
  const cx = (j: number) => x0 + step * (j + 0.5);
  const scale = linearScale([0, Math.max(1e-12, ...cols.map((s) => Math.abs(s.value)))], [barTop + barH, barTop], 4);
  let body = '';
  for (const t of scale.ticks) {
    body += `<line x1="${x0}" x2="${px(x0 + step * cols.length)}" y1="${px(scale(t))}" y2="${px(scale(t))}" stroke="${COLOR.grid}"/>`;
    body += text(x0 - 6, scale(t) + 4, scale.format(t), { anchor: 'end', fill: COLOR.muted });
  }
  body += text(x0 - 48, barTop + barH / 2, `|I| (${o.unit})`, { anchor: 'middle', size: FONT.label, weight: 600, rotate: -90 });
  rows.forEach((p, i) => {
    const y = matrixTop + i * rowH;
    if (i % 2 === 0) body += `<rect x="${x0}" y="${y}" width="${px(step * cols.length)}" height="${rowH}" fill="${COLOR.shade}"/>`;
    body += text(x0 - 8, y + rowH / 2 + 4, clip(o.players[p], 170, FONT.label), { anchor: 'end', size: FONT.label, tip: o.players[p] });
  });
  cols.forEach((s, j) => {
    const color = kindColor(s.kind, s.value);
    const label = `${s.kind.toUpperCase()} {${s.players.map((p) => o.players[p]).join(', ')}}: I = ${fmtSigned(s.value)} ${o.unit}`;
    const w = step * 0.7;
    body += `<rect x="${px(cx(j) - w / 2)}" y="${px(scale(Math.abs(s.value)))}" width="${px(w)}" height="${px(scale(0) - scale(Math.abs(s.value)))}" fill="${color}">${tip(label)}</rect>`;
    body += text(cx(j), scale(Math.abs(s.value)) - 4, s.value < 0 ? '−' : '+', { anchor: 'middle', size: FONT.label, weight: 600, fill: color });
    const ys = s.players.map((p) => matrixTop + rows.indexOf(p) * rowH + rowH / 2);
    if (ys.length > 1) body += `<line x1="${px(cx(j))}" x2="${px(cx(j))}" y1="${px(Math.min(...ys))}" y2="${px(Math.max(...ys))}" stroke="${COLOR.ink}" stroke-width="2.5"/>`;
    rows.forEach((p, i) => {
      const on = s.players.includes(p);
      body += `<circle cx="${px(cx(j))}" cy="${px(matrixTop + i * rowH + rowH / 2)}" r="5.5" fill="${on ? COLOR.ink : '#d9d9d9'}">${on ? tip(label) : ''}</circle>`;
    });
    body += text(cx(j), height - 12, s.kind === 'and' ? 'A' : 'O', { anchor: 'middle', fill: color, weight: 600 });
  });
  body += `<line x1="${x0}" x2="${px(x0 + step * cols.length)}" y1="${px(scale(0))}" y2="${px(scale(0))}" stroke="${COLOR.ink}"/>`;
  return chart({
    id: o.id, title, width, height, body: head.svg + leg.svg + body,
    note: 'Bars: |I| (sign above the bar); dots: the players of each interaction; letters: A = AND, O = OR.',
  });
}

/**
 * The sparsity curve: |I(S)| of every AND and OR interaction, sorted, on a log scale, with the salient threshold.
 * @param o - the AND and OR vectors by mask (empty when the result holds no arrays), the threshold and unit
 * @returns the chart, or undefined when every interaction and the threshold are 0
 */
export function sparsityCurve(o: { id: string; and: readonly number[]; or: readonly number[]; threshold: number; unit: string }): Chart | undefined {
  const popcount = (m: number) => { let c = 0; for (; m; m &= m - 1) c++; return c; };
  const sorted = (values: readonly number[], minOrder: number) => values.map((v, m) => (m > 0 && popcount(m) >= minOrder ? Math.abs(v) : NaN)).filter(Number.isFinite).sort((a, b) => b - a);
  const and = sorted(o.and, 1);
  const or = sorted(o.or, 2);
  const positive = [...and, ...or, o.threshold].filter((v) => v > 0);
  if (positive.length === 0) return undefined; // nothing to draw on a log scale
  // a loop, not Math.max(...positive): the 2^(n+1) interactions overflow the call stack from n = 17
  let [min, max] = [Infinity, 0];
  for (const v of positive) [min, max] = [Math.min(min, v), Math.max(max, v)];
  const floor = Math.max(min, max * 1e-10);
  const f = frame({
    id: o.id,
    title: 'Sparsity: every AND and OR interaction, sorted by strength',
    x: { values: [1, Math.max(and.length, or.length, 2)], title: 'rank (strongest first)' },
    y: { values: [floor, max], log: true, title: `|I(S)| (${o.unit}, log scale)` },
    legend: [
      { label: `AND (${and.filter((v) => v >= o.threshold && v > 0).length} salient of ${and.length})`, color: COLOR.and, swatch: 'line' },
      { label: `OR (${or.filter((v) => v >= o.threshold && v > 0).length} salient of ${or.length})`, color: COLOR.or, swatch: 'dash' },
      { label: 'salient threshold', color: COLOR.muted, swatch: 'dash' },
    ],
    note: `Interactions below ${fmt(floor)} (and exact zeros) are not drawn. AND over all non-empty S, OR over |S| ≥ 2.`,
  });
  const line = (values: number[], color: string, dashed: boolean) => {
    const pts = values.map((v, i) => (v >= floor ? `${px(f.x(i + 1))},${px(f.y(v))}` : '')).filter(Boolean);
    return `<polyline fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="6 3"' : ''} points="${pts.join(' ')}"><title>${values.length} values</title></polyline>`;
  };
  let body = line(and, COLOR.and, false) + line(or, COLOR.or, true);
  // a threshold of 0 (--salient-ratio 0) or one below the axis has no place on the log scale: its line sits at the bottom
  const bottom = f.plot.top + f.plot.height;
  const ty = o.threshold > 0 ? Math.min(bottom, f.y(o.threshold)) : bottom;
  body += `<line x1="${px(f.plot.left)}" x2="${px(f.plot.left + f.plot.width)}" y1="${px(ty)}" y2="${px(ty)}" stroke="${COLOR.muted}" stroke-dasharray="4 3"/>`;
  body += text(f.plot.left + f.plot.width - 4, ty - 5, `|I| ≥ ${fmt(o.threshold)}: salient`, { anchor: 'end', fill: COLOR.muted });
  return f.finish(body);
}
