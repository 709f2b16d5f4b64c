// The request schemas, composed from the fields of fields.ts: what the library accepts (with the JavaScript-only
// forms: bytes, typed arrays, signals, callbacks), what the HTTP service accepts (JSON only, no file paths), and the
// engine's and the service's own options. Unknown keys are refused everywhere.
import Type, { type TProperties, type TSchema } from 'typebox';
import {
  analysisFields, baselineFields, batchFields, dynamicsFields, engineFields, inputFields, MODALITIES, playerFields, rewardFields, runFields, serveFields, sourceFields,
} from './fields.js';
import { SPARSE_PLAYER_LIMIT } from './constants.js';

/** Makes every field of a group optional. */
function optional<T extends TProperties>(fields: T): { [K in keyof T]: ReturnType<typeof Type.Optional<T[K]>> } {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as never;
}

/** A value only the library can pass (bytes, typed arrays, objects built in JavaScript, signals, callbacks). Its
 *  shape is checked where it is used; JSON interfaces never carry it. */
function libraryOnly(description: string): TSchema {
  return Type.Unknown({ description, 'x-library-only': true });
}

const strict = { additionalProperties: false } as const;

/** The explain options that JSON can carry, shared by the library, the CLI and HTTP. */
export const explainOptionFields = {
  ...optional({ input: inputFields.input, output: inputFields.output }),
  ...optional(playerFields),
  ...optional(baselineFields),
  ...optional(rewardFields),
  ...optional(analysisFields),
  ...optional(runFields),
};

/** Library: engine.explain(request). */
export const ExplainRequestSchema = Type.Object(
  {
    model: Type.Union([sourceFields.model, libraryOnly('the bytes of an ONNX file (Uint8Array)')]),
    sample: Type.Union([sourceFields.sample, libraryOnly('a Sample object {values, label?, id?, tokens?}')]),
    ...optional({ row: inputFields.row }),
    ...explainOptionFields,
    modality: Type.Optional(Type.Enum([...MODALITIES], { description: `${(playerFields.modality as unknown as { description: string }).description}; custom (library): per-element owners` })),
    custom: Type.Optional(libraryOnly('modality custom: {owners, baseline?, names?}')),
    baseline: Type.Optional(Type.Union([baselineFields.baseline, libraryOnly('a Float64Array, one value per input element, or a SampleSet whose first row is the baseline')])),
    reference: Type.Optional(Type.Union([sourceFields.reference, libraryOnly('a SampleSet')])),
    signal: Type.Optional(libraryOnly('an AbortSignal that cancels the job')),
    onProgress: Type.Optional(libraryOnly('(done, total) => void, called as masks are evaluated')),
  },
  strict,
);

/** Library: engine.explainValues(request), a game given as v on all 2^n masks. */
export const GameRequestSchema = Type.Object(
  {
    values: Type.Union([sourceFields.values, Type.Array(Type.Number()), libraryOnly('a Float64Array')]),
    ...optional({ names: playerFields.names }),
    ...optional(analysisFields),
    signal: Type.Optional(libraryOnly('an AbortSignal that cancels the decomposition')),
  },
  strict,
);

/** The explain options every pair of a dynamics run shares (no per-sample target or row). */
const pairFields = (() => {
  const { target: _target, ...rest } = ExplainRequestSchema.properties;
  const { model: _m, sample: _s, row: _r, signal: _sig, onProgress: _p, ...pair } = rest;
  return pair;
})();

/** Library: engine.dynamics(request). */
export const DynamicsRequestSchema = Type.Object(
  {
    checkpoints: dynamicsFields.checkpoints,
    samples: Type.Union([dynamicsFields.samples, libraryOnly('a SampleSet')]),
    ...optional({ losses: Type.Union([dynamicsFields.losses, libraryOnly('a LossTable object')]) }),
    ...optional({ referenceModels: dynamicsFields.referenceModels, cacheDir: dynamicsFields.cacheDir, gapTolerance: dynamicsFields.gapTolerance, concurrency: dynamicsFields.concurrency }),
    ...pairFields,
    signal: Type.Optional(libraryOnly('an AbortSignal that cancels the run (finished pairs stay cached)')),
    onProgress: Type.Optional(libraryOnly('({done, total, cached, model}) => void')),
  },
  strict,
);

/** Library: engine.explainBatch(request), many samples of one model. */
export const BatchRequestSchema = Type.Object(
  {
    model: ExplainRequestSchema.properties.model,
    samples: Type.Union([batchFields.samples, libraryOnly('a SampleSet')]),
    ...optional({ rows: batchFields.rows, cacheDir: batchFields.cacheDir, concurrency: batchFields.concurrency }),
    ...pairFields,
    signal: Type.Optional(libraryOnly('an AbortSignal that cancels the batch (finished samples stay cached)')),
    onProgress: Type.Optional(libraryOnly('({done, total, cached, etaMs}) => void')),
    onResult: Type.Optional(libraryOnly('(result, {index, row, cached}) => void, as each sample finishes')),
  },
  strict,
);

/** A sample as JSON: numbers (nested for images), or one array per model input. */
export const JsonSampleSchema = Type.Union(
  [Type.Array(Type.Unknown(), { minItems: 1, description: 'numbers, nested as the input is (e.g. C×H×W)' }), Type.Record(Type.String(), Type.Array(Type.Unknown(), { minItems: 1 }), { description: 'one array per model input, by input name' })],
  { description: 'the sample: a JSON array (nested for images), or {"inputName": array, ...} for several inputs' },
);

/** HTTP: POST /explain. JSON only: no file paths (the model is a name inside the service's folder). */
export const ExplainBodySchema = Type.Object(
  {
    model: Type.String({ minLength: 1, description: 'file name of a model, relative to the service\'s models folder (GET /models lists them)' }),
    sample: JsonSampleSchema,
    label: Type.Optional(Type.Integer({ minimum: 0, description: 'the sample\'s label (the default target)' })),
    arrays: Type.Optional(Type.Boolean({ default: true, description: 'include v, and and or in the reply' })),
    ...explainOptionFields,
    reference: Type.Optional(Type.Array(JsonSampleSchema, { minItems: 1, maxItems: 100_000, description: 'rows for the mean and marginal baselines, each in the form of sample; refused with another baseline, which would ignore it' })),
  },
  { ...strict, description: 'Explain one sample of a model' },
);

/** HTTP: POST /explain/batch. */
export const BatchBodySchema = Type.Object(
  {
    model: ExplainBodySchema.properties.model,
    samples: Type.Array(JsonSampleSchema, { minItems: 1, maxItems: 10_000, description: 'the samples, each in the form of POST /explain\'s sample' }),
    labels: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { description: 'one label per sample (each sample\'s default target)' })),
    arrays: Type.Optional(Type.Boolean({ default: false, description: 'include v, and and or in each sample\'s result' })),
    ...(({ names: _n, target: _t, ...rest }) => rest)(explainOptionFields),
    reference: ExplainBodySchema.properties.reference,
  },
  { ...strict, description: 'Explain many samples of one model, and aggregate them' },
);

/** HTTP: POST /explain/values, a game the client evaluated itself, as its values on all 2^n masks (the exact
 *  analysis; no model and no paths). */
export const ValuesBodySchema = Type.Object(
  {
    values: Type.Array(Type.Number(), { minItems: 2, description: 'v on all 2^n masks, n ≥ 1 (bit i of the index = player i): 2^n finite numbers, at most 2^maxPlayers' }),
    ...optional({ names: playerFields.names }),
    arrays: ExplainBodySchema.properties.arrays,
    ...optional(analysisFields),
  },
  { ...strict, description: 'Explain a game given as its values on all 2^n masks' },
);

/** Library: createEngine(options). */
export const EngineOptionsSchema = Type.Object(
  {
    ...optional(engineFields),
    logger: Type.Optional(libraryOnly('{warn(message), info(message)}: where the engine\'s messages go')),
    queue: Type.Optional(libraryOnly('an executor from createQueueExecutor: explainBatch and dynamics send their units through it (the caller closes it)')),
  },
  strict,
);

/** Library: serve(engine, options). */
export const ServeOptionsSchema = Type.Object({ modelsDir: serveFields.modelsDir, ...optional((({ modelsDir: _d, ...rest }) => rest)(serveFields)) }, strict);

/** Library: engine.explainFunction(request), a game given as a function of bit-packed masks (the sparse method). */
export const FunctionRequestSchema = Type.Object(
  {
    game: libraryOnly('(masks: MaskBatch, signal?) => Float64Array | Promise<Float64Array>: the game, one value per mask row'),
    n: Type.Integer({ minimum: 1, maximum: SPARSE_PLAYER_LIMIT, description: 'number of players' }),
    ...optional({ budget: runFields.budget, maxOrder: runFields.maxOrder, tolerance: runFields.tolerance, names: playerFields.names }),
    ...optional({ salientRatio: analysisFields.salientRatio, salientIncludeEmpty: analysisFields.salientIncludeEmpty, indexOrder: analysisFields.indexOrder }),
    signal: Type.Optional(libraryOnly('an AbortSignal that cancels the recovery between game calls')),
    onProgress: Type.Optional(libraryOnly('(done, total) => void, called as the game is evaluated')),
  },
  strict,
);
