// The x–y frame every axis chart is drawn in: title, legend, margins sized to the tick labels (so nothing is clipped),
// grid lines, axes with titles and units, category labels that rotate and thin out when they would overlap.
// Charts (plots.ts and the others) put their marks inside `plot` and call finish().
import { bandScale, extent, linearScale, logScale, type Band, type Scale } from './scale.js';
import { chart, clip, COLOR, esc, FONT, hatchDef, legend, px, text, textWidth, titleBlock, type Chart, type LegendItem } from './svg.js';

/** A category axis (one band per label) or a continuous one (linear or log10) over the values it must show. */
export type AxisSpec =
  | { readonly band: readonly string[]; readonly title: string; readonly tips?: readonly string[]; readonly padding?: number }
  | { readonly values: Iterable<number | null | undefined>; readonly title: string; readonly log?: boolean; readonly zero?: boolean; readonly ticks?: number };

/** The pixel box of the plot area. */
export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** What a chart needs to draw into a frame. */
export interface Frame {
  readonly plot: Box;
  /** Band axes: the centre of category i; continuous axes: the value's position. */
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
  readonly xBand?: Band;
  readonly yBand?: Band;
  readonly xScale?: Scale;
  readonly yScale?: Scale;
  /** Id of this chart's hatch pattern (defined by finish). */
  readonly hatchId: string;
  /** Wraps the marks into the chart: `back` under the grid (shaded ranges), body over it, `front` over the axes. */
  finish(body: string, layers?: { front?: string; back?: string; defs?: string }): Chart;
}

/** Layout of a frame. */
export interface FrameSpec {
  readonly id: string;
  readonly title: string;
  readonly x: AxisSpec;
  readonly y: AxisSpec;
  readonly width?: number;
  /** Height of the plot area (continuous y); band y axes use rowHeight per category. */
  readonly plotHeight?: number;
  readonly rowHeight?: number;
  readonly legend?: readonly LegendItem[];
  readonly note?: string;
  readonly rightMargin?: number;
}

const ROTATE = 40;
const SIN = Math.sin((ROTATE * Math.PI) / 180);
const COS = Math.cos((ROTATE * Math.PI) / 180);
const MAX_LABEL = 230;

const isBand = (a: AxisSpec): a is Extract<AxisSpec, { band: readonly string[] }> => 'band' in a;

function continuous(a: Extract<AxisSpec, { values: Iterable<number | null | undefined> }>, range: readonly [number, number]): Scale {
  const values = Array.from(a.values, (v) => (typeof v === 'number' ? v : NaN));
  if (a.log) {
    // extent, a loop, not Math.min(...positive): a long series overflows the call stack
    const positive = values.filter((v) => v > 0 && Number.isFinite(v));
    return logScale(positive.length ? extent(positive) : [1e-3, 1], range);
  }
  return linearScale(extent(values, a.zero), range, a.ticks ?? 5);
}

/** How category labels fit under a band axis: flat, or rotated and thinned. */
function bandLayout(labels: readonly string[], step: number) {
  const widths = labels.map((l) => textWidth(clip(l, MAX_LABEL), FONT.tick));
  const widest = Math.max(0, ...widths);
  if (widest + 6 <= step) return { rotate: false, every: 1, height: 18, leftNeed: 0 };
  const every = Math.max(1, Math.ceil((FONT.tick + 4) / SIN / step));
  return { rotate: true, every, height: widest * SIN + FONT.tick * COS + 10, leftNeed: (widths[0] ?? 0) * COS - step / 2 + 6 };
}

/**
 * Lays out a frame: margins from the tick labels, legend under the title, then the plot box.
 * @param spec - id, title, axes, sizes and legend
 * @returns the frame to draw into
 */
export function frame(spec: FrameSpec): Frame {
  const width = Math.max(560, spec.width ?? 640);
  const hatchId = `${spec.id}-hatch`;
  const title = titleBlock(spec.title, width);
  const leg = legend(spec.legend ?? [], 12, title.height + 2, width - 24, hatchId);
  const top = title.height + leg.height + 14;
  const right = spec.rightMargin ?? 24;

  // y axis: its width decides the plot's left edge
  let left: number;
  let yBandLabels: readonly string[] = [];
  if (isBand(spec.y)) {
    yBandLabels = spec.y.band.map((l) => clip(l, MAX_LABEL));
    left = 26 + Math.max(20, ...yBandLabels.map((l) => textWidth(l))) + 8;
  } else {
    const probe = continuous(spec.y, [0, 1]);
    left = 26 + Math.max(...probe.ticks.map((t) => textWidth(probe.format(t)))) + 8;
  }
  let plotWidth = width - left - right;
  let xLayout = { rotate: false, every: 1, height: 18, leftNeed: 0 };
  if (isBand(spec.x)) {
    xLayout = bandLayout(spec.x.band, plotWidth / Math.max(1, spec.x.band.length));
    if (xLayout.leftNeed > left) {
      left = xLayout.leftNeed;
      plotWidth = width - left - right;
    }
  }
  const plotHeight = isBand(spec.y) ? spec.y.band.length * (spec.rowHeight ?? 24) : spec.plotHeight ?? 220;
  const bottom = xLayout.height + 30;
  const height = top + plotHeight + bottom;
  const plot: Box = { left, top, width: plotWidth, height: plotHeight };
  const [x0, x1, y0, y1] = [left, left + plotWidth, top + plotHeight, top];

  const xBand = isBand(spec.x) ? bandScale(spec.x.band.length, [x0, x1], spec.x.padding ?? 0.2) : undefined;
  const xScale = isBand(spec.x) ? undefined : continuous(spec.x, [x0, x1]);
  const yBand = isBand(spec.y) ? bandScale(spec.y.band.length, [y1, y0], spec.y.padding ?? 0.25) : undefined;
  const yScale = isBand(spec.y) ? undefined : continuous(spec.y, [y0, y1]);

  let grid = '';
  let axes = '';
  if (yScale) {
    for (const t of yScale.ticks) {
      const y = yScale(t);
      grid += `<line x1="${px(x0)}" x2="${px(x1)}" y1="${px(y)}" y2="${px(y)}" stroke="${t === 0 && !yScale.log ? COLOR.muted : COLOR.grid}"/>`;
      axes += text(x0 - 6, y + 4, yScale.format(t), { anchor: 'end', fill: COLOR.muted });
    }
  } else if (yBand) {
    const tips = isBand(spec.y) ? spec.y.tips : undefined;
    yBandLabels.forEach((l, i) => (axes += text(x0 - 8, yBand.center(i) + 4, l, { anchor: 'end', tip: tips?.[i] ?? (isBand(spec.y) ? spec.y.band[i] : l) })));
  }
  if (xScale) {
    for (const t of xScale.ticks) {
      const x = xScale(t);
      grid += `<line x1="${px(x)}" x2="${px(x)}" y1="${px(y1)}" y2="${px(y0)}" stroke="${t === 0 && !xScale.log ? COLOR.muted : COLOR.grid}"/>`;
      axes += text(x, y0 + 16, xScale.format(t), { anchor: 'middle', fill: COLOR.muted });
    }
  } else if (xBand && isBand(spec.x)) {
    const { tips, band } = spec.x;
    band.forEach((l, i) => {
      if (i % xLayout.every !== 0) return;
      const x = xBand.center(i);
      const label = clip(l, MAX_LABEL);
      axes += xLayout.rotate
        ? text(x + 4, y0 + 14, label, { anchor: 'end', rotate: -ROTATE, tip: tips?.[i] ?? l })
        : text(x, y0 + 16, label, { anchor: 'middle', tip: tips?.[i] ?? l });
    });
  }
  axes += `<line x1="${px(x0)}" x2="${px(x1)}" y1="${px(y0)}" y2="${px(y0)}" stroke="${COLOR.ink}"/><line x1="${px(x0)}" x2="${px(x0)}" y1="${px(y1)}" y2="${px(y0)}" stroke="${COLOR.ink}"/>`;
  axes += text(x0 + plotWidth / 2, y0 + xLayout.height + 20, spec.x.title, { anchor: 'middle', size: FONT.label, weight: 600 });
  axes += text(16, y1 + plotHeight / 2, spec.y.title, { anchor: 'middle', size: FONT.label, weight: 600, rotate: -90 });

  const x = xBand ? (i: number) => xBand.center(i) : (v: number) => xScale!(v);
  const y = yBand ? (i: number) => yBand.center(i) : (v: number) => yScale!(v);
  return {
    plot, x, y, xBand, yBand, xScale, yScale, hatchId,
    finish: (body, layers = {}) =>
      chart({
        id: spec.id, title: spec.title, width, height, note: spec.note,
        defs: hatchDef(hatchId) + (layers.defs ?? ''),
        body: `${title.svg}${leg.svg}${layers.back ?? ''}<g class="grid">${grid}</g><g class="marks">${body}</g><g class="axes">${axes}</g>${layers.front ?? ''}`,
      }),
  };
}

/** A dashed vertical marker with a label at the top of the plot (e.g. the turning point). */
export function marker(f: Frame, x: number, label: string, row = 0): string {
  const { top, height } = f.plot;
  const anchor = x > f.plot.left + f.plot.width - textWidth(label) - 8 ? 'end' : 'start';
  return `<line x1="${px(x)}" x2="${px(x)}" y1="${px(top)}" y2="${px(top + height)}" stroke="${COLOR.muted}" stroke-dasharray="4 3"/>` +
    text(anchor === 'end' ? x - 4 : x + 4, top + 13 + row * 14, label, { fill: COLOR.muted, anchor });
}

/** A grey band behind a range of x positions, labelled (e.g. phase 1). */
export function shade(f: Frame, from: number, to: number, label: string): string {
  const { top, height } = f.plot;
  return `<rect x="${px(from)}" y="${px(top)}" width="${px(Math.max(0, to - from))}" height="${px(height)}" fill="${COLOR.shade}"><title>${esc(label)}</title></rect>` +
    text(from + 4, top + height - 6, label, { fill: COLOR.muted });
}
