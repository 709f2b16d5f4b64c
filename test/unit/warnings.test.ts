// The warnings of a run of many units (engine/explain/warnings.ts): each kind said once, as its first unit gives it,
// then counted; a warning without a kind always said; the summary only for kinds more than one unit gave.
import { describe, expect, it } from 'vitest';
import { warningSummary } from '../../engine/explain/warnings.js';

describe('warningSummary', () => {
  it('says the first of each kind and every warning without one, then counts each kind once', () => {
    const said: [string, string | undefined][] = [];
    const summary = warningSummary((message, kind) => said.push([message, kind]), 'pairs');
    summary.onWarning('diverged at 0.3', 'split-diverged');
    summary.onWarning('poor fit 0.2', 'sparse-unfaithful');
    summary.onWarning('diverged at 0.9', 'split-diverged');
    summary.onWarning('cannot write the cache');
    summary.onWarning('cannot write the cache');
    summary.onWarning('diverged at 0.1', 'split-diverged');
    expect(said).toEqual([
      ['diverged at 0.3', 'split-diverged'],
      ['poor fit 0.2', 'sparse-unfaithful'],
      ['cannot write the cache', undefined],
      ['cannot write the cache', undefined],
    ]);
    summary.summarize(40);
    // the divergence three times: summed up; the poor fit once: said already, nothing to add
    expect(said.slice(4)).toEqual([[expect.stringMatching(/^3 of 40 pairs had a decomposition that diverged/), undefined]]);
  });
});
