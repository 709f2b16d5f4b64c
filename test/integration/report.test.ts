// HTML reports rendered in headless Chromium, on every browser this machine has (the npm package's always, Debian's
// where installed; see helpers/browser.ts): the charts are there, nothing is fetched, and the console shows no errors.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamicsReport, explainReport } from '../../dist/engine/report/report.js';
import { createEngine, model, type Engine } from '../helpers/index.js';
import { MANIFEST, explainOptions } from '../helpers/manifest.js';
import { BROWSERS } from '../helpers/browser.js';

describe.each(BROWSERS)('HTML reports in headless Chromium: $name', (source) => {
  let browser: Browser;
  let engine: Engine;
  let dir: string;
  beforeAll(async () => {
    browser = await source.launch();
    engine = await createEngine({ workers: 2, threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'andor-report-'));
  });
  afterAll(async () => {
    await browser?.close();
    await engine?.dispose();
  });

  /** Opens the HTML offline and returns the chart ids and every console error or failed request. */
  async function render(html: string, name: string) {
    const file = join(dir, `${name}.html`);
    await writeFile(file, html);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => !r.url().startsWith('file:') && problems.push(`request: ${r.url()}`));
    await page.goto(`file://${file}`);
    const charts = await page.$$eval('svg.chart', (els) => els.map((e) => ({ id: e.getAttribute('data-chart'), shapes: e.querySelectorAll('rect, polyline, circle').length })));
    const text = await page.textContent('body');
    await page.close();
    return { charts, problems, text: text ?? '' };
  }

  it.each(['breast-cancer-mlp', 'digits-cnn', 'token-transformer', 'pointnet'])('explain report of %s', async (name) => {
    const entry = MANIFEST.models.find((m) => m.name === name)!;
    const result = await engine.explain(explainOptions(entry) as never);
    const { charts, problems, text } = await render(explainReport(result), name);
    expect(problems).toEqual([]);
    const ids = charts.map((c) => c.id);
    expect(ids).toContain('orders');
    expect(ids).toContain('normalized');
    expect(charts.find((c) => c.id === 'orders')!.shapes).toBeGreaterThanOrEqual(2 * result.n);
    expect(text).toContain(result.players[result.salient[0].players[0]]); // the strongest interaction, by player names
    if (entry.modality === 'image' || entry.modality === 'pointcloud') expect(ids.filter((id) => id?.startsWith('input-')).length).toBeGreaterThan(0);
    if (entry.modality === 'text') expect(text).toMatch(/AND|OR/);
  });

  it('dynamics report: the grid, loss gap, theory, Jaccard, generalization and OOD charts', async () => {
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
    const { charts, problems } = await render(dynamicsReport(result), 'dynamics');
    expect(problems).toEqual([]);
    const ids = charts.map((c) => c.id);
    for (const id of ['grid-0', 'grid-3', 'loss-gap', 'kappa', 'theory-0', 'sigma2', 'jaccard', 'jaccard-orders', 'generalization', 'generalizable-orders', 'ood', 'high-order']) {
      expect(ids).toContain(id);
    }
    expect(charts.every((c) => c.shapes > 0)).toBe(true);
  });
});
