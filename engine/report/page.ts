// The HTML shell of every report: inline CSS, the charts as inline SVG with a caption and a "save SVG" link, and one
// small inline script that serialises a chart's <svg> to a Blob download. Nothing is fetched: the page reads offline.
import { esc, type Chart } from './svg.js';

/** A part of a report: a heading, some HTML (tables, sentences) and charts. */
export interface Section {
  readonly heading?: string;
  readonly html?: string;
  readonly charts: readonly Chart[];
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222;margin:24px auto;max-width:1480px;padding:0 16px}
h1{font-size:21px;margin:0 0 8px}h2{font-size:17px;margin:30px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
.charts{display:flex;flex-wrap:wrap;gap:14px 18px;align-items:flex-start}
figure{margin:0;max-width:100%;overflow-x:auto}figcaption{font-size:12px;color:#555;max-width:640px;margin-top:2px}
figcaption a{margin-left:6px;color:#2e6fb7;white-space:nowrap}svg.chart{display:block;border:1px solid #eee}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f6f6f6}
.l{text-align:left}.note{color:#666;font-size:12px}`;

// Serialises the clicked chart's <svg> (already a standalone document: xmlns, background, title) to a download.
const SAVE_SCRIPT = `document.addEventListener('click', function (event) {
  var link = event.target && event.target.closest ? event.target.closest('a.save-svg') : null;
  if (!link) return;
  event.preventDefault();
  var svg = document.querySelector('svg.chart[data-chart="' + link.getAttribute('data-chart') + '"]');
  if (!svg) return;
  var source = '<?xml version="1.0" encoding="UTF-8"?>\\n' + new XMLSerializer().serializeToString(svg);
  var url = URL.createObjectURL(new Blob([source], { type: 'image/svg+xml' }));
  var save = document.createElement('a');
  save.href = url;
  save.download = link.getAttribute('data-chart') + '.svg';
  document.body.appendChild(save);
  save.click();
  save.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
});`;

function figure(c: Chart): string {
  return `<figure id="fig-${esc(c.id)}">${c.svg}<figcaption>${c.note ? esc(c.note) : ''}<a href="#fig-${esc(c.id)}" class="save-svg" data-chart="${esc(c.id)}">save SVG</a></figcaption></figure>`;
}

/**
 * The whole report page.
 * @param title - the page title (h1)
 * @param sections - headings, HTML and charts, in order
 * @returns a self-contained HTML document
 */
export function page(title: string, sections: readonly Section[]): string {
  const body = sections
    .filter((s) => s.html || s.charts.length)
    .map((s) => `${s.heading ? `<h2>${esc(s.heading)}</h2>` : ''}${s.html ?? ''}${s.charts.length ? `<div class="charts">${s.charts.map(figure).join('')}</div>` : ''}`)
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head>
<body><h1>${esc(title)}</h1>
${body}
<p class="note">andor report: self-contained (inline SVG and CSS, one inline script for "save SVG"); it reads offline.</p>
<script>${SAVE_SCRIPT}</script></body></html>`;
}
