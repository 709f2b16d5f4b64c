// Attribution pictures of Shapley values, after SHAP's: the waterfall from v(∅) to v(N) of one sample, the force
// plot of the same sum on one line, and the beeswarm of many samples (one dot per sample and player).
// see: https://shap.readthedocs.io/en/latest/generated/shap.plots.waterfall.html (and .force, .beeswarm)
import { frame } from './frame.js';
import { linearScale } from './scale.js';
import { chart, clip, COLOR, fmt, fmtSigned, FONT, legend, px, text, textWidth, tip, titleBlock, type Chart, type LegendItem } from './svg.js';

/** One player's contribution. */
export interface Contribution {
  readonly label: string;
  /** A shorter label (the player's name) where space is tight. */
  readonly short?: string;
  readonly value: number;
}

/** Players by |φ|, the weakest beyond `max` merged into one row. */
function strongest(items: readonly Contribution[], max: number): Contribution[] {
  const sorted = items.filter((c) => Number.isFinite(c.value)).sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  if (sorted.length <= max) return sorted;
  const rest = sorted.slice(max - 1);
  return [...sorted.slice(0, max - 1), { label: `${rest.length} other players`, value: rest.reduce((s, c) => s + c.value, 0) }];
}

const arrow = (a: number, b: number, cy: number, h: number, fill: string, title: string) => {
  const dir = Math.sign(b - a) || 1;
  const head = Math.min(7, Math.abs(b - a));
  const pts = [[a, cy - h / 2], [b - dir * head, cy - h / 2], [b, cy], [b - dir * head, cy + h / 2], [a, cy + h / 2]];
  return `<polygon points="${pts.map(([x, y]) => `${px(x)},${px(y)}`).join(' ')}" fill="${fill}">${tip(title)}</polygon>`;
};

/**
 * The waterfall: from v(∅) (bottom) through each player's Shapley value to v(N) (top), largest |φ| at the top.
 * @param o - contributions, v(∅) and v(N) (NaN when the result holds no v), the unit of v
 */
export function waterfall(o: { id: string; contributions: readonly Contribution[]; v0: number; vN: number; unit: string; max?: number }): Chart {
  const known = Number.isFinite(o.v0);
  const base = known ? o.v0 : 0;
  const rows = strongest(o.contributions, o.max ?? 12);
  const starts: number[] = new Array(rows.length);
  let acc = base;
  for (let i = rows.length - 1; i >= 0; i--) {
    starts[i] = acc;
    acc += rows[i].value;
  }
  const end = known && Number.isFinite(o.vN) ? o.vN : acc;
  const labels = [known ? 'output v(N)' : 'v(N) − v(∅)', ...rows.map((r) => r.label), known ? 'baseline v(∅)' : 'v(∅) (not stored)'];
  const span = Math.max(...starts.map((s, i) => Math.max(s, s + rows[i].value)), base, end) - Math.min(...starts.map((s, i) => Math.min(s, s + rows[i].value)), base, end);
  const pad = span * 0.12;
  const f = frame({
    id: o.id,
    title: 'Waterfall: each player\'s Shapley value moves v from the baseline v(∅) to the output v(N)',
    x: { values: [...starts, ...starts.map((s, i) => s + rows[i].value), base - pad, end + pad, base + pad, end - pad], title: known ? `v(S) (${o.unit})` : `v(S) − v(∅) (${o.unit})` },
    y: { band: labels, title: 'player' },
    legend: [{ label: 'raises v', color: COLOR.pos }, { label: 'lowers v', color: COLOR.neg }],
    note: 'Shapley values add up to v(N) − v(∅) (efficiency); the weakest players are merged into one row.',
    rowHeight: 26,
  });
  const band = f.yBand!;
  const { top, height } = f.plot;
  let body = `<line x1="${px(f.x(base))}" x2="${px(f.x(base))}" y1="${px(top)}" y2="${px(top + height)}" stroke="${COLOR.muted}" stroke-dasharray="3 3"/>`;
  body += `<line x1="${px(f.x(end))}" x2="${px(f.x(end))}" y1="${px(top)}" y2="${px(top + height)}" stroke="${COLOR.muted}" stroke-dasharray="3 3"/>`;
  const dot = (v: number, row: number, label: string) => {
    const x = f.x(v);
    const right = x < f.plot.left + f.plot.width / 2;
    return `<circle cx="${px(x)}" cy="${px(band.center(row))}" r="5" fill="${COLOR.ink}">${tip(label)}</circle>` + text(right ? x + 9 : x - 9, band.center(row) + 4, label, { anchor: right ? 'start' : 'end', weight: 600 });
  };
  body += dot(end, 0, `${known ? 'v(N)' : 'Σφ'} = ${fmt(end)}`) + dot(base, labels.length - 1, known ? `v(∅) = ${fmt(base)}` : '0');
  rows.forEach((r, i) => {
    const [a, b] = [f.x(starts[i]), f.x(starts[i] + r.value)];
    const cy = band.center(i + 1);
    const color = r.value >= 0 ? COLOR.pos : COLOR.neg;
    body += arrow(a, b, cy, band.width, color, `${r.label}: φ = ${fmtSigned(r.value)} ${o.unit}`);
    const label = fmtSigned(r.value);
    const inside = Math.abs(b - a) > textWidth(label) + 12;
    body += inside
      ? text((a + b) / 2, cy + 4, label, { anchor: 'middle', fill: '#fff', weight: 600 })
      : text(r.value >= 0 ? Math.max(a, b) + 4 : Math.min(a, b) - 4, cy + 4, label, { anchor: r.value >= 0 ? 'start' : 'end', fill: color });
    if (i > 0) body += `<line x1="${px(a)}" x2="${px(a)}" y1="${px(cy - band.width / 2)}" y2="${px(band.center(i) + band.width / 2)}" stroke="${COLOR.faint}"/>`;
  });
  return f.finish(body);
}

/**
 * The force plot: players that raise v push from the left up to v(N) (red), those that lower it push from the right
 * (blue); the biggest sit next to v(N).
 */
export function forcePlot(o: { id: string; contributions: readonly Contribution[]; v0: number; vN: number; unit: string }): Chart {
  const width = 760;
  const known = Number.isFinite(o.v0);
  const base = known ? o.v0 : 0;
  const items = o.contributions.filter((c) => Number.isFinite(c.value) && c.value !== 0);
  const up = items.filter((c) => c.value > 0).sort((a, b) => a.value - b.value);
  const down = items.filter((c) => c.value < 0).sort((a, b) => a.value - b.value);
  const end = known && Number.isFinite(o.vN) ? o.vN : base + items.reduce((s, c) => s + c.value, 0);
  const sumUp = up.reduce((s, c) => s + c.value, 0);
  const sumDown = down.reduce((s, c) => s - c.value, 0);
  const lo = Math.min(end - sumUp, base, end);
  const hi = Math.max(end + sumDown, base, end);
  const title = 'Force plot: the same Shapley values on one line, pushing v from v(∅) to v(N)';
  const head = titleBlock(title, width);
  const leg = legend([{ label: 'raises v', color: COLOR.pos }, { label: 'lowers v', color: COLOR.neg }], 12, head.height + 2, width - 24);
  const top = head.height + leg.height + 14;
  const [left, right] = [30, width - 30];
  const scale = linearScale([lo - (hi - lo) * 0.04, hi + (hi - lo) * 0.04], [left, right], 7);
  const axisY = top + 34;
  const barY = axisY + 14;
  const barH = 26;
  let body = `<line x1="${left}" x2="${right}" y1="${axisY}" y2="${axisY}" stroke="${COLOR.ink}"/>`;
  for (const t of scale.ticks) body += `<line x1="${px(scale(t))}" x2="${px(scale(t))}" y1="${axisY - 4}" y2="${axisY}" stroke="${COLOR.ink}"/>` + text(scale(t), axisY - 7, scale.format(t), { anchor: 'middle', fill: COLOR.muted });
  const rowsUsed: [number, number][][] = [[], [], []];
  const place = (x: number, w: number) => rowsUsed.findIndex((row) => row.every(([a, b]) => x + w / 2 < a - 6 || x - w / 2 > b + 6));
  const segments: string[] = [];
  const labels: string[] = [];
  const draw = (c: Contribution, from: number, to: number) => {
    const [a, b] = [scale(from), scale(to)];
    const color = c.value > 0 ? COLOR.pos : COLOR.neg;
    segments.push(arrow(a, b, barY + barH / 2, barH, color, `${c.label}: φ = ${fmtSigned(c.value)} ${o.unit}`) + `<line x1="${px(b)}" x2="${px(b)}" y1="${barY}" y2="${barY + barH}" stroke="#fff" stroke-width="1.2"/>`);
    const label = `${clip(c.short ?? c.label, 150)} ${fmtSigned(c.value, 2)}`;
    const w = textWidth(label);
    const mid = Math.max(w / 2 + 4, Math.min(width - w / 2 - 4, (a + b) / 2));
    const row = Math.abs(b - a) > 3 ? place(mid, w) : -1;
    if (row < 0) return;
    rowsUsed[row].push([mid - w / 2, mid + w / 2]);
    const ly = barY + barH + 16 + row * 15;
    labels.push(`<line x1="${px((a + b) / 2)}" x2="${px(mid)}" y1="${barY + barH}" y2="${px(ly - 10)}" stroke="${COLOR.faint}"/>` + text(mid, ly, label, { anchor: 'middle', fill: color }));
  };
  // red stacks end at v(N), biggest nearest to it; blue stacks start at v(N)
  let x = end - sumUp;
  for (const c of up) draw(c, x, (x += c.value));
  x = end + sumDown;
  for (const c of down) draw(c, x, (x += c.value));
  body += segments.join('') + labels.join('');
  const mark = (v: number, label: string, above: boolean) =>
    `<line x1="${px(scale(v))}" x2="${px(scale(v))}" y1="${above ? axisY - 22 : barY}" y2="${barY + barH}" stroke="${COLOR.ink}" stroke-width="1.5"/>` +
    text(scale(v), above ? axisY - 24 : barY - 4, label, { anchor: 'middle', weight: 600, size: FONT.label });
  body += mark(end, `v(N) = ${fmt(end)}`, true);
  if (known) body += `<line x1="${px(scale(base))}" x2="${px(scale(base))}" y1="${barY - 6}" y2="${barY + barH + 6}" stroke="${COLOR.ink}" stroke-dasharray="3 2"/>` + text(scale(base), barY + barH + 62, `v(∅) = ${fmt(base)}`, { anchor: 'middle', fill: COLOR.muted });
  const height = barY + barH + 90;
  body += text(width / 2, height - 8, `v(S) (${o.unit})`, { anchor: 'middle', size: FONT.label, weight: 600 });
  return chart({ id: o.id, title, width, height, body: head.svg + leg.svg + body, note: 'Labels of small contributions are left out; hover a segment for its value.' });
}

/**
 * The beeswarm: one row per player (largest mean |φ| on top), one dot per sample at its Shapley value, coloured by
 * the sample's group (class).
 * @param o - players, per-sample rows of values, per-sample group index and the group legend
 */
export function beeswarm(o: { id: string; players: readonly string[]; rows: readonly (readonly number[])[]; group: readonly number[]; groups: readonly LegendItem[]; unit: string; tips?: readonly string[]; max?: number }): Chart {
  const meanAbs = o.players.map((_, p) => o.rows.reduce((s, r) => s + Math.abs(r[p] ?? 0), 0) / Math.max(1, o.rows.length));
  const order = o.players.map((_, p) => p).sort((a, b) => meanAbs[b] - meanAbs[a]).slice(0, o.max ?? 20);
  const f = frame({
    id: o.id,
    title: 'Beeswarm: Shapley value of each player in each sample',
    x: { values: [0, ...o.rows.flat()], title: `Shapley value φ_i (${o.unit})` },
    y: { band: order.map((p) => o.players[p]), title: 'player (by mean |φ|)' },
    legend: o.groups,
    rowHeight: 30,
    note: 'Each dot is one sample; dots that would overlap are stacked vertically.',
  });
  const band = f.yBand!;
  const r = 3.6;
  let body = '';
  order.forEach((p, row) => {
    const pts = o.rows.map((vals, s) => ({ s, x: f.x(vals[p]) })).filter((q) => Number.isFinite(q.x)).sort((a, b) => a.x - b.x);
    const placed: { x: number; y: number }[] = [];
    const limit = band.width / 2;
    for (const q of pts) {
      let dy = 0;
      for (let k = 0; k < 40; k++) {
        dy = (k % 2 ? 1 : -1) * Math.ceil(k / 2) * r * 0.9;
        if (placed.every((o2) => Math.hypot(o2.x - q.x, o2.y - dy) >= 2 * r - 0.2)) break;
      }
      dy = Math.max(-limit, Math.min(limit, dy));
      placed.push({ x: q.x, y: dy });
      const color = o.groups[o.group[q.s]]?.color ?? COLOR.ink;
      body += `<circle cx="${px(q.x)}" cy="${px(band.center(row) + dy)}" r="${r}" fill="${color}" fill-opacity="0.85">${tip(`${o.players[p]}, ${o.tips?.[q.s] ?? `sample ${q.s}`}: φ = ${fmtSigned(o.rows[q.s][p])} ${o.unit}`)}</circle>`;
    }
  });
  return f.finish(body);
}
