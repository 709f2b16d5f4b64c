// Graph pictures of the salient interactions of one sample: the interaction network (players on a circle, pairs as
// edges, higher orders as a small hub linked to its members; after shapiq's network plot) and the AND-OR graph
// (players → AND/OR nodes → the output; after the AND-OR graphs in the authors' papers, e.g. arXiv 2304.13312).
import { chart, clip, COLOR, fmt, fmtSigned, FONT, kindColor, KIND_LEGEND, legend, px, text, textWidth, tip, titleBlock, type Chart } from './svg.js';

/** A salient interaction to draw. */
export interface Interaction {
  readonly kind: 'and' | 'or';
  readonly players: readonly number[];
  readonly value: number;
}

const describe = (s: Interaction, names: readonly string[], unit: string) => `${s.kind.toUpperCase()} {${s.players.map((p) => names[p]).join(', ')}}: I = ${fmtSigned(s.value)} ${unit}`;
const dash = (kind: 'and' | 'or') => (kind === 'or' ? ' stroke-dasharray="6 4"' : '');
const hub = (kind: 'and' | 'or', x: number, y: number, size: number, fill: string, title: string) =>
  kind === 'and'
    ? `<rect x="${px(x - size / 2)}" y="${px(y - size / 2)}" width="${size}" height="${size}" fill="${fill}" stroke="#fff">${tip(title)}</rect>`
    : `<rect x="${px(x - size / 2)}" y="${px(y - size / 2)}" width="${size}" height="${size}" fill="${fill}" stroke="#fff" transform="rotate(45 ${px(x)} ${px(y)})">${tip(title)}</rect>`;

/**
 * The interaction network: node size and colour = Shapley value, an edge per pair, a hub per higher-order set,
 * a ring per singleton; width ∝ |I|, colour = kind and sign, OR dashed.
 * @param o - player names, Shapley values, the interactions to draw (strongest first) and the unit of v
 */
export function interactionNetwork(o: { id: string; players: readonly string[]; shapley: readonly number[]; interactions: readonly Interaction[]; unit: string; total: number }): Chart {
  const labelW = Math.max(0, ...o.players.map((p) => textWidth(clip(p, 190, FONT.label), FONT.label)));
  const R = 170;
  const width = Math.max(700, 2 * (R + 34 + labelW + 14));
  const title = `Interaction network: the ${o.interactions.length} strongest of ${o.total} salient interactions`;
  const head = titleBlock(title, width);
  const leg = legend([...KIND_LEGEND, { label: 'node: Shapley value (size ∝ |φ|)', color: COLOR.faint, swatch: 'dot' }], 12, head.height + 2, width - 24);
  const [cx, cy] = [width / 2, head.height + leg.height + 50 + R];
  const height = cy + R + 56;
  const n = o.players.length;
  const at = (p: number) => {
    const a = -Math.PI / 2 + (2 * Math.PI * p) / n;
    return [cx + R * Math.cos(a), cy + R * Math.sin(a), a] as const;
  };
  const maxPhi = Math.max(1e-12, ...o.shapley.map((v) => Math.abs(v)).filter(Number.isFinite));
  const maxI = Math.max(1e-12, ...o.interactions.map((s) => Math.abs(s.value)));
  const lw = (v: number) => 1.5 + 8 * (Math.abs(v) / maxI);
  const nodeR = (p: number) => 7 + 11 * (Math.abs(o.shapley[p] ?? 0) / maxPhi);
  let edges = '';
  let rings = '';
  let hubs = '';
  const placed: [number, number][] = [];
  // weakest first, so the strongest are drawn on top
  for (const s of [...o.interactions].reverse()) {
    const color = kindColor(s.kind, s.value);
    const label = describe(s, o.players, o.unit);
    if (s.players.length === 1) {
      const [x, y] = at(s.players[0]);
      rings += `<circle cx="${px(x)}" cy="${px(y)}" r="${px(nodeR(s.players[0]) + 3 + lw(s.value) / 2)}" fill="none" stroke="${color}" stroke-width="${px(lw(s.value))}" stroke-opacity="0.85"${dash(s.kind)}>${tip(label)}</circle>`;
    } else if (s.players.length === 2) {
      const [[x1, y1], [x2, y2]] = s.players.map(at);
      const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
      const bend = s.kind === 'and' ? 0.25 : -0.25; // AND bows toward the centre, OR away from it
      const [qx, qy] = [mx + (cx - mx) * bend, my + (cy - my) * bend];
      edges += `<path d="M${px(x1)},${px(y1)} Q${px(qx)},${px(qy)} ${px(x2)},${px(y2)}" fill="none" stroke="${color}" stroke-width="${px(lw(s.value))}" stroke-opacity="0.85"${dash(s.kind)}>${tip(label)}</path>`;
    } else {
      // ∅ (salient when the max counts it: --salient-include-empty, the authors' conventions) has no member to
      // average: its hub sits at the centre, linked to none
      const pts = s.players.map(at);
      let hx = pts.length ? pts.reduce((a, p) => a + p[0], 0) / pts.length : cx;
      let hy = pts.length ? pts.reduce((a, p) => a + p[1], 0) / pts.length : cy;
      [hx, hy] = [hx * 0.8 + cx * 0.2, hy * 0.8 + cy * 0.2];
      for (let k = 0; k < 12 && placed.some(([a, b]) => Math.hypot(a - hx, b - hy) < 16); k++) [hx, hy] = [hx + 11 * Math.cos(k * 2.4), hy + 11 * Math.sin(k * 2.4)];
      placed.push([hx, hy]);
      for (const [x, y] of pts) edges += `<line x1="${px(hx)}" y1="${px(hy)}" x2="${px(x)}" y2="${px(y)}" stroke="${color}" stroke-width="${px(lw(s.value))}" stroke-opacity="0.8"${dash(s.kind)}>${tip(label)}</line>`;
      hubs += hub(s.kind, hx, hy, 12, color, label);
    }
  }
  let nodes = '';
  for (let p = 0; p < n; p++) {
    const [x, y, a] = at(p);
    const phi = o.shapley[p] ?? NaN;
    const alpha = Number.isFinite(phi) ? 0.2 + 0.8 * (Math.abs(phi) / maxPhi) : 0;
    nodes += `<circle cx="${px(x)}" cy="${px(y)}" r="${px(nodeR(p))}" fill="${phi < 0 ? COLOR.neg : COLOR.pos}" fill-opacity="${alpha.toFixed(2)}" stroke="${COLOR.ink}">${tip(`${o.players[p]}: φ = ${fmtSigned(phi)} ${o.unit}`)}</circle>`;
    const [lx, ly] = [cx + (R + 34) * Math.cos(a), cy + (R + 34) * Math.sin(a) + 4 * Math.sin(a)];
    const anchor = Math.cos(a) > 0.3 ? 'start' : Math.cos(a) < -0.3 ? 'end' : 'middle';
    nodes += text(lx, ly + 4, clip(o.players[p], 190, FONT.label), { anchor, size: FONT.label, tip: o.players[p] });
  }
  return chart({
    id: o.id, title, width, height,
    body: head.svg + leg.svg + `<g>${rings}${edges}${hubs}${nodes}</g>`,
    note: 'Pairs are edges (AND bowed inwards, OR outwards), larger sets a hub (■ AND, ◆ OR) linked to each member, singletons a ring; width ∝ |I|.',
  });
}

/**
 * The AND-OR graph: players at the bottom, one AND or OR node per interaction in the middle (ordered to reduce
 * crossings), the output at the top; edge width to the output ∝ |I|.
 */
export function andOrGraph(o: { id: string; players: readonly string[]; interactions: readonly Interaction[]; unit: string; vN: number; total: number }): Chart {
  const n = o.players.length;
  const width = Math.max(720, 90 + o.interactions.length * 56, 90 + n * 48);
  const title = `AND-OR graph: the output as a sum of the ${o.interactions.length} strongest of ${o.total} salient interactions`;
  const head = titleBlock(title, width);
  const leg = legend(KIND_LEGEND, 12, head.height + 2, width - 24);
  const top = head.height + leg.height + 16;
  const [rootY, midY, leafY] = [top + 18, top + 130, top + 270];
  const margin = 60;
  const leafX = (p: number) => margin + ((width - 2 * margin) * (p + 0.5)) / n;
  const used = new Set(o.interactions.flatMap((s) => s.players));
  const order = o.interactions.map((s, i) => ({ s, i, c: s.players.length ? s.players.reduce((a, p) => a + leafX(p), 0) / s.players.length : width / 2 })).sort((a, b) => a.c - b.c || a.i - b.i);
  const slot = (width - 2 * margin) / Math.max(1, order.length);
  const maxI = Math.max(1e-12, ...o.interactions.map((s) => Math.abs(s.value)));
  const labelW = Math.max(...o.players.map((p) => textWidth(clip(p, 160))));
  const height = leafY + 16 + labelW * 0.5 + 36;
  let down = '';
  let up = '';
  let mids = '';
  order.forEach(({ s }, j) => {
    const x = margin + slot * (j + 0.5);
    const color = kindColor(s.kind, s.value);
    const label = describe(s, o.players, o.unit);
    up += `<line x1="${px(x)}" y1="${midY - 16}" x2="${px(width / 2)}" y2="${rootY + 16}" stroke="${color}" stroke-opacity="0.8" stroke-width="${px(1 + 7 * (Math.abs(s.value) / maxI))}"${dash(s.kind)}>${tip(label)}</line>`;
    for (const p of s.players) down += `<line x1="${px(x)}" y1="${midY + 16}" x2="${px(leafX(p))}" y2="${leafY - 7}" stroke="${color}" stroke-opacity="0.7" stroke-width="1.3"${dash(s.kind)}>${tip(label)}</line>`;
    const w = Math.min(slot - 4, 50);
    mids += `<rect x="${px(x - w / 2)}" y="${midY - 16}" width="${px(w)}" height="32" rx="5" fill="#fff" stroke="${color}" stroke-width="2"${dash(s.kind)}>${tip(label)}</rect>`;
    mids += text(x, midY - 2, s.kind.toUpperCase(), { anchor: 'middle', weight: 600, fill: color });
    mids += text(x, midY + 12, fmtSigned(s.value, Math.abs(s.value) >= 10 ? 1 : 2), { anchor: 'middle' });
  });
  let leaves = '';
  for (let p = 0; p < n; p++) {
    const x = leafX(p);
    const on = used.has(p);
    leaves += `<circle cx="${px(x)}" cy="${leafY}" r="7" fill="${on ? COLOR.ink : '#fff'}" stroke="${on ? COLOR.ink : COLOR.faint}">${tip(o.players[p])}</circle>`;
    leaves += text(x - 2, leafY + 20, clip(o.players[p], 160), { anchor: 'end', rotate: -30, fill: on ? COLOR.ink : COLOR.muted, tip: o.players[p] });
  }
  const root = `<rect x="${px(width / 2 - 90)}" y="${rootY - 16}" width="180" height="32" rx="6" fill="${COLOR.shade}" stroke="${COLOR.ink}"/>` +
    text(width / 2, rootY + 5, Number.isFinite(o.vN) ? `output v(N) = ${fmt(o.vN)}` : 'output v(N)', { anchor: 'middle', weight: 600, size: FONT.label });
  return chart({
    id: o.id, title, width, height,
    body: head.svg + leg.svg + `<g>${down}${up}${mids}${leaves}${root}</g>`,
    note: 'v(N) = v(∅) + Σ of all AND and OR interactions (universal matching); a player node is filled when one of the drawn interactions contains it.',
  });
}
