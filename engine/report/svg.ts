// Chart primitives of the reports, hand-written (andor ships no charting library): escaping and number formats, the
// palette, text metrics, legends, hatch patterns and the standalone SVG document of one chart. Scales live in
// scale.ts, axes and the x–y frame in frame.ts; nothing here knows a result schema.

/** One chart: its id (data-chart), its title and the chart as a standalone SVG document. */
export interface Chart {
  readonly id: string;
  readonly title: string;
  /** A standalone SVG document (xmlns set, white background, title drawn inside), also inlined in the page. */
  readonly svg: string;
  /** A sentence under the chart: how to read it. */
  readonly note?: string;
}

/** Colours: sign (red +, blue −, as in SHAP), kind (AND purple, OR orange), ink and grid. */
export const COLOR = {
  pos: '#c0392b',
  neg: '#2e6fb7',
  and: '#5e3c99',
  or: '#e66101',
  ink: '#222222',
  muted: '#6b6b6b',
  faint: '#bdbdbd',
  grid: '#e6e6e6',
  shade: '#f1f1f1',
  theory: '#1a9850',
} as const;

/** Colour of an interaction by kind and sign: AND red/blue (solid lines), OR orange/teal (dashed lines). */
export function kindColor(kind: 'and' | 'or', value: number): string {
  if (kind === 'and') return value < 0 ? COLOR.neg : COLOR.pos;
  return value < 0 ? '#159a9c' : '#e67e22';
}

/** Legend entries for kindColor (lines: AND solid, OR dashed). */
export const KIND_LEGEND: readonly LegendItem[] = [
  { label: 'AND, I > 0', color: COLOR.pos, swatch: 'line' },
  { label: 'AND, I < 0', color: COLOR.neg, swatch: 'line' },
  { label: 'OR, I > 0', color: '#e67e22', swatch: 'dash' },
  { label: 'OR, I < 0', color: '#159a9c', swatch: 'dash' },
];

/** Categorical colours (classes, series): ColorBrewer Dark2. */
export const CATEGORICAL = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'] as const;

/** Text sizes in px; nothing a reader must read is smaller than 11. */
export const FONT = { tick: 11, label: 12, title: 14 } as const;
/** The charts' font stack (set on every <svg>, so a saved chart looks the same outside the page). */
export const FONT_FAMILY = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';

/** What a page or a standalone SVG must not hold as text: the control characters XML 1.0 forbids (a name with ESC
 *  made 5 of 10 saved SVGs unparseable, and no character reference may stand for them either), non-characters and
 *  lone surrogates, and the bidirectional overrides and isolates, which turned the names after them around on the
 *  page (U+202E; an adversarial sweep, stop 45). Each shows as U+FFFD. */
const UNSHOWABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for SVG/HTML content and attributes (and replaces what XML cannot hold: UNSHOWABLE). */
export const esc = (s: unknown): string => String(s).replace(UNSHOWABLE, '\uFFFD').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A JSON number (null for NaN/±Inf once serialized) as a number; null and undefined become NaN. */
export const num = (x: number | null | undefined): number => (typeof x === 'number' ? x : NaN);

/** A readable number: '–' when not finite, exponent form when very large or small. */
export function fmt(x: number | null | undefined, digits = 3): string {
  const v = num(x);
  if (!Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e4 || a < 1e-3 ? v.toExponential(Math.max(0, digits - 2)) : v.toFixed(digits);
  return s.replace('-', '−');
}

/** fmt with an explicit + on positive values. */
export const fmtSigned = (x: number | null | undefined, digits = 3): string => (num(x) > 0 ? `+${fmt(x, digits)}` : fmt(x, digits));

/** Rounds a pixel coordinate for compact output. */
export const px = (x: number): string => (Math.round(x * 10) / 10).toString();

/** Approximate width of a text in px (upper bound for system-ui). */
export const textWidth = (s: string, size: number = FONT.tick): number => s.length * size * 0.6;

/** Shortens a text to at most `max` px, with an ellipsis. */
export function clip(s: string, maxPx: number, size: number = FONT.tick): string {
  const chars = Math.max(2, Math.floor(maxPx / (size * 0.6)));
  // by code points: cutting between the halves of a surrogate pair (an emoji) would leave a replacement character
  const points = Array.from(s);
  return points.length <= chars ? s : `${points.slice(0, chars - 1).join('')}…`;
}

/** A <text> element; `rotate` turns it around its anchor. */
export function text(x: number, y: number, s: string, o: { size?: number; anchor?: 'start' | 'middle' | 'end'; weight?: number; fill?: string; rotate?: number; tip?: string } = {}): string {
  const rot = o.rotate ? ` transform="rotate(${o.rotate} ${px(x)} ${px(y)})"` : '';
  const tip = o.tip ? `<title>${esc(o.tip)}</title>` : '';
  return `<text x="${px(x)}" y="${px(y)}" font-size="${o.size ?? FONT.tick}"${o.anchor && o.anchor !== 'start' ? ` text-anchor="${o.anchor}"` : ''}${o.weight ? ` font-weight="${o.weight}"` : ''} fill="${o.fill ?? COLOR.ink}"${rot}>${tip}${esc(s)}</text>`;
}

/** A tooltip child element (shown on hover by browsers). */
export const tip = (s: string): string => `<title>${esc(s)}</title>`;

/** How a legend entry is drawn. */
export type Swatch = 'rect' | 'line' | 'dash' | 'dot' | 'open' | 'hatch' | 'square' | 'diamond' | 'outline';

/** One legend entry. */
export interface LegendItem {
  readonly label: string;
  readonly color: string;
  readonly swatch?: Swatch;
}

function swatch(item: LegendItem, x: number, y: number, hatchId: string): string {
  const c = item.color;
  switch (item.swatch ?? 'rect') {
    case 'line': return `<line x1="${px(x)}" x2="${px(x + 18)}" y1="${px(y)}" y2="${px(y)}" stroke="${c}" stroke-width="2.5"/>`;
    case 'dash': return `<line x1="${px(x)}" x2="${px(x + 18)}" y1="${px(y)}" y2="${px(y)}" stroke="${c}" stroke-width="2.5" stroke-dasharray="5 3"/>`;
    case 'dot': return `<circle cx="${px(x + 9)}" cy="${px(y)}" r="4.5" fill="${c}"/>`;
    case 'open': return `<circle cx="${px(x + 9)}" cy="${px(y)}" r="4.5" fill="#fff" stroke="${c}" stroke-width="1.8"/>`;
    case 'hatch': return `<rect x="${px(x + 2)}" y="${px(y - 6)}" width="14" height="12" fill="url(#${hatchId})" stroke="${COLOR.muted}" stroke-width="0.8"/>`;
    case 'square': return `<rect x="${px(x + 4)}" y="${px(y - 5)}" width="10" height="10" fill="${c}"/>`;
    case 'diamond': return `<rect x="${px(x + 4)}" y="${px(y - 5)}" width="10" height="10" fill="${c}" transform="rotate(45 ${px(x + 9)} ${px(y)})"/>`;
    case 'outline': return `<rect x="${px(x + 2)}" y="${px(y - 6)}" width="14" height="12" fill="none" stroke="${c}" stroke-width="2.2"/>`;
    default: return `<rect x="${px(x + 2)}" y="${px(y - 6)}" width="14" height="12" fill="${c}"/>`;
  }
}

/**
 * A legend laid out left to right, wrapping at `maxWidth`.
 * @param items - the entries
 * @param x - left edge
 * @param y - top edge
 * @param maxWidth - wrap width in px
 * @param hatchId - the id of the chart's hatch pattern (for 'hatch' swatches)
 * @returns the SVG and its height in px (0 for no items)
 */
export function legend(items: readonly LegendItem[], x: number, y: number, maxWidth: number, hatchId = ''): { svg: string; height: number } {
  if (items.length === 0) return { svg: '', height: 0 };
  const row = 18;
  let [cx, cy] = [x, y + row / 2];
  let svg = '';
  for (const item of items) {
    const w = 24 + textWidth(item.label, FONT.label);
    if (cx > x && cx + w > x + maxWidth) [cx, cy] = [x, cy + row];
    svg += swatch(item, cx, cy, hatchId) + text(cx + 22, cy + 4, item.label, { size: FONT.label });
    cx += w + 14;
  }
  return { svg: `<g class="legend">${svg}</g>`, height: cy - y + row / 2 + 4 };
}

/** A chart title wrapped to the width: its SVG and height. */
export function titleBlock(title: string, width: number): { svg: string; height: number } {
  const chars = Math.max(20, Math.floor((width - 24) / (FONT.title * 0.58)));
  const lines: string[] = [];
  let line = '';
  for (const word of title.split(' ')) {
    if (line && `${line} ${word}`.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  const svg = lines.map((l, i) => text(12, 20 + i * 18, l, { size: FONT.title, weight: 600 })).join('');
  return { svg, height: 12 + lines.length * 18 };
}

/** A diagonal hatch pattern (for cells and bars that are not measured or not players). */
export const hatchDef = (id: string, color: string = COLOR.muted): string =>
  `<pattern id="${esc(id)}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff" fill-opacity="0.25"/><line x1="0" y1="0" x2="0" y2="6" stroke="${color}" stroke-width="1.2"/></pattern>`;

/**
 * Wraps a chart's body into a standalone SVG document.
 * @param c - id (data-chart, also the prefix of pattern ids), title, size, body and optional defs and note
 * @returns the chart
 */
export function chart(c: { id: string; title: string; width: number; height: number; body: string; defs?: string; note?: string }): Chart {
  const defs = c.defs ? `<defs>${c.defs}</defs>` : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${esc(c.id)}" width="${Math.ceil(c.width)}" height="${Math.ceil(c.height)}" viewBox="0 0 ${Math.ceil(c.width)} ${Math.ceil(c.height)}" role="img" aria-label="${esc(c.title)}" font-family="${FONT_FAMILY}"><title>${esc(c.title)}</title>${defs}<rect width="100%" height="100%" fill="#fff"/>${c.body}</svg>`;
  return { id: c.id, title: c.title, svg, ...(c.note ? { note: c.note } : {}) };
}

/** The unit of v for a reward name (log-odds, logit, output), for axis titles. */
export function rewardUnit(reward: string | undefined): string {
  if (!reward) return 'units of v';
  if (reward.startsWith('gt-log-odds')) return 'log-odds';
  if (reward.startsWith('logit')) return 'logit';
  if (reward.startsWith('output')) return 'model output';
  return 'units of v';
}

/** Sequential colours (viridis) for ordered categories such as interaction orders. */
export function sequential(i: number, count: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const t = count <= 1 ? 0 : (i / (count - 1)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(t));
  const f = t - k;
  const c = stops[k].map((a, j) => Math.round(a + (stops[k + 1][j] - a) * f));
  return `rgb(${c.join(',')})`;
}
