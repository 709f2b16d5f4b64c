// The report's chart primitives: nice linear ticks, decade log ticks, extents, number formats, and the dynamics
// helpers that decide what counts as phase 2 and when a fitted σ² is only a bound.
import { describe, expect, it } from 'vitest';
import { bandScale, extent, linearScale, logScale, powerOfTen } from '../../dist/engine/report/scale.js';
import { esc, fmt, fmtSigned } from '../../dist/engine/report/svg.js';
import { inPhase2, sigma2Bound } from '../../dist/engine/report/dynamics-report.js';

describe('linearScale', () => {
  it('covers the data with ticks at steps of 1, 2, 2.5 or 5 × 10^k', () => {
    const s = linearScale([0.3, 9.2], [0, 100]);
    expect(s.domain).toEqual([0, 10]);
    expect(s.ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(s(0)).toBe(0);
    expect(s(10)).toBe(100);
  });

  it('starts at 0, not one step below, when the data start at 0 (y axes are not pushed negative)', () => {
    expect(linearScale([0, 3.6], [0, 1], 4).domain[0]).toBe(0);
    expect(linearScale([0, 1], [0, 1]).ticks[0]).toBe(0);
  });

  it('widens a flat or empty domain instead of dividing by zero', () => {
    expect(linearScale([0, 0], [0, 1]).domain).toEqual([-1, 1]);
    expect(linearScale([NaN, NaN], [0, 1]).domain).toEqual([0, 1]);
  });

  it('formats ticks with the decimals of the step and a true minus sign', () => {
    const s = linearScale([-0.25, 0.5], [0, 1], 3);
    expect(s.ticks.map((t) => s.format(t))).toEqual(['−0.25', '0.00', '0.25', '0.50']);
  });
});

describe('logScale', () => {
  it('spans whole decades and labels them as powers of ten', () => {
    const s = logScale([2e-8, 3e-2], [100, 0]);
    expect(s.domain[0]).toBeCloseTo(1e-8, 20);
    expect(s.domain[1]).toBeCloseTo(1e-1, 12);
    expect(s.format(1e-8)).toBe('10⁻⁸');
    expect(s(1e-8)).toBeCloseTo(100, 9);
  });

  it('writes 10^k with superscripts', () => {
    expect([powerOfTen(0), powerOfTen(1), powerOfTen(2), powerOfTen(-12)]).toEqual(['1', '10', '10²', '10⁻¹²']);
  });
});

describe('extent and bandScale', () => {
  it('ignores NaN and null, includes 0 on request, and widens a flat or empty range', () => {
    expect(extent([3, NaN, null, 5])).toEqual([3, 5]);
    expect(extent([3, 5], true)).toEqual([0, 5]);
    expect(extent([])).toEqual([0, 1]);
    expect(extent([2, 2])).toEqual([0, 4]);
    expect(extent([0, 0])).toEqual([0, 1]);
  });

  it('places n bands evenly', () => {
    const b = bandScale(4, [0, 400], 0.5);
    expect([b.center(0), b.center(3), b.step, b.width]).toEqual([50, 350, 100, 50]);
  });
});

describe('number formats', () => {
  it('writes – for NaN and null, exponents for very small or large values, a sign on request', () => {
    expect([fmt(NaN), fmt(null), fmt(0), fmt(1.23456), fmt(-2e-5), fmt(123456)]).toEqual(['–', '–', '0', '1.235', '−2.0e-5', '1.2e+5']);
    expect([fmtSigned(0.5), fmtSigned(-0.5)]).toEqual(['+0.500', '−0.500']);
  });

  it('escapes markup', () => {
    expect(esc('<a href="x">&\'</a>')).toBe('&#60;a href=&#34;x&#34;&#62;&#38;&#39;&#60;/a&#62;');
  });
});

describe('dynamics helpers', () => {
  const grid = [1e2, 1, 1e-4, 1e-8]; // sigma2Grid() runs from 1e2 down to 1e-8

  it('marks σ² at either end of the fitted grid as a bound', () => {
    expect(sigma2Bound(1e-8, grid)).toBe('≤ 10⁻⁸');
    expect(sigma2Bound(1e2, grid)).toBe('≥ 10²');
    expect(sigma2Bound(1e-4, grid)).toBeNull();
    expect(sigma2Bound(NaN, grid)).toBeNull();
    expect(sigma2Bound(1, [])).toBeNull();
  });

  it('counts the turning point as the first checkpoint of phase 2', () => {
    expect([0, 1, 2, 3].map((t) => inPhase2(t, 2))).toEqual([false, false, true, true]);
  });
});
