// The bundled models' manifest, for suites that run on every model.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MODELS, ROOT } from './index.js';

export interface ManifestModel {
  readonly name: string;
  readonly file: string;
  readonly modality: string;
  readonly explain: readonly string[];
  readonly benchOnly?: boolean;
  readonly groundTruth?: { readonly ids: Readonly<Record<string, number>> };
}

export const MANIFEST = JSON.parse(readFileSync(resolve(MODELS, 'manifest.json'), 'utf8')) as { models: ManifestModel[]; series: unknown[] };

/** Library options equivalent to a manifest entry's `explain` arguments (paths resolved against the repo root). */
export function explainOptions(entry: ManifestModel): Record<string, unknown> {
  const camel = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const numeric = new Set(['row', 'maskToken', 'clusters', 'target', 'blurSigma']);
  const options: Record<string, unknown> = {};
  for (let i = 0; i < entry.explain.length; i += 2) {
    const key = camel(entry.explain[i]);
    const value = entry.explain[i + 1];
    options[key] = numeric.has(key) ? Number(value) : ['model', 'sample', 'reference'].includes(key) ? resolve(ROOT, value) : value;
  }
  return options;
}
