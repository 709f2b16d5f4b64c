// The models folder's manifest.json: each bundled model's file, name, modality and the explain arguments that show it
// (their model properties are its defaults wherever the model is named: the CLI's --model, the service's body.model),
// and the bundled training series. A missing, unreadable or malformed manifest is no manifest: never an error.
import { readFile } from 'node:fs/promises';
import { COMMANDS, parseCommand } from './cli-options.js';

/** A bundled model. */
export interface ManifestModel {
  readonly file: string;
  readonly name?: string;
  readonly modality?: string;
  /** `andor explain` arguments that explain it (paths relative to the package root). */
  readonly explain?: string[];
}

/** A manifest. */
export interface Manifest {
  readonly models: ManifestModel[];
  readonly series: { readonly dynamics: string[] }[];
}

/**
 * Reads a manifest, keeping only well-formed model entries.
 * @param file - its path
 * @returns the manifest, or undefined when it is missing, unreadable or not JSON
 */
export async function readManifest(file: string): Promise<Manifest | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let parsed: { models?: unknown; series?: unknown };
  try {
    parsed = JSON.parse(text) as { models?: unknown; series?: unknown };
  } catch {
    return undefined;
  }
  const models = Array.isArray(parsed?.models) ? parsed.models.filter((m): m is ManifestModel => typeof m?.file === 'string') : [];
  const series = Array.isArray(parsed?.series) ? parsed.series.filter((s): s is Manifest['series'][number] => Array.isArray(s?.dynamics)) : [];
  return { models, series };
}

/** Properties of a bundled model (its modality and masking) that apply whatever sample it explains. */
const MODEL_PROPERTIES = ['modality', 'grid', 'maskToken', 'maskMode', 'clusters'] as const;

/**
 * A bundled model's properties, from its explain arguments (the modality alone when it has none).
 * @param entry - the manifest entry
 * @returns modality, grid, maskToken, maskMode, clusters: those it sets
 */
export function modelDefaults(entry: ManifestModel): Record<string, unknown> {
  const flags: Record<string, unknown> = entry.explain ? parseCommand(COMMANDS.explain, entry.explain) : {};
  if (flags.modality === undefined && entry.modality !== undefined) flags.modality = entry.modality;
  return Object.fromEntries(MODEL_PROPERTIES.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
}

/**
 * A request with the model's defaults where it left them out (none when it asks for another modality).
 * @param request - the request (CLI flags or a service body)
 * @param entry - the model's manifest entry, if it has one
 * @returns the request, completed
 */
export function withModelDefaults<T extends Record<string, unknown>>(request: T, entry: ManifestModel | undefined): T {
  if (!entry) return request;
  const defaults = modelDefaults(entry);
  // the model's masking belongs to its modality: a request for another modality keeps none of it
  if (request.modality !== undefined && request.modality !== defaults.modality) return request;
  return { ...Object.fromEntries(Object.entries(defaults).filter(([k]) => request[k] === undefined)), ...request } as T;
}
