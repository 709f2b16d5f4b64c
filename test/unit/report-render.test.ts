// renderReport and chartsOf on hand-made results (no model, no browser): dispatch on `schema` and its error, one
// standalone SVG per chart with unique ids, results without arrays, and the pictures of each input modality.
import { describe, expect, it } from 'vitest';
import { assertReportable } from '../../dist/engine/report/check.js';
import { chartsOf, renderReport } from '../../dist/engine/report/index.js';
import { clip } from '../../dist/engine/report/svg.js';
import { InvalidInputError, type DynamicsResultJson, type ExplainResultJson } from '../helpers/index.js';

const N = 4;
const PLAYERS = ['alpha', 'beta', 'gamma', 'delta'];
const popcount = (m: number) => m.toString(2).replace(/0/g, '').length;

/** A small explain result: AND terms on {0}, {0,1}, {1,2,3}; OR terms on {2,3} (hand-made, not a real model). */
function explainJson(input?: ExplainResultJson['input'], arrays = true): ExplainResultJson {
  const and = new Array(1 << N).fill(0);
  const or = new Array(1 << N).fill(0);
  [and[0], and[0b0001], and[0b0011], and[0b1110]] = [-1, 2, -1.5, 0.8];
  or[0b1100] = 0.6;
  or[0b0110] = -0.4;
  const v = Array.from({ length: 1 << N }, (_, t) => and.reduce((s, x, m) => ((m & t) === m ? s + x : s), 0) + or.reduce((s, x, m) => (m && (m & t) !== 0 ? s + x : s), 0));
  const salient = [[0b0001, 'and'], [0b0011, 'and'], [0b1110, 'and'], [0b1100, 'or'], [0b0110, 'or']].map(([mask, kind]) => {
    const players = [0, 1, 2, 3].filter((p) => ((mask as number) >> p) & 1);
    return { kind: kind as 'and' | 'or', players, names: players.map((p) => PLAYERS[p]), mask: mask as number, value: (kind === 'and' ? and : or)[mask as number] };
  }).sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  const positive = new Array(N + 1).fill(0);
  const negative = new Array(N + 1).fill(0);
  for (const s of salient) (s.value > 0 ? positive : negative)[popcount(s.mask)] += s.value;
  const total = positive.reduce((a, p, k) => a + p - negative[k], 0);
  return {
    schema: 'andor.explain/1', n: N, players: PLAYERS, reward: 'gt-log-odds', target: 1, targetName: 'yes',
    v: arrays ? v : [], and: arrays ? and : [], or: arrays ? or : [],
    matching: { maxAbsError: 0, relativeError: 0, maxAbsNoise: 0 }, threshold: 0.3, salient,
    orders: { positive, negative, normalized: positive.map((p, k) => (p - negative[k]) / total) },
    indices: { shapley: [1.2, -0.4, 0.3, 0.1], banzhaf: [1.1, -0.3, 0.2, 0.1], order: 2, sii: [{ players: [0, 1], value: -1.5 }, { players: [2, 3], value: 0.5 }], kSii: [], stii: [], fsii: [] },
    ...(input ? { input } : {}),
    decomposition: { method: 'and-or', preset: 'default', solver: 'pdhg', iterations: 10, lr: 1, qthres: 0.02, qBound: 0.1, objective: { initial: 9, final: 5.3 }, trace: { every: 5, values: [9, 6, 5.3] }, diverged: false, salientCount: 5, ms: 1 },
    timings: { totalMs: 1 },
  };
}

const layout = (modality: 'tabular' | 'image' | 'text' | 'pointcloud', dims: number[], values: number[], owners: number[][], tokens?: string[]): ExplainResultJson['input'] => ({
  modality, name: 'x', dims, values,
  offsets: owners.reduce((o, e) => [...o, o[o.length - 1] + e.length], [0]),
  indices: owners.flat(),
  ...(tokens ? { tokens } : {}),
});

const ids = (result: Parameters<typeof chartsOf>[0]) => chartsOf(result).map((c) => c.id);

describe('renderReport', () => {
  it('rejects a result without a schema, naming the valid ids', () => {
    expect(() => renderReport({} as never)).toThrowError(InvalidInputError);
    expect(() => renderReport({} as never)).toThrowError(/missing.*andor\.explain\/1, andor\.batch\/1, andor\.dynamics\/1/);
  });

  it('rejects an unknown schema id', () => {
    expect(() => renderReport({ schema: 'andor.explain/9' } as never)).toThrowError(/"andor\.explain\/9".*Expected one of/);
    expect(() => chartsOf(null as never)).toThrowError(InvalidInputError);
  });

  it('renders a page with every chart inline, a save link per chart and no external reference', () => {
    const json = explainJson(layout('tabular', [4], [0.5, 1, 2, 3], [[0], [1], [2], [3]]));
    const html = renderReport(json);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const c of chartsOf(json)) {
      expect(html).toContain(c.svg);
      expect(html).toContain(`class="save-svg" data-chart="${c.id}"`);
    }
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('alpha = 0.50'); // the waterfall names a tabular player with its value
    expect(html).not.toMatch(/="[^"]*(NaN|Infinity)/); // no coordinate is NaN
  });

  it('gives every chart a unique id, a title and a standalone SVG document', () => {
    const charts = chartsOf(explainJson());
    expect(new Set(charts.map((c) => c.id)).size).toBe(charts.length);
    for (const c of charts) {
      expect(c.title.length).toBeGreaterThan(0);
      expect(c.svg).toMatch(new RegExp(`^<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${c.id}"`));
      expect(c.svg.endsWith('</svg>')).toBe(true);
    }
  });

  it('draws each modality on its input', () => {
    const image = layout('image', [1, 4, 4], Array.from({ length: 16 }, (_, i) => i / 15), [[0, 1], [4, 5], [10], [11, 15]]);
    const cloud = layout('pointcloud', [8, 3], Array.from({ length: 24 }, (_, i) => Math.sin(i)), [[0, 1, 2], [3, 4, 5, 6, 7, 8], [9, 10, 11], [12, 13, 14, 15, 16, 17]]);
    const text = layout('text', [6], [5, 6, 7, 8, 9, 10], [[0], [2], [3], [5]], ['the', 'cat', 'sat', 'on', 'a', 'mat']);
    expect(ids(explainJson(image))).toContain('input');
    expect(ids(explainJson(cloud))).toContain('input');
    const sentence = chartsOf(explainJson(text)).find((c) => c.id === 'sentence')!;
    expect(sentence.svg).toContain('stroke-dasharray="6 4"'); // OR arcs are dashed (and drawn below the tokens)
    expect(sentence.svg).toContain('>mat</text>');
  });

  it('says on the page that the split diverged, as the CLI does on stderr (an adversarial sweep)', () => {
    const json = explainJson();
    const diverged = { ...json, decomposition: { ...json.decomposition, diverged: true, warning: 'the objective rose from 9 to 20: lower --lr.' } };
    expect(renderReport(diverged)).toContain('the objective rose from 9 to 20: lower --lr.');
    expect(renderReport(diverged)).toMatch(/holds its best iterate \(L1 5\.300\), not the last one drawn/);
    expect(renderReport(json)).not.toContain('diverged');
  });

  it('renders a result written with arrays: false (no v, no AND/OR vectors, no input)', () => {
    const charts = ids(explainJson(undefined, false));
    expect(charts).toContain('waterfall');
    expect(charts).not.toContain('sparsity');
    expect(renderReport(explainJson(undefined, false))).toContain('v(∅) (not stored)');
  });

  it('renders a game where nothing is salient and every interaction is 0', () => {
    const zero = { ...explainJson(), salient: [], threshold: 0, and: new Array(16).fill(0), or: new Array(16).fill(0), v: new Array(16).fill(0), indices: { ...explainJson().indices, shapley: [0, 0, 0, 0] } };
    const charts = ids(zero);
    expect(charts).toEqual(expect.arrayContaining(['waterfall', 'force', 'interaction-graph', 'and-or-graph', 'upset', 'orders']));
    expect(charts).not.toContain('sparsity');
    expect(renderReport(zero)).toContain('No interaction reaches the salient threshold');
    expect(renderReport(zero)).not.toMatch(/="[^"]*(NaN|Infinity)/);
  });

  it('draws the salient threshold of --salient-ratio 0 on the sparsity curve\'s log axis (an adversarial sweep)', () => {
    const sparsity = chartsOf({ ...explainJson(), threshold: 0 }).find((c) => c.id === 'sparsity')!.svg;
    expect(sparsity).not.toMatch(/="[^"]*(NaN|Infinity)/);
    expect(sparsity).toContain('|I| ≥ 0: salient');
    expect(sparsity).toContain('AND (3 salient of 15)'); // the nonzero AND terms, not the exact zeros
  });

  it('renders a game of one player', () => {
    const one: ExplainResultJson = { ...explainJson(), n: 1, players: ['solo'], v: [0, 1], and: [0, 1], or: [0, 0], salient: [{ kind: 'and', players: [0], names: ['solo'], mask: 1, value: 1 }], orders: { positive: [0, 1], negative: [0, 0], normalized: [0, 1] }, indices: { ...explainJson().indices, shapley: [1], banzhaf: [1], sii: [] } };
    expect(renderReport(one)).toContain('data-chart="upset"');
    expect(renderReport(one)).not.toMatch(/="[^"]*(NaN|Infinity)/);
  });

  it('draws the ∅ term, salient under the authors\' conventions, at the centre of the network (an adversarial sweep)', () => {
    const empty = { kind: 'and' as const, players: [], names: [], mask: 0, value: 5 };
    const json = { ...explainJson(), salient: [empty, ...explainJson().salient] };
    for (const id of ['interaction-graph', 'and-or-graph']) expect(chartsOf(json).find((c) => c.id === id)!.svg, id).not.toMatch(/="[^"]*(NaN|Infinity)/);
  });

  it('refuses a result whose numbers are not numbers, naming the field, before any markup is built (an adversarial sweep, stop 45)', () => {
    // andor writes 0 where a share is 0/0; a null there (NaN through JSON) is an edited result, as is markup in a
    // number's place, which the page interpolated as it was (sample.row "<img onerror=…>": a live element)
    const json = JSON.parse(JSON.stringify({ ...explainJson(), orders: { ...explainJson().orders, normalized: [NaN, NaN, NaN, NaN, NaN] } }));
    expect(() => renderReport(json)).toThrowError(/^The result: orders .*\(at \[normalized\]\[0\]: must be number\) Give a result written by andor \(--out\), unedited\.$/);
    const markup = { ...explainJson(), sample: { ...explainJson().sample, row: '<img src=x onerror="window.__pwned=1">' } };
    expect(() => renderReport(markup as never)).toThrowError(InvalidInputError);
    expect(() => chartsOf(markup as never)).toThrowError(/^The result: sample/);
  });
});

describe('renderReport of names XML cannot hold', () => {
  it('shows control characters, bidirectional overrides and lone surrogates as U+FFFD in the page and every SVG (an adversarial sweep, stop 45)', () => {
    // a name with ESC (a CSV header) made 5 of 10 saved SVGs unparseable; U+202E turned the names after it around
    const json = explainJson();
    const players = json.players.map((name, i) => [`esc\u001b[31m${name}`, `soh\u0001${name}`, `rtl\u202e${name}`, `lone\ud800${name}`][i % 4]);
    const edited = { ...json, players };
    const unshowable = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])/;
    const page = renderReport(edited);
    expect(page).not.toMatch(unshowable);
    expect(page).toContain('esc\ufffd[31m');
    for (const chart of chartsOf(edited)) expect(chart.svg, chart.id).not.toMatch(unshowable);
    // an emoji (a surrogate pair) is kept
    expect(renderReport({ ...json, players: json.players.map((name) => `${name}\u{1f600}`) })).toContain('\u{1f600}');
  });
});

describe('renderReport of a long objective trace', () => {
  it('draws an edited trace of 300 000 values instead of overflowing the call stack (an adversarial sweep)', () => {
    const json = explainJson();
    const values = Array.from({ length: 300_000 }, (_, i) => 1 + 100 / (i + 1));
    expect(ids({ ...json, decomposition: { ...json.decomposition, trace: { every: 1, values } } })).toContain('objective-trace');
  });
});

describe('renderReport of a dynamics result', () => {
  const checkpoint = (t: number, sigma2: number) => ({
    name: `epoch-${t}`, file: `epoch-${t}.onnx`, sha256: 'x', epoch: t,
    orders: { positive: [0, 1 + t, 0.5, 0.2, 0.1], negative: [0, -0.5, -0.2, -0.1, 0] },
    normalized: [0, 0.5, 0.3, 0.15, 0.05], kappa: 1.8 - t / 10, highOrderShare: 0.2, trainLoss: 1 - t / 10, testLoss: 1, lossGap: t / 10,
    theory: { sigma2, error: [0, 0.1, 0.1, 0, 0], distribution: [0, 0.45, 0.3, 0.2, 0.05] },
    samples: [{ sample: 0, split: 'train', kappa: 1.8, salient: 3, positive: [0, 1, 0.5, 0.2, 0.1], negative: [0, 0, 0, 0, 0] }],
    mixture: { decayWeight: 0.8 - t / 10, rate: 1, spindleWeight: 0.2 + t / 10, p: 0.5, decayShare: 0.8 - t / 10, residual: 0.01 },
    cancellation: [null, 1, 0.8 - t / 10, 0.5, 0.2],
    pairwise: [0.5, 0.3, 0.1],
  });
  const grid = [1e2, 1, 1e-4, 1e-8];
  const json: DynamicsResultJson = {
    schema: 'andor.dynamics/1', n: N, players: PLAYERS, samples: { train: 2, test: 2, ood: 0 },
    checkpoints: [checkpoint(0, 1e2), checkpoint(1, 1), checkpoint(2, 1e-4), checkpoint(3, 1e-8)],
    turningPoint: 1, gapRise: 2,
    theory: { grid, sigma2: [1e2, 1, 1e-4, 1e-8], error: [0, 1, 2, 3].map(() => [0, 0.1, 0.1, 0, 0]), ratio: grid.map(() => [0, 1, 0.5, 0.2, 0.1]) },
    jaccard: null, generalization: null, references: [], pairs: { computed: 16, cached: 0 }, timings: {},
    transitions: [1, 2, 3].map((t) => ({ from: t - 1, to: t, preserved: { count: [0, 2, 1, 0, 0], strength: [0, 1, 0.5, 0, 0] }, removed: { count: [0, 1, 0, 0, 0], strength: [0, 0.2, 0, 0, 0] }, emerged: { count: [0, 0, 1, 1, 0], strength: [0, 0, 0.3, 0.2, 0] } })),
  };

  it('marks σ² at the end of the fitted grid as a bound and leaves phase 1 without theory', () => {
    const sigma = chartsOf(json).find((c) => c.id === 'sigma2')!.svg;
    expect(sigma).toContain('≤ 10⁻⁸');
    expect(sigma).not.toContain('≥ 10²'); // checkpoint 0 (phase 1, at the upper bound) is not drawn
    const theory = chartsOf(json).find((c) => c.id === 'theory')!.svg;
    expect(theory).toContain('no theory in phase 1');
    expect(theory.match(/no theory in phase 1/g)).toHaveLength(1);
  });

  it('says which pairs diverged (an adversarial sweep)', () => {
    const [first, ...rest] = json.checkpoints;
    const diverged = { ...json, checkpoints: [{ ...first, samples: [{ ...first.samples[0], diverged: true as const }] }, ...rest] };
    expect(renderReport(diverged)).toContain('1 of 4 pairs diverged</b> (epoch-0: 1)');
    expect(renderReport(json)).not.toContain('diverged');
  });

  it('names no turning point for one checkpoint, as the CLI does, and draws no empty transitions chart (an adversarial sweep)', () => {
    const one: DynamicsResultJson = { ...json, checkpoints: [json.checkpoints[3]], turningPoint: 0, gapRise: null, theory: null, transitions: [] };
    const html = renderReport(one);
    expect(html).toContain('One checkpoint: no turning point');
    expect(html).not.toContain('turning point</text>');
    expect(html).not.toContain('Turning point (start of phase 2)');
    expect(ids(one)).not.toContain('transitions');
    expect(renderReport(json)).toContain('Turning point (start of phase 2): <b>epoch-1</b>');
  });

  it('draws a fitted grid of 200 000 σ² instead of overflowing the call stack, and refuses a fit whose rows are not one per checkpoint, per σ² or per order (an adversarial sweep, stop 48)', () => {
    const long = Array.from({ length: 200_000 }, (_, k) => 1e2 * 10 ** (-10 * k / 199_999));
    const wide = { ...json, theory: { ...json.theory!, grid: long, ratio: long.map(() => [0, 1, 0.5, 0.2, 0.1]) } };
    expect(chartsOf(wide).find((c) => c.id === 'sigma2')!.svg).toContain('≤ 10⁻⁸');
    const refused = (theory: Partial<NonNullable<DynamicsResultJson['theory']>>, message: RegExp) =>
      expect(() => renderReport({ ...json, theory: { ...json.theory!, ...theory } })).toThrowError(message);
    refused({ sigma2: [1, 1] }, /theory\.sigma2 holds 2 values; it holds one per checkpoint \(4\)/);
    refused({ error: [[0, 0, 0, 0, 0]] }, /theory\.error holds 1 rows; it holds one per checkpoint \(4\)/);
    refused({ grid: long }, /theory\.ratio holds 4 rows; it holds one per σ² of theory\.grid \(200000\)/);
    refused({ ratio: grid.map(() => [0, 1]) }, /theory\.ratio\[0\] holds 2 values; with n = 4 it holds one per order 0\.\.n \(5\)/);
    refused({ grid: [1, 0, -1, 2] }, /theory\.grid\[1\] = 0; σ² is > 0/);
  });

  it('leaves out the Jaccard, generalization and OOD charts when the run has none', () => {
    expect(ids(json)).toEqual(['grid', 'orders-stacked', 'loss-gap', 'kappa', 'theory', 'sigma2', 'transitions', 'cancellation', 'mixture', 'pairwise']);
    expect(renderReport(json)).not.toMatch(/="[^"]*(NaN|Infinity)/);
  });
});

describe('assertReportable', () => {
  const refused = (value: unknown, message: RegExp) => {
    expect(() => assertReportable(value, 'edited.json')).toThrowError(InvalidInputError);
    expect(() => assertReportable(value, 'edited.json')).toThrowError(message);
  };
  const group = (interactions: Record<string, unknown>[]) => ({ count: 2, orders: { positive: [0, 1, 0, 0, 0], negative: [0, 0, 0, 0, 0], normalized: [0, 1, 0, 0, 0] }, interactions });
  const batch = {
    schema: 'andor.batch/1', n: N, players: PLAYERS, model: { sha256: 'x' },
    samples: [0, 1].map((row) => ({ row, target: 1, cached: false })), shapley: [[1, 0, 0, 0], [0, 1, 0, 0]],
    all: group([{ kind: 'and', players: [0, 1], names: ['alpha', 'beta'], mean: 1, std: 0, meanAbs: 1, salientIn: 2 }]), classes: { 1: group([]) }, timings: {},
  };

  it('refuses an edited list of one value per player or of sets, naming it (an adversarial sweep)', () => {
    const json = explainJson();
    expect(assertReportable(json, 'edited.json')).toBe(json);
    expect(assertReportable(batch, 'edited.json')).toBe(batch);
    refused({ ...json, indices: { ...json.indices, shapley: [1.2, -0.4] } }, /edited\.json: indices\.shapley holds 2 values; with n = 4 it holds one per player/);
    refused({ ...json, indices: { ...json.indices, sii: [{ players: [0, 9], value: 5 }] } }, /edited\.json: indices\.sii\[0\] names player 9, but n = 4/);
    refused({ ...batch, shapley: [[1, 0, 0, 0]] }, /edited\.json: shapley holds 1 rows; it holds one per sample \(2\)/);
    refused({ ...batch, shapley: [[1, 0, 0, 0], [1]] }, /edited\.json: shapley\[1\] holds 1 values; with n = 4 it holds one per player/);
    refused({ ...batch, all: group([{ ...batch.all.interactions[0], players: [0, 7] }]) }, /edited\.json: all\.interactions\[0\] names player 7, but n = 4/);
  });

  it('says a result without a field a later andor added may be an older andor\'s, to rerun (it said only "unedited"; an adversarial sweep, stop 48)', () => {
    const { indices: _indices, ...older } = explainJson();
    refused(older, /^edited\.json: indices is required: .* Give a result written by andor \(--out\), unedited\. A result written by an older andor lacks the fields added since: rerun it with this one\.$/);
  });

  it('refuses a set that names a player twice or out of order, a mask not its players\', a negative threshold, input values not its dims\' (an adversarial sweep, stop 43)', () => {
    const json = explainJson();
    const first = json.salient[0];
    refused({ ...json, salient: [{ ...first, players: [0, 0] }] }, /edited\.json: salient\[0\] names players \[0,0\]: a set names each player once, ascending/);
    refused({ ...json, indices: { ...json.indices, sii: [{ players: [2, 1], value: 5 }] } }, /indices\.sii\[0\] names players \[2,1\]/);
    refused({ ...json, salient: [{ ...first, mask: first.mask! + 16 }] }, new RegExp(`salient\\[0\\] has mask ${first.mask! + 16}, but its players \\[${first.players.join(',')}\\] are mask ${first.mask}`));
    refused({ ...json, threshold: -1 }, /edited\.json: threshold = -1; a salience threshold is ≥ 0/);
    const input = { modality: 'tabular' as const, name: 'x', dims: [4], values: [1, 2, 3, 4], offsets: [0, 1, 2, 3, 4], indices: [0, 1, 2, 3] };
    expect(assertReportable(explainJson(input), 'edited.json')).toBeDefined();
    refused(explainJson({ ...input, values: [1, 2, 3] }), /edited\.json: input\.values holds 3 values, but input\.dims \[4\] hold 4/);
  });
});

describe('clip', () => {
  it('cuts a label between code points, never inside an emoji (an adversarial sweep, stop 32)', () => {
    const label = '😀'.repeat(100);
    const clipped = clip(label, 60);
    expect(clipped.endsWith('…')).toBe(true);
    expect(clipped).not.toContain('\ufffd');
    expect(Array.from(clipped.slice(0, -1)).every((c) => c === '😀')).toBe(true);
    expect(clip('short', 600)).toBe('short');
  });
});
