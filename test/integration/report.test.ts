// HTML reports rendered in headless Chromium, on every browser this machine has (the npm package's always, Debian's
// where installed; see helpers/browser.ts): every expected chart is there with shapes, a saved result re-renders to
// the same page, nothing is fetched, the console shows no errors, no label is clipped, and "save SVG" downloads the
// chart. A full-page screenshot of each report goes to test/artifacts/screenshots/<name>.png.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartsOf, renderReport } from '../../dist/engine/report/index.js';
import { createEngine, dynamicsToJson, model, resultToJson, ROOT, SLOW_MS, type BatchResultJson, type Engine, type ExplainResultJson } from '../helpers/index.js';
import { MANIFEST, explainOptions } from '../helpers/manifest.js';
import { BROWSERS } from '../helpers/browser.js';

const SCREENSHOTS = join(ROOT, 'test', 'artifacts', 'screenshots');
const VIEWPORT = { width: 1480, height: 900 };
/** Chromium's headless screenshot of a tall page now and then fails once ("Unable to capture screenshot"). */
const SCREENSHOT_ATTEMPTS = 3;

/** Charts every explain report has, and the one drawn on the input per modality. */
const EXPLAIN_CHARTS = ['waterfall', 'force', 'interaction-graph', 'and-or-graph', 'upset', 'sparsity', 'orders', 'normalized', 'objective-trace'];
const ON_INPUT: Record<string, string | undefined> = { image: 'input', pointcloud: 'input', text: 'sentence', tabular: undefined };
const BATCH_CHARTS = ['beeswarm', 'class-interactions', 'orders-stacked', 'orders', 'normalized'];
const DYNAMICS_CHARTS = ['grid', 'orders-stacked', 'loss-gap', 'kappa', 'theory', 'sigma2', 'jaccard', 'jaccard-orders', 'generalization', 'generalizable-orders', 'ood', 'high-order', 'transitions', 'cancellation', 'mixture', 'pairwise'];

/** Runs in the page: text that leaves its chart (clipped), text under 11 px, and unrotated labels that overlap. */
const LAYOUT_CHECK = `(() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const id = svg.getAttribute('data-chart');
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim()).map((t) => ({
      label: [...t.childNodes].filter((c) => c.nodeType === 3).map((c) => c.textContent).join(''),
      r: t.getBoundingClientRect(), rotated: t.hasAttribute('transform'), size: parseFloat(getComputedStyle(t).fontSize) }));
    for (const t of texts) {
      if (t.size < 11) out.push(id + ': text under 11 px "' + t.label + '"');
      if (t.r.left < box.left - 1 || t.r.right > box.right + 1 || t.r.top < box.top - 1 || t.r.bottom > box.bottom + 1) out.push(id + ': clipped "' + t.label + '"');
    }
    const flat = texts.filter((t) => !t.rotated);
    for (let i = 0; i < flat.length; i++) for (let j = i + 1; j < flat.length; j++) {
      const [p, q] = [flat[i].r, flat[j].r];
      if (Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1.5 && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 3) out.push(id + ': "' + flat[i].label + '" overlaps "' + flat[j].label + '"');
    }
  }
  return out;
})()`;

/** An andor.batch/1 result from per-sample explain results (the aggregate the batch command writes). */
function aggregateBatch(results: readonly ExplainResultJson[], classNames: readonly string[]): BatchResultJson {
  const n = results[0].n;
  const group = (rs: readonly ExplainResultJson[]) => {
    const count = rs.length;
    const mean = (pick: (r: ExplainResultJson) => readonly number[]) => Array.from({ length: n + 1 }, (_, k) => rs.reduce((s, r) => s + pick(r)[k], 0) / Math.max(1, count));
    const positive = mean((r) => r.orders.positive);
    const negative = mean((r) => r.orders.negative);
    const total = positive.reduce((s, p, k) => (k > 0 ? s + p - negative[k] : s), 0);
    const normalized = positive.map((p, k) => (k > 0 && total > 0 ? (p - negative[k]) / total : 0));
    const byKey = new Map<string, { kind: 'and' | 'or'; players: number[]; names: string[]; values: number[] }>();
    rs.forEach((r, i) => r.salient.forEach((s) => {
      const key = `${s.kind}:${s.mask}`;
      if (!byKey.has(key)) byKey.set(key, { kind: s.kind, players: [...s.players], names: [...s.names], values: new Array(count).fill(0) });
      byKey.get(key)!.values[i] = s.value;
    }));
    const interactions = [...byKey.values()].map(({ values, ...rest }) => {
      const m = values.reduce((a, b) => a + b, 0) / count;
      return { ...rest, mean: m, std: Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / count), meanAbs: values.reduce((a, b) => a + Math.abs(b), 0) / count, salientIn: values.filter((v) => v !== 0).length };
    }).sort((a, b) => b.meanAbs - a.meanAbs).slice(0, 200);
    return { count, orders: { positive, negative, normalized }, interactions };
  };
  const targets = [...new Set(results.map((r) => r.target!))].sort((a, b) => a - b);
  return {
    schema: 'andor.batch/1', n, players: [...results[0].players],
    model: { file: results[0].model!.file, sha256: results[0].model!.sha256 },
    samples: results.map((r) => ({ row: r.sample!.row, id: r.sample!.id, label: r.sample!.label, target: r.target!, targetName: r.targetName, cached: false })),
    shapley: results.map((r) => [...r.indices.shapley]),
    all: group(results),
    classes: Object.fromEntries(targets.map((t) => [String(t), group(results.filter((r) => r.target === t))])),
    classNames: [...classNames],
    timings: { totalMs: 0 },
  };
}

/** A dynamics result with many checkpoints and no model behind it, to exercise label thinning and σ² bounds. */
function longDynamics(base: ReturnType<typeof dynamicsToJson>, count: number): ReturnType<typeof dynamicsToJson> {
  const grid = base.theory!.grid;
  const checkpoints = Array.from({ length: count }, (_, t) => {
    const c = base.checkpoints[Math.min(base.checkpoints.length - 1, Math.floor((t * base.checkpoints.length) / count))];
    const sigma2 = t === count - 1 ? Math.min(...grid) : 10 ** (-1 - (6 * t) / count);
    return { ...c, name: `epoch-${String(t * 16).padStart(4, '0')}`, epoch: t * 16, theory: c.theory && { ...c.theory, sigma2 } };
  });
  const transitions = checkpoints.slice(1).map((_, t) => ({ ...base.transitions[Math.min(base.transitions.length - 1, t)], from: t, to: t + 1 }));
  return { ...base, checkpoints, transitions, turningPoint: 5, gapRise: 12, theory: { ...base.theory!, sigma2: checkpoints.map((c) => c.theory?.sigma2 ?? 0), error: checkpoints.map((c) => c.theory?.error ?? base.theory!.error[0]) }, generalization: base.generalization && { ...base.generalization, ratio: checkpoints.map((c) => c.generalization?.ratio ?? null) } };
}

describe.each(BROWSERS)('HTML reports in headless Chromium: $name', (source) => {
  let browser: Browser;
  let engine: Engine;
  let dir: string;
  const suffix = BROWSERS.indexOf(source) === 0 ? '' : `-${source.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()}`;
  beforeAll(async () => {
    browser = await source.launch();
    engine = await createEngine({ workers: 2, threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'andor-report-'));
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await engine?.dispose();
  });

  async function screenshot(page: Page, name: string) {
    for (let attempt = 1; ; attempt++) {
      try {
        await page.screenshot({ path: join(SCREENSHOTS, `${name}${suffix}.png`), fullPage: true });
        return;
      } catch (error) {
        if (attempt >= SCREENSHOT_ATTEMPTS) throw error;
        await page.waitForTimeout(250);
      }
    }
  }

  /** Opens the HTML offline (and saves a screenshot when named); returns the charts (id, shape count), problems
   *  (console errors, requests that leave the page) and layout issues. */
  async function render(html: string, name: string | undefined, act?: (page: Page) => Promise<void>) {
    const file = join(dir, `${name ?? 'page'}.html`);
    await writeFile(file, html);
    const page = await browser.newPage({ viewport: VIEWPORT });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => !/^(file|blob|data):/.test(r.url()) && problems.push(`request: ${r.url()}`));
    await page.goto(`file://${file}`);
    const charts = await page.$$eval('svg.chart', (els) => els.map((e) => ({ id: e.getAttribute('data-chart'), shapes: e.querySelectorAll('rect:not([width="100%"]), polyline, polygon, circle, path, line').length })));
    const layout = (await page.evaluate(LAYOUT_CHECK)) as string[];
    const text = (await page.textContent('body')) ?? '';
    if (name) await screenshot(page, name);
    if (act) await act(page);
    await page.close();
    return { charts, problems, layout, text };
  }

  function expectCharts(charts: { id: string | null; shapes: number }[], expected: readonly string[]) {
    const ids = charts.map((c) => c.id);
    for (const id of expected) expect(ids, `chart ${id}`).toContain(id);
    for (const c of charts) expect(c.shapes, `shapes of chart ${c.id}`).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  }

  it.each(['breast-cancer-mlp', 'digits-cnn', 'token-transformer', 'pointnet'])('explain report of %s', async (name) => {
    const entry = MANIFEST.models.find((m) => m.name === name)!;
    const result = await engine.explain(explainOptions(entry) as never);
    const json = resultToJson(result);
    const html = renderReport(json);
    expect(renderReport(JSON.parse(JSON.stringify(json)))).toBe(html); // a saved result re-renders to the same page
    const { charts, problems, layout, text } = await render(html, name);
    expect(problems).toEqual([]);
    expect(layout).toEqual([]);
    const onInput = ON_INPUT[entry.modality];
    expectCharts(charts, [...EXPLAIN_CHARTS, ...(onInput ? [onInput] : [])]);
    expect(charts.find((c) => c.id === 'orders')!.shapes).toBeGreaterThanOrEqual(result.n);
    expect(text).toContain(result.players[result.salient[0].players[0]]); // the strongest interaction, by player names
    const standalone = chartsOf(json);
    expect(standalone.map((c) => c.id)).toEqual(charts.map((c) => c.id));
    for (const c of standalone) expect(c.svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  }, SLOW_MS);

  it('explain report: "save SVG" downloads the chart as a standalone SVG', async () => {
    const entry = MANIFEST.models.find((m) => m.name === 'breast-cancer-mlp')!;
    const json = resultToJson(await engine.explain(explainOptions(entry) as never));
    let saved = '';
    const { problems } = await render(renderReport(json), undefined, async (page) => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('a.save-svg[data-chart="waterfall"]')]);
      expect(download.suggestedFilename()).toBe('waterfall.svg');
      saved = await readFile((await download.path())!, 'utf8');
    });
    expect(problems).toEqual([]);
    expect(saved).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(saved).toContain('data-chart="waterfall"');
  }, SLOW_MS);

  it('batch report of six breast-cancer samples: beeswarm, interactions per class, stacked orders', async () => {
    const entry = MANIFEST.models.find((m) => m.name === 'breast-cancer-mlp')!;
    const rows: ExplainResultJson[] = [];
    for (let row = 0; row < 6; row++) rows.push(resultToJson(await engine.explain({ ...explainOptions(entry), row } as never)));
    const samples = JSON.parse(await readFile(model('breast-cancer.samples.json'), 'utf8')) as { classes: string[] };
    const batch = aggregateBatch(rows, samples.classes);
    const html = renderReport(batch);
    expect(renderReport(JSON.parse(JSON.stringify(batch)))).toBe(html);
    const { charts, problems, layout } = await render(html, 'batch');
    expect(problems).toEqual([]);
    expect(layout).toEqual([]);
    expectCharts(charts, BATCH_CHARTS);
    expect(charts.find((c) => c.id === 'beeswarm')!.shapes).toBeGreaterThanOrEqual(rows.length * batch.n);
  }, SLOW_MS);

  it('dynamics report: grid on one scale, loss gap, theory in phase 2 with σ² bounds, Jaccard, generalization and OOD', async () => {
    const series = model('bc-mlp-series');
    const result = await engine.dynamics({
      checkpoints: ['epoch-0000', 'epoch-0008', 'epoch-0064', 'epoch-1024'].map((c) => join(series, `${c}.onnx`)),
      samples: join(series, 'samples.json'),
      losses: join(series, 'losses.json'),
      referenceModels: [join(series, 'reference-0.onnx')],
      players: '0-9',
      iterations: 200,
      cacheDir: false,
    });
    const json = dynamicsToJson(result);
    const html = renderReport(json);
    expect(renderReport(JSON.parse(JSON.stringify(json)))).toBe(html);
    const { charts, problems, layout, text } = await render(html, 'dynamics');
    expect(problems).toEqual([]);
    expect(layout).toEqual([]);
    expectCharts(charts, DYNAMICS_CHARTS);
    expect(text).toContain('one shared y scale');
    if (json.turningPoint > 0) expect(text).toContain('no theory in phase 1');
    const lowest = Math.min(...json.theory!.grid);
    const atBound = json.checkpoints.some((c, t) => t >= json.turningPoint && c.theory?.sigma2 === lowest);
    if (atBound) expect(text).toContain('≤ 10⁻⁸');

    // a long run without models: epoch labels thin out or rotate instead of overlapping, nothing is clipped
    const long = longDynamics(json, 40);
    const many = await render(renderReport(long), 'dynamics-long');
    expect(many.problems).toEqual([]);
    expect(many.layout).toEqual([]);
    expectCharts(many.charts, DYNAMICS_CHARTS);
  }, SLOW_MS * 2);
});
