// The models folder's manifest.json: each bundled model's file, name, modality and the explain arguments that show it
// (their model properties are its defaults wherever the model is named: the CLI's --model, the service's body.model),
// and the bundled training series. A missing, unreadable or malformed manifest is no manifest: never an error.
import { readFile } from 'node:fs/promises';
import { Compile } from 'typebox/compile';
import { ExplainBodySchema } from '../contracts/schema/requests.js';
import { ignoredOptions, type ExplainRequest } from '../explain/explain.js';
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
  const models = Array.isArray(parsed?.models) ? parsed.models.filter((m): m is ManifestModel => typeof m?.file === 'string').map(wellFormed) : [];
  const series = Array.isArray(parsed?.series) ? parsed.series.filter((s): s is Manifest['series'][number] => Array.isArray(s?.dynamics)) : [];
  return { models, series };
}

/** An entry with its fields of the wrong type left out (a name {…} listed by GET /models against its schema, explain
 *  arguments that are not strings): the rest of the entry still serves. */
function wellFormed(entry: ManifestModel): ManifestModel {
  const { name, modality, explain } = entry as { name?: unknown; modality?: unknown; explain?: unknown };
  return {
    ...entry,
    name: typeof name === 'string' ? name : undefined,
    modality: typeof modality === 'string' ? modality : undefined,
    explain: Array.isArray(explain) && explain.every((a) => typeof a === 'string') ? explain : undefined,
  };
}

/** Properties of a bundled model (its modality and masking) that apply whatever sample it explains. */
const MODEL_PROPERTIES = ['modality', 'grid', 'maskToken', 'maskMode', 'clusters'] as const;

/** Each property's check, as a request's field: a manifest's value is a default only when a request could give it. */
const PROPERTY_CHECKS = Object.fromEntries(MODEL_PROPERTIES.map((k) => [k, Compile(ExplainBodySchema.properties[k])]));

/**
 * A bundled model's properties, from its explain arguments (the modality alone when it has none).
 * @param entry - the manifest entry
 * @returns modality, grid, maskToken, maskMode, clusters: those it sets
 */
export function modelDefaults(entry: ManifestModel): Record<string, unknown> {
  let flags: Record<string, unknown> = {};
  try {
    if (entry.explain) flags = parseCommand(COMMANDS.explain, entry.explain);
  } catch {
    // arguments the CLI refuses ("--bogus") set nothing: the request that names the model did not give them
  }
  if (flags.modality === undefined && entry.modality !== undefined) flags.modality = entry.modality;
  // a value no request could give (modality 5, grid "banana") is no default: it was refused as the request's own field
  return Object.fromEntries(MODEL_PROPERTIES.filter((k) => flags[k] !== undefined && PROPERTY_CHECKS[k].Check(flags[k])).map((k) => [k, flags[k]]));
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
  const filled = { ...Object.fromEntries(Object.entries(defaults).filter(([k]) => request[k] === undefined)), ...request };
  // a default the request's own options make ignored is dropped, not refused: the model's --mask-token under the
  // caller's --mask-mode attention
  for (const key of ignoredOptions(filled as unknown as ExplainRequest)) if (request[key] === undefined) delete (filled as Record<string, unknown>)[key];
  return filled as T;
}
