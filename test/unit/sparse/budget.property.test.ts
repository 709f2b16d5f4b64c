// affordableTerms inverts the adaptive budget formula: the most terms a fit budget is sized for.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { affordableTerms, fitBudget } from '../../../engine/analysis/sparse/budget.js';

describe('affordableTerms', () => {
  it('is the largest s whose adaptive fit budget fits (0 when not even one term does)', () => {
    const cases = fc.integer({ min: 1, max: 4096 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: Math.min(n, 64) }), fc.integer({ min: 0, max: 2_000_000 })));
    fc.assert(
      fc.property(cases, ([n, maxOrder, fit]) => {
        const s = affordableTerms(n, maxOrder, fit);
        expect(Number.isInteger(s) && s >= 0).toBe(true);
        if (s > 0) expect(fitBudget(n, maxOrder, s, 'adaptive')).toBeLessThanOrEqual(fit);
        expect(fitBudget(n, maxOrder, s + 1, 'adaptive')).toBeGreaterThan(fit);
      }),
      { numRuns: 500 },
    );
  });

  it('gives back the sparsity of the formula budget (n = 1024, d = 4, s = 64: 9600 evaluations of fit)', () => {
    expect(fitBudget(1024, 4, 64, 'adaptive')).toBe(9600);
    expect(affordableTerms(1024, 4, 9600)).toBe(64);
    expect(affordableTerms(1024, 4, 9599)).toBe(63);
    expect(affordableTerms(1024, 4, 100)).toBe(0);
  });
});
