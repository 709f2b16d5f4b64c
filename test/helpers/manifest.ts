// The bundled models' manifest, for suites that run on every model.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMMANDS, parseCommand } from '../../dist/engine/interfaces/cli-options.js';
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

/** Library options equivalent to a manifest entry's `explain` arguments, read by the CLI's own parser (so the flags'
 *  types come from the schema), with paths resolved against the repo root. */
export function explainOptions(entry: ManifestModel): Record<string, unknown> {
  const options: Record<string, unknown> = parseCommand(COMMANDS.explain, [...entry.explain]);
  for (const key of ['model', 'sample', 'reference']) if (typeof options[key] === 'string') options[key] = resolve(ROOT, options[key] as string);
  return options;
}

/** Whether an entry is explained by the sparse method (its v, and, or are not 2^n arrays). */
export const isSparseEntry = (entry: ManifestModel): boolean => entry.explain.includes('sparse');

/** The entries the exact method explains (every 2^n-array suite runs on these). */
export const EXACT_MODELS = MANIFEST.models.filter((m) => !isSparseEntry(m));
