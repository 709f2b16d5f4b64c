// Self-contained HTML reports (inline CSS and SVG, no scripts, nothing fetched) for explain and dynamics results:
// per-order strength, the dynamics grid with the loss gap, theory against real, Jaccard, generalization and OOD
// views, and the strongest interactions drawn on the input (image cells, tokens, point clusters, feature names).
import type { CheckpointReport, DynamicsResult } from '../studies/dynamics.js';
import type { ExplainResult, InputLayout } from '../explain/explain.js';

const POS = '#c0392b';
const NEG = '#2e6fb7';
const INK = '#333';
const GRID = '#ddd';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (x: number, digits = 3) => (!Number.isFinite(x) ? '–' : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(digits));

function svg(id: string, width: number, height: number, body: string, title: string): string {
  return `<figure><svg class="chart" data-chart="${esc(id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${body}</svg><figcaption>${esc(title)}</figcaption></figure>`;
}

/** Positive (up, red) and negative (down, blue) strength per order k = 1..n. */
function orderBars(id: string, positive: ArrayLike<number>, negative: ArrayLike<number>, title: string, width = 320, height = 170): string {
  const n = positive.length - 1;
  const max = Math.max(1e-12, ...Array.from({ length: n }, (_, k) => Math.max(positive[k + 1], -negative[k + 1])));
  const [left, top, bottom] = [34, 12, 22];
  const mid = top + (height - top - bottom) / 2;
  const scale = (height - top - bottom) / 2 / max;
  const step = (width - left - 6) / n;
  let body = `<line x1="${left}" x2="${width - 4}" y1="${mid}" y2="${mid}" stroke="${INK}"/>`;
  body += `<text x="${left - 4}" y="${top + 8}" text-anchor="end" font-size="9">${num(max, 2)}</text><text x="${left - 4}" y="${height - bottom}" text-anchor="end" font-size="9">${num(-max, 2)}</text>`;
  for (let k = 1; k <= n; k++) {
    const x = left + (k - 1) * step + step * 0.15;
    const w = step * 0.7;
    const p = positive[k] * scale;
    const q = -negative[k] * scale;
    body += `<rect x="${x.toFixed(1)}" y="${(mid - p).toFixed(1)}" width="${w.toFixed(1)}" height="${p.toFixed(1)}" fill="${POS}"><title>order ${k}: +${num(positive[k])}</title></rect>`;
    body += `<rect x="${x.toFixed(1)}" y="${mid.toFixed(1)}" width="${w.toFixed(1)}" height="${q.toFixed(1)}" fill="${NEG}"><title>order ${k}: ${num(negative[k])}</title></rect>`;
    body += `<text x="${(x + w / 2).toFixed(1)}" y="${height - 6}" text-anchor="middle" font-size="9">${k}</text>`;
  }
  return svg(id, width, height, body, title);
}

/** Lines over x = 0..len−1 with labelled ticks and optional vertical markers. */
function lines(id: string, series: { name: string; values: ArrayLike<number>; color: string }[], labels: readonly string[], title: string, marks: { at: number; label: string }[] = [], width = 520, height = 200): string {
  const finite = series.flatMap((s) => Array.from(s.values).filter(Number.isFinite));
  let lo = Math.min(...finite, finite.every((v) => v >= 0) ? 0 : Infinity);
  let hi = Math.max(...finite);
  if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1]; // flat (or empty) series
  const labelEvery = Math.max(1, Math.ceil(labels.length / 14));
  const [left, right, top, bottom] = [42, 110, 10, 38];
  const x = (i: number) => left + (labels.length <= 1 ? 0 : (i * (width - left - right)) / (labels.length - 1));
  const y = (v: number) => top + ((hi - v) * (height - top - bottom)) / (hi - lo || 1);
  let body = lo < 0 && hi > 0 ? `<line x1="${left}" x2="${width - right}" y1="${y(0)}" y2="${y(0)}" stroke="${GRID}"/>` : '';
  body += `<text x="${left - 4}" y="${y(hi) + 8}" text-anchor="end" font-size="9">${num(hi, 2)}</text><text x="${left - 4}" y="${y(lo)}" text-anchor="end" font-size="9">${num(lo, 2)}</text>`;
  labels.forEach((l, i) => i % labelEvery === 0 && (body += `<text x="${x(i)}" y="${height - 22}" text-anchor="end" font-size="8" transform="rotate(-35 ${x(i)} ${height - 22})">${esc(l)}</text>`));
  for (const m of marks) body += `<line x1="${x(m.at)}" x2="${x(m.at)}" y1="${top}" y2="${height - bottom}" stroke="#888" stroke-dasharray="3 3"/><text x="${x(m.at) + 3}" y="${top + 9}" font-size="9" fill="#555">${esc(m.label)}</text>`;
  series.forEach((s, j) => {
    const pts = Array.from(s.values).map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : '')).filter(Boolean);
    body += `<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${pts.join(' ')}"/>`;
    Array.from(s.values).forEach((v, i) => Number.isFinite(v) && (body += `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.4" fill="${s.color}"><title>${esc(s.name)} @ ${esc(labels[i])}: ${num(v)}</title></circle>`));
    body += `<text x="${width - right + 8}" y="${top + 12 + 13 * j}" font-size="10" fill="${s.color}">${esc(s.name)}</text>`;
  });
  return svg(id, width, height, body, title);
}

/** Grouped bars per order: several distributions side by side. */
function grouped(id: string, groups: { name: string; values: ArrayLike<number>; color: string }[], title: string, width = 320, height = 160, from = 1): string {
  const n = groups[0].values.length - 1;
  const max = Math.max(1e-12, ...groups.flatMap((g) => Array.from(g.values).slice(from).filter(Number.isFinite)));
  const [left, top, bottom] = [30, 10, 20];
  const step = (width - left - 4) / (n - from + 1);
  let body = `<line x1="${left}" x2="${width - 4}" y1="${height - bottom}" y2="${height - bottom}" stroke="${INK}"/><text x="${left - 3}" y="${top + 8}" text-anchor="end" font-size="9">${num(max, 2)}</text>`;
  for (let k = from; k <= n; k++) {
    const x0 = left + (k - from) * step + step * 0.1;
    const w = (step * 0.8) / groups.length;
    groups.forEach((g, j) => {
      const v = Number.isFinite(g.values[k]) ? g.values[k] : 0;
      const h = (v / max) * (height - top - bottom);
      body += `<rect x="${(x0 + j * w).toFixed(1)}" y="${(height - bottom - h).toFixed(1)}" width="${(w * 0.95).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${g.color}"><title>${esc(g.name)}, order ${k}: ${num(g.values[k])}</title></rect>`;
    });
    body += `<text x="${(x0 + step * 0.4).toFixed(1)}" y="${height - 6}" text-anchor="middle" font-size="9">${k}</text>`;
  }
  groups.forEach((g, j) => (body += `<text x="${width - 70}" y="${top + 10 + 12 * j}" font-size="9" fill="${g.color}">${esc(g.name)}</text>`));
  return svg(id, width, height, body, title);
}

function page(title: string, sections: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:14px/1.45 system-ui,sans-serif;color:${INK};margin:24px;max-width:1200px}h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid ${GRID}}
figure{display:inline-block;margin:6px 10px 6px 0;vertical-align:top}figcaption{font-size:11px;color:#666;max-width:520px}svg{font-family:system-ui,sans-serif}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid ${GRID};padding:2px 6px;text-align:right}th{background:#f6f6f6}.l{text-align:left}
.tok{display:inline-block;padding:1px 4px;margin:1px;border-radius:3px;background:#f1f1f1}.tok.on{color:#fff}.note{color:#666;font-size:12px}</style></head>
<body><h1>${esc(title)}</h1>${sections.join('\n')}<p class="note">andor report: self-contained, works offline.</p></body></html>`;
}

function playersOf(layout: InputLayout, player: number): number[] {
  return Array.from(layout.indices.subarray(layout.offsets[player], layout.offsets[player + 1]));
}

/** The input with the players of one interaction outlined (image cells, tokens, point clusters). */
function drawOnInput(layout: InputLayout, players: readonly number[], sign: number, kind: string, id: string, title: string): string {
  const color = sign > 0 ? POS : NEG;
  const owned = new Set(players.flatMap((p) => playersOf(layout, p)));
  if (layout.modality === 'image' && layout.dims.length >= 2) {
    const [h, w] = layout.dims.slice(-2);
    const channels = layout.values.length / (h * w);
    const cell = Math.max(2, Math.floor(96 / Math.max(h, w)));
    const lo = Math.min(...layout.values);
    const hi = Math.max(...layout.values);
    const shade = (c: number, i: number) => Math.round((255 * (layout.values[c * h * w + i] - lo)) / (hi - lo || 1));
    let body = '';
    for (let i = 0; i < h * w; i++) {
      const rgb = channels >= 3 ? [0, 1, 2].map((c) => shade(c, i)) : [shade(0, i), shade(0, i), shade(0, i)];
      body += `<rect x="${(i % w) * cell}" y="${Math.floor(i / w) * cell}" width="${cell}" height="${cell}" fill="rgb(${rgb.join(',')})"/>`;
      if (owned.has(i)) body += `<rect x="${(i % w) * cell}" y="${Math.floor(i / w) * cell}" width="${cell}" height="${cell}" fill="${color}" fill-opacity="0.45"${kind === 'or' ? ' stroke="#fff" stroke-dasharray="2 1"' : ''}/>`;
    }
    return svg(id, w * cell, h * cell, body, title);
  }
  if (layout.modality === 'pointcloud') {
    const pointsMajor = layout.dims[layout.dims.length - 1] === 3;
    const count = layout.values.length / 3;
    const at = (p: number, c: number) => layout.values[pointsMajor ? p * 3 + c : c * count + p];
    const xs = Array.from({ length: count }, (_, p) => at(p, 0));
    const ys = Array.from({ length: count }, (_, p) => at(p, 1));
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    let body = '';
    for (let p = 0; p < count; p++) {
      const on = owned.has(pointsMajor ? p * 3 : p);
      body += `<circle cx="${(6 + (110 * (xs[p] - x0)) / (x1 - x0 || 1)).toFixed(1)}" cy="${(116 - (110 * (ys[p] - y0)) / (y1 - y0 || 1)).toFixed(1)}" r="${on ? 3.2 : 2}" fill="${on ? color : '#bbb'}"/>`;
    }
    return svg(id, 122, 122, body, title);
  }
  return '';
}

/** A self-contained HTML report of one explanation. */
export function explainReport(result: ExplainResult, top = 12): string {
  const name = (s: { players: readonly number[] }) => s.players.map((p) => result.players[p]).join(' · ');
  const strongest = result.salient.slice(0, top);
  const max = Math.max(1e-12, ...strongest.map((s) => Math.abs(s.value)));
  const rows = strongest
    .map((s) => `<tr><td class="l">${s.kind.toUpperCase()}</td><td class="l">{${esc(name(s))}}</td><td>${num(s.value)}</td><td class="l"><svg width="160" height="10"><rect x="${s.value < 0 ? 80 - (80 * -s.value) / max : 80}" width="${(80 * Math.abs(s.value)) / max}" height="10" fill="${s.value > 0 ? POS : NEG}"/></svg></td></tr>`)
    .join('');
  const layout = result.layout;
  let onInput = '';
  if (layout && (layout.modality === 'image' || layout.modality === 'pointcloud')) {
    onInput = strongest.slice(0, 8).map((s, i) => drawOnInput(layout, s.players, Math.sign(s.value), s.kind, `input-${i}`, `${s.kind.toUpperCase()} {${name(s)}} = ${num(s.value)}`)).join('');
  } else if (layout && layout.modality === 'text') {
    const position = (p: number) => playersOf(layout, p)[0];
    onInput = strongest.slice(0, 8).map((s) => {
      const on = new Set(s.players.map(position));
      const tokens = Array.from(layout.values, (id, i) => {
        const word = layout.tokens?.[i] ?? String(id);
        return `<span class="tok${on.has(i) ? ' on' : ''}"${on.has(i) ? ` style="background:${s.value > 0 ? POS : NEG}"` : ''}>${esc(word)}</span>`;
      });
      return `<p>${s.kind.toUpperCase()} ${num(s.value)}: ${tokens.join(' ')}</p>`;
    }).join('');
  }
  const d = result.decomposition;
  const m = result.model;
  const summary = `<table>
<tr><th class="l">model</th><td class="l">${esc(m?.file ?? '(game values)')} ${m ? `[${esc(m.backend)}/${esc(m.executionProvider)}]` : ''}</td></tr>
<tr><th class="l">players</th><td class="l">n = ${result.n}: ${esc(result.players.join(', '))}</td></tr>
<tr><th class="l">reward</th><td class="l">${esc(result.reward)}${result.target === undefined ? '' : `, target ${result.target}`}; v(∅) = ${num(result.v[0])}, v(N) = ${num(result.v[result.v.length - 1])}</td></tr>
<tr><th class="l">decomposition</th><td class="l">${esc(d.method)}, preset ${esc(d.preset)} (${esc(d.solver)}, ${d.iterations} iterations): L1 ${num(d.objective.initial)} → ${num(d.objective.final)}</td></tr>
<tr><th class="l">matching</th><td class="l">max |v − rebuilt| = ${num(result.matching.maxAbsError)} (|q| ≤ ${num(d.qBound)})</td></tr>
<tr><th class="l">salient</th><td class="l">${result.salient.length} interactions with |I| ≥ ${num(result.threshold)}</td></tr></table>`;
  const trace = d.trace.values.length > 1 ? lines('objective-trace', [{ name: 'L1 objective', values: d.trace.values, color: INK }], Array.from(d.trace.values, (_, i) => String(i * d.trace.every)), 'Decomposition: the L1 objective over iterations') : '';
  return page(`andor explain: ${m?.file ?? 'game'}`, [
    summary,
    '<h2>Strength per order</h2>',
    orderBars('orders', result.orders.positive, result.orders.negative, 'Salient positive (red) and negative (blue) interaction strength per order, AND and OR together'),
    grouped('normalized', [{ name: 'normalized', values: result.orders.normalized, color: INK }], 'Normalized distribution over orders'),
    '<h2>Strongest interactions</h2>',
    `<table><tr><th>kind</th><th class="l">players</th><th>value</th><th></th></tr>${rows}</table>`,
    onInput ? `<h2>On the input</h2>${onInput}` : '',
    trace ? `<h2>Learning the split</h2>${trace}` : '',
  ]);
}

/** A self-contained HTML report of a dynamics run. */
export function dynamicsReport(result: DynamicsResult): string {
  const cps = result.checkpoints;
  const labels = cps.map((c) => c.name);
  const marks = [{ at: result.turningPoint, label: 'turning point' }, ...(result.gapRise === null ? [] : [{ at: result.gapRise, label: 'gap rises' }])];
  const grid = cps.map((c, t) => orderBars(`grid-${t}`, c.orders.positive, c.orders.negative, `${c.name}${t === result.turningPoint ? ' (turning point)' : ''}: κ = ${num(c.kappa)}`, 220, 130)).join('');
  const hasLoss = cps.every((c) => c.lossGap !== undefined);
  const lossChart = hasLoss
    ? lines('loss-gap', [
        { name: 'train loss', values: cps.map((c) => c.trainLoss as number), color: '#7a7a7a' },
        { name: 'test loss', values: cps.map((c) => c.testLoss as number), color: '#d68910' },
        { name: 'gap', values: cps.map((c) => c.lossGap as number), color: INK },
      ], labels, 'Train and test loss and their gap', marks)
    : '';
  const theory = cps.map((c, t) => grouped(`theory-${t}`, [{ name: 'real', values: c.normalized, color: INK }, { name: 'theory', values: c.theory?.distribution ?? [], color: '#27ae60' }], `${c.name}: σ² = ${c.theory ? c.theory.sigma2.toExponential(1) : '–'}`, 220, 120)).join('');
  const sigma = lines('sigma2', [{ name: 'log10 σ²', values: cps.map((c) => Math.log10(c.theory?.sigma2 ?? NaN)), color: '#27ae60' }], labels, 'Fitted σ²(t) of the theory (log10)', marks);
  const jaccardLast = result.jaccard ? grouped('jaccard', [{ name: 'Jaccard', values: result.jaccard, color: '#8e44ad' }], 'Train/test weighted Jaccard per order at the last checkpoint (averaged over classes)') : '';
  const jaccardLines = cps[0].jaccard
    ? lines('jaccard-orders', [1, 2, 3, 4].filter((k) => k <= result.n).map((k, j) => ({ name: `order ${k}`, values: cps.map((c) => c.jaccard![k]), color: ['#8e44ad', '#2980b9', '#16a085', '#d35400'][j] })), labels, 'Train/test Jaccard over training, orders 1–4', marks)
    : '';
  const gen = result.generalization;
  const genCharts = gen
    ? lines('generalization', [{ name: 'generalizable share', values: gen.ratio, color: '#16a085' }], labels, 'Share of salient strength that a reference model (trained on the test split) also encodes', marks) +
      grouped('generalizable-orders', [{ name: 'generalizable', values: gen.last.generalizable, color: '#16a085' }, { name: 'non-generalizable', values: gen.last.nonGeneralizable, color: '#c0392b' }], 'Last checkpoint: generalizable vs non-generalizable strength per order')
    : '';
  const genTable = gen ? lossTable(cps) : '';
  const oodLast = cps[cps.length - 1].ood;
  const ood = oodLast
    ? grouped('ood', [{ name: 'normal', values: cps[cps.length - 1].normalized, color: INK }, { name: 'OOD', values: oodLast.normalized, color: '#e67e22' }], 'Last checkpoint: normalized distribution of normal vs OOD (mislabeled) samples') +
      lines('high-order', [{ name: 'normal', values: cps.map((c) => c.highOrderShare), color: INK }, { name: 'OOD', values: cps.map((c) => c.ood?.highOrderShare ?? NaN), color: '#e67e22' }], labels, 'Share of strength at orders ≥ 3', marks)
    : '';
  const kappa = lines('kappa', [{ name: 'κ (mean order)', values: cps.map((c) => c.kappa), color: POS }], labels, 'Mean order κ of the normalized distribution', marks);
  return page('andor dynamics', [
    `<p>n = ${result.n} players (${esc(result.players.join(', '))}); ${result.samples.train} train, ${result.samples.test} test, ${result.samples.ood} OOD samples; ${cps.length} checkpoints. Turning point: <b>${esc(cps[result.turningPoint].name)}</b>${result.gapRise === null ? '' : `; the loss gap first rises at <b>${esc(cps[result.gapRise].name)}</b>`}.</p>`,
    '<h2>Two-phase dynamics: salient strength per order at each checkpoint</h2>',
    grid,
    `<div>${lossChart}${kappa}</div>`,
    '<h2>Theory against real</h2>',
    theory,
    sigma,
    '<h2>Train/test similarity</h2>',
    jaccardLast + jaccardLines,
    gen ? `<h2>Generalizable and non-generalizable interactions</h2>${genCharts}${genTable}` : '',
    ood ? `<h2>OOD samples</h2>${ood}` : '',
  ]);
}

function lossTable(cps: readonly CheckpointReport[]): string {
  const splits = Object.keys(cps[0].generalization?.loss ?? {});
  const head = splits.map((s) => `<th>${esc(s)}: output</th><th>salient</th><th>generalizable only</th>`).join('');
  const rows = cps.map((c) => `<tr><td class="l">${esc(c.name)}</td><td>${num(c.generalization!.ratio)}</td>${splits.map((s) => {
    const l = c.generalization!.loss[s];
    return `<td>${num(l.output)}</td><td>${num(l.salient)}</td><td>${num(l.generalizable)}</td>`;
  }).join('')}</tr>`);
  return `<p class="note">Cross-entropy of the label from the output v(N), from its salient interactions, and with the non-generalizable ones removed.</p><table><tr><th class="l">checkpoint</th><th>gen. share</th>${head}</tr>${rows.join('')}</table>`;
}
