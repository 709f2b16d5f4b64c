// The conventions switch: withConventions fills exactly the documented defaults of the authors' conventions, never
// overrides an option given explicitly, and leaves andor's requests alone; an explanation under conventions 'authors'
// equals the one with those options spelled out (built package).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORS_CONVENTIONS, CONVENTIONS, withConventions } from '../../engine/explain/conventions.js';
import { InvalidOptionError as SourceInvalidOptionError } from '../../engine/contracts/errors.js';
import { createEngine, InvalidOptionError, model, SLOW_MS, type Engine } from '../helpers/index.js';

describe('withConventions', () => {
  it('lists andor and authors', () => {
    expect([...CONVENTIONS]).toEqual(['andor', 'authors']);
  });

  it('fills exactly the documented defaults under authors', () => {
    const request = { model: 'm.onnx', sample: '[1]', conventions: 'authors' as const };
    expect(withConventions(request)).toEqual({ ...request, salientIncludeEmpty: true, preset: 'authors', qthres: 0.04, reward: 'gt-log-odds' });
    expect(AUTHORS_CONVENTIONS).toEqual({ salientIncludeEmpty: true, preset: 'authors', qthres: 0.04, reward: 'gt-log-odds' });
  });

  it('returns andor requests (and requests without conventions) unchanged', () => {
    const andor = { model: 'm.onnx', sample: '[1]', conventions: 'andor' as const };
    const none = { model: 'm.onnx', sample: '[1]' };
    expect(withConventions(andor)).toBe(andor);
    expect(withConventions(none)).toBe(none);
  });

  it('never overrides an explicit option', () => {
    const explicit = { conventions: 'authors' as const, salientIncludeEmpty: false, preset: 'default' as const, qthres: 0.02, reward: 'gt-log-odds-v0' as const };
    expect(withConventions(explicit)).toEqual(explicit);
    const some = withConventions({ conventions: 'authors' as const, qthres: 0.02 });
    expect(some).toEqual({ conventions: 'authors', qthres: 0.02, salientIncludeEmpty: true, preset: 'authors', reward: 'gt-log-odds' });
  });

  it('does not copy the input: the caller\'s request stays as it was', () => {
    const request = { conventions: 'authors' as const };
    withConventions(request);
    expect(request).toEqual({ conventions: 'authors' });
  });

  it('keeps andor\'s preset when a solver is named, and gives a game no reward', () => {
    expect(withConventions({ conventions: 'authors' as const, solver: 'adam' })).toEqual({ conventions: 'authors', solver: 'adam', salientIncludeEmpty: true, qthres: 0.04, reward: 'gt-log-odds' });
    expect(withConventions({ conventions: 'authors' as const, values: [0, 1] })).toEqual({ conventions: 'authors', values: [0, 1], salientIncludeEmpty: true, preset: 'authors', qthres: 0.04 });
  });

  it('gives a request for the sparse method, which learns no split, no preset and no qthres', () => {
    const filled = { salientIncludeEmpty: true, reward: 'gt-log-odds' };
    expect(withConventions({ conventions: 'authors' as const, method: 'sparse' })).toEqual({ conventions: 'authors', method: 'sparse', ...filled });
    for (const option of [{ budget: 600 }, { maxOrder: 2 }, { tolerance: 0 }]) expect(withConventions({ conventions: 'authors' as const, ...option })).toEqual({ conventions: 'authors', ...option, ...filled });
    // method 'exact' with the sparse options is refused later, by name; the convention fills as for any exact request
    expect(withConventions({ conventions: 'authors' as const, method: 'exact' })).toEqual({ conventions: 'authors', method: 'exact', ...filled, preset: 'authors', qthres: 0.04 });
  });

  it('gives a request with preset none, which learns no q and refuses a qthres, no qthres (unless it gives one)', () => {
    expect(withConventions({ conventions: 'authors' as const, preset: 'none' as const })).toEqual({ conventions: 'authors', preset: 'none', salientIncludeEmpty: true, reward: 'gt-log-odds' });
    expect(withConventions({ conventions: 'authors' as const, preset: 'none' as const, qthres: 0.1 })).toMatchObject({ preset: 'none', qthres: 0.1 });
    expect(withConventions({ conventions: 'authors' as const, preset: 'reference' as const })).toMatchObject({ preset: 'reference', qthres: 0.04 });
  });

  it('rejects an unknown convention, listing the valid ones', () => {
    expect(() => withConventions({ conventions: 'paper' as never })).toThrowError(SourceInvalidOptionError);
    expect(() => withConventions({ conventions: 'paper' as never })).toThrowError(/options\.conventions must be one of: andor, authors \(got "paper"\)/);
  });
});

describe('explain with conventions (built package)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
  });
  afterAll(async () => {
    await engine.dispose();
  });
  // n = 6 keeps the authors' 10 000 SGD iterations short
  const base = { model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), row: 1, players: '0-5', indexOrder: 0 };

  it('equals the explanation with the authors\' options spelled out', async () => {
    const viaFlag = await engine.explain({ ...base, conventions: 'authors' });
    const spelled = await engine.explain({ ...base, salientIncludeEmpty: true, preset: 'authors', qthres: 0.04, reward: 'gt-log-odds' });
    expect(viaFlag.decomposition.preset).toBe('authors');
    expect(viaFlag.reward).toBe('gt-log-odds');
    for (const key of ['v', 'and', 'or', 'threshold', 'salient', 'orders'] as const) expect(viaFlag[key]).toEqual(spelled[key]);
    expect({ ...viaFlag.decomposition, ms: 0 }).toEqual({ ...spelled.decomposition, ms: 0 });
  }, SLOW_MS);

  it('lets an explicit option win over the convention', async () => {
    const result = await engine.explain({ ...base, conventions: 'authors', preset: 'none', salientIncludeEmpty: false });
    const plain = await engine.explain({ ...base, preset: 'none' });
    expect(result.decomposition.preset).toBe('none');
    expect(result.threshold).toBe(plain.threshold);
    expect(result.and).toEqual(plain.and);
  }, SLOW_MS);

  it('explains a sparse batch under authors with their salient max, and takes no split option from it', async () => {
    const request = { model: base.model, samples: base.sample, rows: '0-1', players: base.players, method: 'sparse', budget: 64, maxOrder: 2, cacheDir: false } as const;
    const viaFlag = await engine.explainBatch({ ...request, conventions: 'authors' });
    const spelled = await engine.explainBatch({ ...request, salientIncludeEmpty: true, reward: 'gt-log-odds' });
    expect(viaFlag.results!.map((r) => [r.threshold, r.salient])).toEqual(spelled.results!.map((r) => [r.threshold, r.salient]));
  });

  it('lets explainAuto switch to the sparse method under authors, without the split options the convention fills', async () => {
    // 49 players: the 2^n arrays do not fit, so the sparse method is chosen, which learns no split
    const result = await engine.explainAuto({ model: model('patches-49.onnx'), sample: model('patches-49.samples.json'), modality: 'image', grid: '7x7', conventions: 'authors', indexOrder: 0 });
    expect(result).toMatchObject({ method: 'sparse', n: 49, decomposition: { method: 'none' } });
  }, SLOW_MS);

  it('rejects an unknown convention with InvalidOptionError', async () => {
    await expect(engine.explain({ ...base, conventions: 'paper' as never })).rejects.toThrowError(InvalidOptionError);
  });
});
