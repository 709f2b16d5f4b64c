// A unit (or one shard of a unit: a range of its masks) as a job's payload and back: the model by hash (bytes in the
// store), the sample (in the job, or in the store when large), options, names, row and target in the exact codec of
// engine/explain/cache.ts. Rebuilding a unit recomputes its key (and a shard's); a payload that rebuilds under another
// key (different andor versions, a value the codec cannot carry) is refused, so no result is ever stored under a wrong
// key.
import { InvalidInputError, InvalidOptionError } from '../contracts/errors.js';
import { decodeEntry, encodeEntry, optionsDigest, sampleDigest } from '../explain/cache.js';
import { explainUnit, shardKey, type ExplainUnit, type ShardSpec, type UnitOptions } from '../explain/units.js';
import type { Sample } from '../inputs/samples.js';
import { assertSha256, sha256Of } from './store.js';
import { preview } from '../inputs/preview.js';

/** The payload format; a worker refuses any other. 2: shard jobs, and results stored with their layout's indices as
 *  runs (result-codec.ts), which a version-1 client would misread. 3: a shard ranges over the masks of the unit's
 *  changing players (ShardSpec.players), which a version-2 worker would read as masks of every player. */
export const PAYLOAD_VERSION = 3;
/** Encoded samples up to this size travel in the job by default; larger ones through the store. */
export const INLINE_SAMPLE_BYTES = 64 * 1024;

/** A unit as a job's data (JSON). */
export interface UnitPayload {
  readonly v: typeof PAYLOAD_VERSION;
  /** The job's content key (its singleton key): the unit's, or the shard's. */
  readonly key: string;
  /** A shard of the unit (its key is then `unit`): the job evaluates these masks only and stores their rewards. */
  readonly shard?: ShardSpec & { readonly unit: string };
  readonly model: { readonly sha256: string; readonly file?: string };
  readonly row: number;
  readonly target?: number;
  /** encodeEntry(sample), or the store's hash of its UTF-8 bytes (a large sample) */
  readonly sample: string | { readonly stored: string };
  /** encodeEntry({options, names}) */
  readonly shared: string;
  /** The run that queued it (for logs). */
  readonly run: string;
  /** The id of the store its client put the model in (ModelStore.id), when the store has ids: a worker whose own
   *  store answers another id gives the job back unrun. */
  readonly store?: string;
}

/** Encodes units' payloads; the options and names every unit of a run shares are encoded (and checked) once. */
export class PayloadEncoder {
  private readonly shared = new WeakMap<object, WeakMap<object, string>>();

  /**
   * @param run - the id of the run
   * @param inlineSampleBytes - encoded samples longer than this go through the store
   */
  constructor(
    private readonly run: string,
    private readonly inlineSampleBytes = INLINE_SAMPLE_BYTES,
  ) {}

  /** The id of the store the client puts models in (ModelStore.id), written into every payload from then on. */
  store?: string;

  /**
   * The payload of a unit, checked to decode into the same unit (the same content key) on a worker.
   * @throws InvalidOptionError when the unit holds a value the codec does not carry exactly (its key would change)
   */
  encode(unit: ExplainUnit, shard?: ShardSpec): { payload: UnitPayload; blob?: Uint8Array } {
    const text = encodeEntry(unit.sample);
    // a sample of Float64Arrays and plain fields always round-trips; anything else is decoded and compared
    if (!isPlainSample(unit.sample) && sampleDigest(decodeEntry(text) as Sample) !== sampleDigest(unit.sample)) throw notCarried(unit, 'sample');
    const blob = text.length > this.inlineSampleBytes ? Buffer.from(text) : undefined;
    const sample = blob ? { stored: sha256Of(blob) } : text;
    const payload: UnitPayload = {
      v: PAYLOAD_VERSION,
      key: shard ? shardKey(unit, shard) : unit.key,
      ...(shard ? { shard: { unit: unit.key, start: shard.start, end: shard.end, batch: shard.batch, target: shard.target, players: shard.players } } : {}),
      model: { sha256: unit.model.sha256, ...(unit.model.file !== undefined ? { file: unit.model.file } : {}) },
      row: unit.row,
      ...(unit.target !== undefined ? { target: unit.target } : {}),
      sample,
      shared: this.sharedOf(unit),
      run: this.run,
      ...(this.store !== undefined ? { store: this.store } : {}),
    };
    return blob ? { payload, blob } : { payload };
  }

  private sharedOf(unit: ExplainUnit): string {
    // the units of one run share their options and names objects by reference: one encoding (and check) per pair
    let byNames = this.shared.get(unit.options);
    if (!byNames) this.shared.set(unit.options, (byNames = new WeakMap()));
    let text = byNames.get(unit.names);
    if (text === undefined) {
      text = encodeEntry({ options: unit.options, names: unit.names });
      const decoded = decodeEntry(text) as { options: UnitOptions; names: ExplainUnit['names'] } | undefined;
      if (!decoded || optionsDigest(decoded) !== optionsDigest({ options: unit.options, names: unit.names })) throw notCarried(unit, 'options');
      byNames.set(unit.names, text);
    }
    return text;
  }
}

function isPlainSample(sample: Sample): boolean {
  const values = sample.values instanceof Float64Array ? [sample.values] : Object.values(sample.values ?? {});
  return values.length > 0 && values.every((v) => v instanceof Float64Array) && (sample.label === undefined || Number.isFinite(sample.label));
}

function notCarried(unit: ExplainUnit, what: string): InvalidOptionError {
  return new InvalidOptionError(
    `Unit of row ${unit.row} cannot be queued: its ${what} hold a value the queue cannot carry exactly (typed arrays other than Float64Array, Int32Array and Uint8Array; functions; non-finite numbers), so a worker would compute another content key. Give plain numbers and those typed arrays.`,
  );
}

/**
 * The payload version of a job queued by another andor version (a positive integer other than PAYLOAD_VERSION), else
 * undefined: a job this worker can read, or one that is no andor unit at all (assertPayload refuses it).
 * @param data - a job's data
 */
export function otherPayloadVersion(data: unknown): number | undefined {
  const v = (data as { v?: unknown } | null)?.v;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v !== PAYLOAD_VERSION ? v : undefined;
}

/**
 * Checks that a job's data is a unit payload of this version.
 * @throws InvalidInputError when it is not
 */
export function assertPayload(data: unknown): asserts data is UnitPayload {
  const p = data as Partial<UnitPayload> | null;
  if (!p || typeof p !== 'object' || p.v !== PAYLOAD_VERSION) {
    throw new InvalidInputError(`A job's data is not an andor unit of payload version ${PAYLOAD_VERSION} (got version ${preview(p?.v)}): the client and this worker run different andor versions; run the same version on both.`);
  }
  assertSha256(p.model?.sha256, 'payload.model.sha256');
  const sampleOk = typeof p.sample === 'string' || (typeof p.sample === 'object' && p.sample !== null && typeof p.sample.stored === 'string');
  if (typeof p.key !== 'string' || !sampleOk || typeof p.shared !== 'string' || !Number.isInteger(p.row)) {
    throw new InvalidInputError('A job\'s data lacks its key, sample, options or row; it was not queued by andor.');
  }
  if (typeof p.sample === 'object') assertSha256(p.sample.stored, 'payload.sample.stored');
  if (p.store !== undefined && typeof p.store !== 'string') throw new InvalidInputError(`The payload of job ${p.key} has a malformed store id (${preview(p.store)}).`);
  const shard = p.shard;
  if (shard !== undefined && (typeof shard !== 'object' || shard === null || typeof shard.unit !== 'string' || ![shard.start, shard.end, shard.batch, shard.target, shard.players].every(Number.isInteger))) {
    throw new InvalidInputError(`The payload of job ${p.key} has a malformed shard (unit key, start, end, batch, target and players expected).`);
  }
}

/**
 * Rebuilds a unit from its payload, its model's bytes and its sample's encoding, recomputing its content key.
 * @param data - a job's data
 * @param bytes - the model's bytes (already checked against payload.model.sha256 by the store)
 * @param sampleText - the sample's encoding: payload.sample itself, or the store's bytes it names, as text
 * @throws InvalidInputError when the payload is not a unit payload of this version
 */
export function decodePayload(data: unknown, bytes: Uint8Array, sampleText: string): ExplainUnit {
  assertPayload(data);
  const p = data;
  const sample = decodeEntry(sampleText) as Sample | undefined;
  const shared = decodeEntry(p.shared) as { options: UnitOptions; names: ExplainUnit['names'] } | undefined;
  if (!sample || typeof sample !== 'object' || !shared || typeof shared.options !== 'object' || typeof shared.names !== 'object') {
    throw new InvalidInputError(`The payload of unit ${p.key} cannot be decoded (its sample or options are not well-formed).`);
  }
  const model = { bytes, sha256: p.model.sha256, ...(p.model.file !== undefined ? { file: p.model.file } : {}) };
  return explainUnit(model, sample, p.row, shared.options, shared.names, p.target);
}

/**
 * Rebuilds a unit (and the shard of it a shard job names) and checks that it is what the job names.
 * @throws InvalidInputError when the content key of the rebuilt unit differs from the payload's
 */
export function unitFromPayload(data: unknown, bytes: Uint8Array, sampleText: string): { unit: ExplainUnit; shard?: ShardSpec } {
  const unit = decodePayload(data, bytes, sampleText);
  const { key, shard } = data as UnitPayload;
  const [what, expected, rebuilt] = shard && unit.key === shard.unit ? ['shard', key, shardKey(unit, shard)] : ['unit', shard?.unit ?? key, unit.key];
  if (rebuilt !== expected) {
    throw new InvalidInputError(`The payload of job ${key} rebuilds as ${what} ${rebuilt}, not ${expected}: the client and this worker compute keys differently (different andor versions?). Run the same version on both.`);
  }
  return shard ? { unit, shard } : { unit };
}
