// The strongest interactions drawn on the input itself, from the result's `input` layout: image cells outlined (not
// tinted) with non-player cells hatched, point-cloud clusters coloured by kind, and a sentence with arcs between the
// token positions of each interaction (AND above the line, OR below).
import type { Interaction } from './graph.js';
import { chart, clip, COLOR, esc, fmtSigned, FONT, hatchDef, kindColor, KIND_LEGEND, legend, px, text, textWidth, tip, titleBlock, type Chart, type LegendItem } from './svg.js';

/** The input layout of an explain result (andor.explain/1 `input`). */
export interface InputJson {
  readonly modality: string;
  readonly dims: readonly number[];
  readonly values: readonly (number | null)[];
  readonly offsets: readonly number[];
  readonly indices: readonly number[];
  readonly tokens?: readonly string[];
}

/** Distinct colours for up to ten clusters (Tableau 10). */
const CLUSTERS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const elementsOf = (input: InputJson, p: number) => input.indices.slice(input.offsets[p], input.offsets[p + 1]);
const describe = (s: Interaction, names: readonly string[], unit: string) => `${s.kind.toUpperCase()} {${s.players.map((p) => names[p]).join(', ')}}: I = ${fmtSigned(s.value)} ${unit}`;

/** Small multiples: panel i at (column, row), each with a two-line heading. */
function grid(count: number, panelW: number, panelH: number, top: number, width: number) {
  const gap = 18;
  const columns = Math.max(1, Math.min(count, Math.floor((width - 24 + gap) / (panelW + gap))));
  const rows = Math.ceil(count / columns);
  const headH = 36;
  return {
    height: top + rows * (headH + panelH + gap),
    at: (i: number) => ({ x: 12 + (i % columns) * (panelW + gap), y: top + Math.floor(i / columns) * (headH + panelH + gap) + headH }),
    heading: (i: number, title: string, subtitle: string, color: string = COLOR.ink) => {
      const x = 12 + (i % columns) * (panelW + gap);
      const y = top + Math.floor(i / columns) * (headH + panelH + gap);
      return text(x, y + 14, clip(title, panelW, FONT.label), { size: FONT.label, weight: 600, fill: color }) + text(x, y + 29, clip(subtitle, panelW), { fill: COLOR.muted, tip: subtitle });
    },
  };
}

/**
 * The image with each interaction's player cells outlined (colour = kind and sign, OR dashed); pixels that belong
 * to no player are hatched. The first panel names every player.
 */
export function imagePanels(o: { id: string; input: InputJson; players: readonly string[]; interactions: readonly Interaction[]; unit: string }): Chart {
  const { input } = o;
  const [h, w] = input.dims.slice(-2);
  const plane = h * w;
  const channels = Math.max(1, Math.floor(input.values.length / plane));
  const block = Math.max(1, Math.ceil(Math.max(h, w) / 96)); // large images are drawn at block resolution
  const [bh, bw] = [Math.ceil(h / block), Math.ceil(w / block)];
  const cell = Math.max(1, Math.floor(150 / Math.max(bh, bw)));
  const owner = new Int32Array(bh * bw).fill(-1);
  o.players.forEach((_, p) => {
    for (const e of elementsOf(input, p)) {
      const pix = e % plane;
      owner[Math.floor(Math.floor(pix / w) / block) * bw + Math.floor((pix % w) / block)] = p;
    }
  });
  const value = (c: number, i: number) => (typeof input.values[c * plane + i] === 'number' ? (input.values[c * plane + i] as number) : 0);
  // a loop, not Math.min(...all): a 3×224×224 image is more arguments than the call stack holds
  let [lo, hi] = [Infinity, -Infinity];
  for (let i = 0; i < Math.min(input.values.length, plane * Math.min(3, channels)); i++) [lo, hi] = [Math.min(lo, value(0, i)), Math.max(hi, value(0, i))];
  const shade = (c: number, i: number) => Math.round((255 * (value(c, i) - lo)) / (hi - lo || 1));
  let pixels = '';
  let hatch = '';
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      const i = by * block * w + bx * block;
      const rgb = channels >= 3 ? [0, 1, 2].map((c) => shade(c, i)) : [0, 0, 0].map(() => shade(0, i));
      pixels += `<rect x="${bx * cell}" y="${by * cell}" width="${cell}" height="${cell}" fill="rgb(${rgb.join(',')})"/>`;
      if (owner[by * bw + bx] < 0) hatch += `<rect x="${bx * cell}" y="${by * cell}" width="${cell}" height="${cell}" fill="url(#${o.id}-hatch)"/>`;
    }
  }
  const outline = (p: number) => {
    let d = '';
    for (let b = 0; b < owner.length; b++) {
      if (owner[b] !== p) continue;
      const [x, y] = [(b % bw) * cell, Math.floor(b / bw) * cell];
      const mine = (dx: number, dy: number) => {
        const [nx, ny] = [(b % bw) + dx, Math.floor(b / bw) + dy];
        return nx >= 0 && ny >= 0 && nx < bw && ny < bh && owner[ny * bw + nx] === p;
      };
      if (!mine(0, -1)) d += `M${x},${y}h${cell}`;
      if (!mine(0, 1)) d += `M${x},${y + cell}h${cell}`;
      if (!mine(-1, 0)) d += `M${x},${y}v${cell}`;
      if (!mine(1, 0)) d += `M${x + cell},${y}v${cell}`;
    }
    return d;
  };
  const centre = (p: number) => {
    const cells = Array.from(owner.keys()).filter((b) => owner[b] === p);
    return [cells.reduce((a, b) => a + (b % bw), 0) / cells.length * cell + cell / 2, cells.reduce((a, b) => a + Math.floor(b / bw), 0) / cells.length * cell + cell / 2];
  };
  const width = 680;
  const title = 'On the input: the players\' cells of each strong interaction, outlined';
  const head = titleBlock(title, width);
  const leg = legend([...KIND_LEGEND.map((l) => ({ ...l, swatch: 'outline' as const })), { label: 'not a player (always present)', color: COLOR.muted, swatch: 'hatch' }], 12, head.height + 2, width - 24, `${o.id}-hatch`);
  const g = grid(o.interactions.length + 1, bw * cell, bh * cell, head.height + leg.height + 10, width);
  const base = `<g id="${esc(o.id)}-image">${pixels}${hatch}</g>`;
  let body = '';
  const panel = (i: number, inner: string) => {
    const { x, y } = g.at(i);
    return `<g transform="translate(${x} ${y})">${i === 0 ? base : `<use href="#${esc(o.id)}-image"/>`}${inner}<rect width="${bw * cell}" height="${bh * cell}" fill="none" stroke="${COLOR.faint}"/></g>`;
  };
  let names = '';
  o.players.forEach((name, p) => {
    names += `<path d="${outline(p)}" fill="none" stroke="#ffd400" stroke-width="1.5"/>`;
    const [x, y] = centre(p);
    if (Number.isFinite(x)) names += `<text x="${px(x)}" y="${px(y + 4)}" font-size="${FONT.tick}" text-anchor="middle" fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke">${tip(name)}${esc(clip(name, Math.max(24, cell * 2)))}</text>`;
  });
  body += g.heading(0, 'players', `${o.players.length} players`) + panel(0, names);
  o.interactions.forEach((s, j) => {
    const color = kindColor(s.kind, s.value);
    const label = describe(s, o.players, o.unit);
    const paths = s.players.map((p) => `<path d="${outline(p)}" fill="none" stroke="${color}" stroke-width="3" stroke-linecap="square"${s.kind === 'or' ? ' stroke-dasharray="5 3"' : ''}>${tip(label)}</path>`).join('');
    body += g.heading(j + 1, `#${j + 1} ${s.kind.toUpperCase()} ${fmtSigned(s.value, 2)}`, s.players.map((p) => o.players[p]).join(' · '), color) + panel(j + 1, paths);
  });
  return chart({ id: o.id, title, width, height: g.height, defs: hatchDef(`${o.id}-hatch`), body: head.svg + leg.svg + body });
}

/** The point cloud (projected on its two widest coordinates) with each interaction's clusters in the kind's colour. */
export function pointPanels(o: { id: string; input: InputJson; players: readonly string[]; interactions: readonly Interaction[]; unit: string }): Chart {
  const { input } = o;
  const pointsMajor = input.dims[input.dims.length - 1] === 3;
  const count = Math.floor(input.values.length / 3);
  const at = (p: number, c: number) => (input.values[pointsMajor ? p * 3 + c : c * count + p] ?? 0) as number;
  const spread = [0, 1, 2].map((c) => {
    const xs = Array.from({ length: count }, (_, p) => at(p, c));
    const m = xs.reduce((a, b) => a + b, 0) / count;
    return xs.reduce((a, b) => a + (b - m) ** 2, 0);
  });
  const [cx, cy] = [0, 1, 2].sort((a, b) => spread[b] - spread[a]);
  const owner = new Int32Array(count).fill(-1);
  o.players.forEach((_, p) => elementsOf(input, p).forEach((e) => (owner[pointsMajor ? Math.floor(e / 3) : e % count] = p)));
  const xs = Array.from({ length: count }, (_, p) => at(p, cx));
  const ys = Array.from({ length: count }, (_, p) => at(p, cy));
  const size = 150;
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(x1 - x0, y1 - y0) || 1;
  const X = (p: number) => 8 + ((size - 16) * (xs[p] - x0)) / span + ((size - 16) * (1 - (x1 - x0) / span)) / 2;
  const Y = (p: number) => size - 8 - ((size - 16) * (ys[p] - y0)) / span - ((size - 16) * (1 - (y1 - y0) / span)) / 2;
  const width = 680;
  const title = 'On the input: the clusters of each strong interaction (AND and OR in different colours)';
  const head = titleBlock(title, width);
  const items: LegendItem[] = [
    { label: 'AND members', color: COLOR.and, swatch: 'dot' },
    { label: 'OR members', color: COLOR.or, swatch: 'dot' },
    { label: 'I < 0: open markers', color: COLOR.ink, swatch: 'open' },
    { label: 'other points', color: COLOR.faint, swatch: 'dot' },
  ];
  const leg = legend(items, 12, head.height + 2, width - 24);
  const g = grid(o.interactions.length + 1, size, size, head.height + leg.height + 10, width);
  const axes = ['x', 'y', 'z'];
  let body = '';
  const frameRect = `<rect width="${size}" height="${size}" fill="#fff" stroke="${COLOR.faint}"/>`;
  const place = (i: number, inner: string) => {
    const { x, y } = g.at(i);
    return `<g transform="translate(${x} ${y})">${frameRect}${inner}</g>`;
  };
  let overview = '';
  for (let p = 0; p < count; p++) overview += `<circle cx="${px(X(p))}" cy="${px(Y(p))}" r="2.6" fill="${owner[p] < 0 ? COLOR.faint : CLUSTERS[owner[p] % CLUSTERS.length]}">${tip(owner[p] < 0 ? 'not a player' : o.players[owner[p]])}</circle>`;
  body += g.heading(0, 'players', `${o.players.length} clusters, ${axes[cx]}–${axes[cy]} view`) + place(0, overview);
  o.interactions.forEach((s, j) => {
    const members = new Set(s.players);
    const color = s.kind === 'and' ? COLOR.and : COLOR.or;
    const label = describe(s, o.players, o.unit);
    let dots = '';
    for (let p = 0; p < count; p++) if (!members.has(owner[p])) dots += `<circle cx="${px(X(p))}" cy="${px(Y(p))}" r="2" fill="${COLOR.faint}"/>`;
    for (let p = 0; p < count; p++) {
      if (!members.has(owner[p])) continue;
      dots += s.value < 0
        ? `<circle cx="${px(X(p))}" cy="${px(Y(p))}" r="3.4" fill="#fff" stroke="${color}" stroke-width="1.8">${tip(label)}</circle>`
        : `<circle cx="${px(X(p))}" cy="${px(Y(p))}" r="3.4" fill="${color}">${tip(label)}</circle>`;
    }
    body += g.heading(j + 1, `#${j + 1} ${s.kind.toUpperCase()} ${fmtSigned(s.value, 2)}`, s.players.map((p) => o.players[p]).join(' · '), color) + place(j + 1, dots);
  });
  return chart({ id: o.id, title, width, height: g.height, body: head.svg + leg.svg + body });
}

/** The sentence with one arc chain per interaction between its token positions: AND above, OR below. */
export function sentenceArcs(o: { id: string; input: InputJson; players: readonly string[]; interactions: readonly Interaction[]; unit: string }): Chart {
  const { input } = o;
  const length = input.tokens?.length ?? input.values.length;
  const words = Array.from({ length }, (_, i) => input.tokens?.[i] ?? String(input.values[i]));
  const playerAt = new Map<number, number>();
  o.players.forEach((_, p) => elementsOf(input, p).forEach((e) => playerAt.set(e % Math.max(1, length), p)));
  const positionOf = (p: number) => (elementsOf(input, p)[0] ?? 0) % Math.max(1, length);
  const boxW = words.map((w) => Math.max(26, textWidth(clip(w, 120, FONT.label), FONT.label) + 14));
  const gap = 8;
  const width = Math.max(640, 40 + boxW.reduce((a, b) => a + b + gap, 0));
  const xs: number[] = [];
  words.reduce((x, _, i) => ((xs[i] = x + boxW[i] / 2), x + boxW[i] + gap), 20 + (width - 40 - boxW.reduce((a, b) => a + b + gap, -gap)) / 2);
  const title = 'On the input: each strong interaction as arcs between its tokens (AND above, OR below)';
  const head = titleBlock(title, width);
  const leg = legend([...KIND_LEGEND, { label: 'not a player', color: '#eeeeee', swatch: 'rect' }], 12, head.height + 2, width - 24);
  const maxI = Math.max(1e-12, ...o.interactions.map((s) => Math.abs(s.value)));
  const lw = (v: number) => 1.5 + 6 * (Math.abs(v) / maxI);
  const rise = (a: number, b: number, rank: number) => Math.min(150, 22 + Math.abs(xs[b] - xs[a]) * 0.35 + rank * 7);
  const shapes = o.interactions.map((s, rank) => {
    const pos = s.players.map(positionOf).sort((a, b) => a - b);
    return { s, rank, pos, h: pos.length === 1 ? 16 + lw(s.value) * 2 : Math.max(...pos.slice(1).map((b, i) => rise(pos[i], b, rank))) };
  });
  const upH = Math.max(30, ...shapes.filter((x) => x.s.kind === 'and').map((x) => x.h)) + 18;
  const downH = shapes.some((x) => x.s.kind === 'or') ? Math.max(...shapes.filter((x) => x.s.kind === 'or').map((x) => x.h)) + 18 : 0;
  const top = head.height + leg.height + 8;
  const lineY = top + upH + 14;
  const boxH = 26;
  const height = lineY + boxH + 18 + downH + 10;
  let arcs = '';
  for (const { s, rank, pos } of [...shapes].reverse()) {
    const up = s.kind === 'and';
    const color = kindColor(s.kind, s.value);
    const label = describe(s, o.players, o.unit);
    const y = up ? lineY - boxH / 2 - 2 : lineY + boxH / 2 + 16;
    const dir = up ? -1 : 1;
    if (pos.length === 1) {
      const r = 4 + lw(s.value);
      arcs += `<line x1="${px(xs[pos[0]])}" x2="${px(xs[pos[0]])}" y1="${px(y)}" y2="${px(y + dir * 12)}" stroke="${color}" stroke-width="2"/><circle cx="${px(xs[pos[0]])}" cy="${px(y + dir * (12 + r))}" r="${px(r)}" fill="${color}" fill-opacity="0.85">${tip(label)}</circle>`;
      continue;
    }
    let apex = { x: 0, h: -1 };
    for (let i = 0; i + 1 < pos.length; i++) {
      const [a, b] = [xs[pos[i]], xs[pos[i + 1]]];
      const hgt = rise(pos[i], pos[i + 1], rank);
      if (hgt > apex.h) apex = { x: (a + b) / 2, h: hgt };
      arcs += `<path d="M${px(a)},${px(y)} C${px(a)},${px(y + dir * hgt * 1.33)} ${px(b)},${px(y + dir * hgt * 1.33)} ${px(b)},${px(y)}" fill="none" stroke="${color}" stroke-width="${px(lw(s.value))}" stroke-opacity="0.85"${s.kind === 'or' ? ' stroke-dasharray="6 4"' : ''}>${tip(label)}</path>`;
    }
    // the value at the top of the highest arc (a cubic with both controls at 4/3·h peaks at h)
    const ly = y + dir * (apex.h + lw(s.value) / 2 + 4) + (up ? 0 : 9);
    arcs += `<text x="${px(apex.x)}" y="${px(ly)}" font-size="${FONT.tick}" text-anchor="middle" fill="${color}" stroke="#fff" stroke-width="3" paint-order="stroke">${tip(label)}${esc(fmtSigned(s.value, 2))}</text>`;
    for (const p of pos) arcs += `<circle cx="${px(xs[p])}" cy="${px(y)}" r="3" fill="${color}"/>`;
  }
  let tokens = '';
  words.forEach((word, i) => {
    const player = playerAt.get(i);
    const on = player !== undefined;
    tokens += `<rect x="${px(xs[i] - boxW[i] / 2)}" y="${px(lineY - boxH / 2)}" width="${px(boxW[i])}" height="${boxH}" rx="4" fill="${on ? '#fff' : '#eeeeee'}" stroke="${on ? COLOR.ink : '#d0d0d0'}">${tip(on ? `player ${o.players[player]}` : 'not a player')}</rect>`;
    tokens += text(xs[i], lineY + 5, clip(word, 120, FONT.label), { anchor: 'middle', size: FONT.label, fill: on ? COLOR.ink : '#9a9a9a', weight: on ? 600 : undefined });
    tokens += text(xs[i], lineY + boxH / 2 + 12, String(i), { anchor: 'middle', fill: COLOR.muted, size: FONT.tick });
  });
  return chart({ id: o.id, title, width, height, body: head.svg + leg.svg + arcs + tokens, note: 'Width ∝ |I|; a singleton is a dot on a stem; the numbers under the tokens are positions.' });
}
