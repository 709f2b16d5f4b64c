// Scales of the report charts: linear with "nice" ticks (steps 1, 2, 2.5, 5 × 10^k), logarithmic with decade ticks,
// and bands for categories. Pure functions from data values to pixels; no drawing here (see frame.ts).

/** A continuous scale: value → px, its (nice) domain, ticks and a tick formatter. */
export interface Scale {
  (value: number): number;
  readonly domain: readonly [number, number];
  readonly ticks: readonly number[];
  readonly log: boolean;
  format(value: number): string;
}

/** Bands for categories: centre and start of band i, the step between bands and the width of one band. */
export interface Band {
  center(i: number): number;
  start(i: number): number;
  readonly step: number;
  readonly width: number;
  readonly count: number;
}

/** Smallest and largest finite value (with 0 when `zero`); a flat or empty range is widened to a visible one. */
export function extent(values: Iterable<number | null | undefined>, zero = false): [number, number] {
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (zero) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) return lo === 0 ? [0, 1] : [Math.min(0, lo * 2), Math.max(0, hi * 2)];
  return [lo, hi];
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

function decimals(step: number): number {
  for (let d = 0; d < 12; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9 * 10 ** d) return d;
  return 12;
}

const minus = (s: string) => s.replace('-', '−');

/**
 * A linear scale over a nice domain that covers [lo, hi].
 * @param domain - data range (see extent)
 * @param range - pixel range [at lo, at hi] (for a y axis: [bottom, top])
 * @param count - about how many ticks
 */
export function linearScale(domain: readonly [number, number], range: readonly [number, number], count = 5): Scale {
  // an empty or flat domain (all values equal) still needs a visible one
  if (!(domain[1] - domain[0] > 0) || !Number.isFinite(domain[1] - domain[0])) domain = Number.isFinite(domain[0]) ? [domain[0] - 1, domain[0] + 1] : [0, 1];
  const step = niceStep(domain[1] - domain[0], count);
  const lo = Math.floor(domain[0] / step + 1e-9) * step;
  const hi = Math.ceil(domain[1] / step - 1e-9) * step;
  const ticks: number[] = [];
  const steps = Math.round((hi - lo) / step);
  for (let i = 0; i <= steps; i++) ticks.push(Math.abs(lo + i * step) < step * 1e-9 ? 0 : lo + i * step);
  const d = decimals(step);
  const big = Math.max(Math.abs(lo), Math.abs(hi)) >= 1e5 || step < 1e-4;
  const scale = ((v: number) => range[0] + ((v - lo) / (hi - lo || 1)) * (range[1] - range[0])) as Scale;
  return Object.assign(scale, {
    domain: [lo, hi] as const,
    ticks,
    log: false,
    format: (v: number) => minus(big ? (v === 0 ? '0' : v.toExponential(1)) : v.toFixed(d)),
  });
}

const SUPER: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };
/** 10 to the power k, written 10⁻³. */
export const powerOfTen = (k: number): string => (k === 0 ? '1' : k === 1 ? '10' : `10${String(k).replace(/./g, (c) => SUPER[c] ?? c)}`);

/**
 * A log10 scale over whole decades that cover [lo, hi] (lo > 0).
 * @param domain - positive data range
 * @param range - pixel range
 */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const a = Math.floor(Math.log10(domain[0]));
  const b = Math.max(a + 1, Math.ceil(Math.log10(domain[1])));
  const every = Math.max(1, Math.ceil((b - a) / 7));
  const ticks: number[] = [];
  for (let k = a; k <= b; k += every) ticks.push(10 ** k);
  const scale = ((v: number) => range[0] + ((Math.log10(v) - a) / (b - a)) * (range[1] - range[0])) as Scale;
  return Object.assign(scale, { domain: [10 ** a, 10 ** b] as const, ticks, log: true, format: (v: number) => powerOfTen(Math.round(Math.log10(v))) });
}

/**
 * Equal bands for `count` categories over a pixel range.
 * @param padding - share of a step left empty between bands
 */
export function bandScale(count: number, range: readonly [number, number], padding = 0.2): Band {
  const step = (range[1] - range[0]) / Math.max(1, count);
  const width = Math.abs(step) * (1 - padding);
  return {
    step,
    width,
    count,
    center: (i: number) => range[0] + step * (i + 0.5),
    start: (i: number) => range[0] + step * (i + 0.5) - width / 2,
  };
}
