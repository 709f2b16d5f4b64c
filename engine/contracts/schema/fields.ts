// Every option andor accepts, declared once as TypeBox (JSON Schema) fields with a description and a default. The
// library's validation, the CLI's flags and --help, the HTTP body schemas, the OpenAPI document and the README's
// option tables are all built from these declarations. Pure data: nothing here validates or parses by itself.
import Type, { type TSchema } from 'typebox';
import { BACKENDS, BASELINE_KEYWORDS, DEFAULT_INDEX_ORDER, DEFAULT_SOLVER, KERNEL_TARGETS, MODALITIES, PRESETS, REWARDS, SOLVER_DEFAULTS, SOLVERS } from './constants.js';
import { DEFAULT_MAX_ORDER, DEFAULT_SPARSE_BUDGET, METHODS, SERVE_MAX_BATCH_SIZE, SERVE_MAX_BUDGET, SERVE_MAX_SPARSE_PLAYERS, SPARSE_PLAYER_LIMIT } from './constants.js';
import { CONVENTIONS } from './constants.js';

export { BACKENDS, BASELINE_KEYWORDS, DEFAULT_SOLVER, KERNEL_TARGETS, MODALITIES, PRESETS, REWARDS, SOLVER_DEFAULTS, SOLVERS };

/** A field: its JSON Schema with a `description`, a `default` where one is fixed, and `x-arg`, the placeholder a
 *  command line shows for its value (an annotation; validators ignore it). */
export type Field = TSchema;

/** An enum field (JSON Schema `enum`). */
function choice<const T extends readonly string[]>(values: T, description: string, defaultValue?: T[number]) {
  return Type.Enum(values as unknown as T[number][], { description, ...(defaultValue === undefined ? {} : { default: defaultValue }) });
}

const solverDefaults = Object.entries(SOLVER_DEFAULTS).map(([s, d]) => `${s} ${d.iterations}`).join(', ');
const lrDefaults = Object.entries(SOLVER_DEFAULTS).map(([s, d]) => `${s} ${d.lr}`).join(', ');

/** Where the model, the sample, a game's values and the reference rows come from (paths or inline JSON). */
export const sourceFields = {
  model: Type.String({ minLength: 1, description: 'path of the ONNX model (exported from PyTorch with a batch axis, or a fixed batch)', 'x-arg': 'FILE' }),
  sample: Type.String({ minLength: 1, description: 'the sample: inline JSON, or a .json, .csv or .npy file (one sample per row)', 'x-arg': 'SRC' }),
  values: Type.String({ minLength: 1, description: 'explain a game instead of a model: v on all 2^n masks, as JSON or raw little-endian float64 (bit i of the index = player i)', 'x-arg': 'FILE' }),
  reference: Type.String({ minLength: 1, description: 'rows for the mean and marginal baselines: a sample file (default: the rows of the sample file); refused with another baseline, which would ignore it', 'x-arg': 'SRC' }),
} satisfies Record<string, Field>;

/** The model input and output, and the sample row. */
export const inputFields = {
  row: Type.Integer({ minimum: 0, default: 0, description: 'row of a multi-sample source', 'x-arg': 'K' }),
  input: Type.String({ minLength: 1, description: 'the model input to mask (default: the first input; text: the token ids)', 'x-arg': 'NAME' }),
  output: Type.String({ minLength: 1, description: 'the model output to read (default: the first output)', 'x-arg': 'NAME' }),
} satisfies Record<string, Field>;

/** How the input splits into players. */
export const playerFields = {
  modality: choice(MODALITIES.filter((m) => m !== 'custom'), 'how players map to input elements: tabular (feature columns), image (grid cells over H×W), text (token positions), pointcloud (point clusters); default: the manifest entry of a bundled model, else tabular'),
  players: Type.Union([Type.String({ minLength: 1, maxLength: 10_000 }), Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 100_000 })], {
    description: 'player units, e.g. "0-9" or "1,3,5": feature columns, grid cells (row-major), token positions or clusters (default: all)',
    'x-arg': 'LIST',
  }),
  grid: Type.Union([Type.String({ pattern: '^\\d+x\\d+$', 'x-example': 'a string "RxC" such as "7x7"' }), Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })])], { description: 'image: the grid of cells over H×W, "RxC"', default: '4x4', 'x-arg': 'RxC' }),
  blurSigma: Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'image: σ in pixels of the blur baseline (default: half a cell)', 'x-arg': 'S' }),
  maskToken: Type.Integer({ minimum: 0, maximum: 2147483647, description: 'text: the token id written at absent positions (an index into the vocabulary: 0 or more)', 'x-arg': 'ID' }),
  maskMode: choice(['token', 'attention'], 'text: replace absent tokens with the mask token, or zero the attention mask there', 'token'),
  clusters: Type.Integer({ minimum: 1, maximum: 4096, default: 10, description: 'pointcloud: number of clusters', 'x-arg': 'K' }),
  names: Type.Array(Type.String(), { minItems: 1, description: 'player names (default: the sample file\'s feature names, else x0, x1, …)', 'x-arg': 'A,B,…' }),
  background: choice(['keep', 'mask'], 'elements that belong to no player keep their value, or take the baseline', 'keep'),
} satisfies Record<string, Field>;

/** The baseline that absent players take. */
export const baselineFields = {
  baseline: Type.Union([choice(BASELINE_KEYWORDS, 'a keyword'), Type.Array(Type.Number(), { minItems: 1 })], {
    description: 'zero, mean (of the reference rows), marginal (the reward averaged over the reference rows, each in turn the baseline), blur (image), centroid or center (pointcloud), or one value per input element',
    default: 'zero',
    'x-arg': 'B',
  }),
} satisfies Record<string, Field>;

/** The scalar explained. */
export const rewardFields = {
  target: Type.Integer({ minimum: 0, description: 'the class explained (or output element for reward output); default: the sample\'s label, else the predicted class', 'x-arg': 'K' }),
  reward: choice(REWARDS, 'the reward v: log-odds of the target class, its logit, or one raw output; -v0 subtracts v(∅)', 'gt-log-odds'),
} satisfies Record<string, Field>;

/** The AND-OR decomposition and the salient threshold. */
export const analysisFields = {
  decomposition: choice(['and', 'and-or'], 'and-or: learn the AND-OR split (γ, q), then reorganize; and: Harsanyi dividends of v + q', 'and-or'),
  preset: choice(PRESETS, 'default: the fastest solver measured (PDHG on v/s); reference: the authors\' SGD with raw lr (for comparison with their code; it diverges from about n = 11); authors: the authors\' SGD on v/s with a learning rate relative to the game\'s scale and size (step lr·2^−n, default lr 0.03, 10000 iterations), for any n and checkpoint; none: γ = q = 0', 'default'),
  iterations: Type.Integer({ minimum: 1, maximum: 10_000_000, description: `solver iterations (default per solver: ${solverDefaults}; reference: the authors' niter, N−1 updates)`, 'x-arg': 'N' }),
  lr: Type.Number({ exclusiveMinimum: 0, description: `learning rate: reference and sgd the authors' raw lr (lr_t = lr·10^(−t/(N−1))), adam on v/s, pdhg its primal weight ω (default per solver: ${lrDefaults})`, 'x-arg': 'X' }),
  qthres: Type.Number({ minimum: 0, default: 0.04, description: 'noise bound |q_T| ≤ qthres·|v(N) − v(∅)|', 'x-arg': 'X' }),
  solver: choice(SOLVERS, 'the solver of preset default; lp: the least L1 objective exactly, from the split\'s linear program (at most 10 players, a median 1.6 s per game at 10 in bench/decompose.bench.js; no iterations or lr), where pdhg stops near it', DEFAULT_SOLVER),
  salientRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.05, description: 'an interaction is salient when |I| ≥ ratio · max|I| over the non-empty sets', 'x-arg': 'R' }),
  salientIncludeEmpty: Type.Boolean({ default: false, description: 'count the ∅ term in that max (the authors\' code does)' }),
  indexOrder: Type.Integer({ minimum: 0, maximum: 8, default: DEFAULT_INDEX_ORDER, description: 'largest order of the interaction indices reported (SII, k-SII, STII, FSII, BII, CHII, FBII; 0: none); Shapley and Banzhaf values are always reported', 'x-arg': 'K' }),
  conventions: choice(CONVENTIONS, 'whose defaults fill the options left out: andor (the project\'s decisions) or authors (the authors\' code: salient max including ∅ (salientIncludeEmpty true), their optimizer (preset authors), their q bound (qthres 0.04 of |v(N) − v(∅)|) and the log-odds reward gt-log-odds); options given explicitly still win', 'andor'),
} satisfies Record<string, Field>;

/** How one job runs. */
export const runFields = {
  batchSize: Type.Integer({ minimum: 1, maximum: 1 << 20, description: 'rows per model run (default: about 16 MiB of input, at most 1024 rows and at most max(8, 2 GiB / model size) rows; fixed-batch models use their batch size)', 'x-arg': 'N' }),
  method: choice(
    METHODS,
    `exact: evaluate all 2^n masks and learn the AND-OR split (andor.explain/1); sparse: recover the AND interactions (Möbius terms of v) and the OR interactions (through the complement game) up to maxOrder from a budget of evaluations, for up to ${SPARSE_PLAYER_LIMIT} players, without a learned split (andor.sparse/1). Default: sparse when budget or maxOrder is given or when the 2^n arrays do not fit the memory (maxMemoryMb; the kernels' 4 GiB: 24 players), else exact`,
  ),
  budget: Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: `sparse: most model evaluations, the AND and OR expansions together (default ${DEFAULT_SPARSE_BUDGET}; a budget of at least 2^n evaluates every mask and is exact, up to n = 20)`, 'x-arg': 'N' }),
  maxOrder: Type.Integer({ minimum: 1, maximum: SPARSE_PLAYER_LIMIT, description: `sparse: largest interaction order recovered (default ${DEFAULT_MAX_ORDER}, at most n)`, 'x-arg': 'D' }),
  tolerance: Type.Union([Type.Number({ minimum: 0, exclusiveMaximum: 1 }), Type.Literal('auto')], {
    description: "sparse: noise floor of the search, as a share of |v(N) − v(∅)|: the search treats v as noisy with σ = tolerance·|v(N) − v(∅)|, so a residual counts as a term only above 6σ·√(1 + terms in its mask) (terms under about 6 times the floor are left out), and the found terms are refitted by least squares, so a model's dense tail of tiny coefficients is left out instead of spending the budget (default: auto, stages 1e-2, 1e-3, 1e-4, 0, each kept while it fits validation masks better; 0: every non-zero residual is a term)",
    'x-arg': 'R',
  }),
} satisfies Record<string, Field>;

/** createEngine's options: where and how models run. */
export const engineFields = {
  backend: choice(BACKENDS, 'auto tries CUDA, then the native CPU, then WASM; cpu, cuda and wasm ask for one', 'auto'),
  workers: Type.Integer({ minimum: 0, maximum: 256, description: 'worker threads for evaluation (default: one per core, at most 8; 0: the calling thread)', 'x-arg': 'N' }),
  threads: Type.Integer({ minimum: 1, maximum: 1024, description: 'intra-op threads per session (default: cores / workers)', 'x-arg': 'N' }),
  kernels: choice(KERNEL_TARGETS, 'kernel build (debug has assertions on)', 'release'),
  maxMemoryMb: Type.Integer({ minimum: 1, maximum: 1 << 22, default: 4096, description: 'memory budget for one explanation\'s arrays, in MiB', 'x-arg': 'MB' }),
  maxPlayers: Type.Integer({ minimum: 1, maximum: 30, description: 'most players one explanation may have (default 30 for the library and the CLI, 16 for the service)', 'x-arg': 'N' }),
} satisfies Record<string, Field>;

/** A dynamics run over training checkpoints. */
export const dynamicsFields = {
  checkpoints: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
    description: 'a folder (its epoch-*.onnx files, else all .onnx, in epoch order) or a comma-separated list of ONNX files',
    'x-arg': 'DIR|LIST',
  }),
  samples: Type.String({ minLength: 1, description: 'sample set whose samples carry "label" and "split": train, test or ood', 'x-arg': 'FILE' }),
  losses: Type.String({ minLength: 1, description: 'train/test losses: {"checkpoints": [{"name", "trainLoss", "testLoss"}]}, matched by file name; a JSON file or inline JSON', 'x-arg': 'FILE' }),
  referenceModels: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }))], { description: 'K models trained on the test split: which interactions generalize', 'x-arg': 'LIST' }),
  cacheDir: Type.Union([Type.String({ minLength: 1 }), Type.Literal(false)], { default: '.andor-cache', description: 'folder of cached (model, sample) results, keyed by content; a rerun resumes from it (false: no cache)', 'x-arg': 'DIR' }),
  gapTolerance: Type.Number({ minimum: 0, default: 0.02, description: 'rise of the loss gap over its running minimum that marks over-fitting', 'x-arg': 'X' }),
  concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: '(checkpoint, sample) pairs in flight', 'x-arg': 'N' }),
} satisfies Record<string, Field>;

/** Many samples of one model in one run (andor explain --samples). */
export const batchFields = {
  samples: Type.String({ minLength: 1, description: 'explain many samples of the model: a sample file (its rows chosen by --rows); one result per sample is streamed as a JSON line, then their aggregate', 'x-arg': 'FILE' }),
  rows: Type.String({ minLength: 1, pattern: '^(all|[ \\t]*[0-9][0-9,\\- \\t]*)$', default: 'all', description: 'the rows of the sample file: all, or a list like 0-99 or 3,5,8-12', 'x-arg': 'ROWS', 'x-example': '"all", or row numbers ≥ 0 and ranges like "0-99" or "3,5,8-12"' }),
  cacheDir: dynamicsFields.cacheDir,
  concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'samples in flight', 'x-arg': 'N' }),
} satisfies Record<string, Field>;

/** A batch or dynamics run whose units go through a job queue (pg-boss on PostgreSQL) to `andor worker`s. */
export const queueFields = {
  queue: Type.String({ minLength: 1, pattern: '^postgres(ql)?://', description: 'PostgreSQL URL of a job queue: the units go to the `andor worker`s that serve it, and their results are stored in its database by content, for any rerun or client', 'x-arg': 'URL', 'x-example': 'a PostgreSQL URL like "postgres://user@host/db"' }),
  store: Type.String({ minLength: 1, description: 'folder of the model store (models by content hash), shared by the clients and every worker of --queue', 'x-arg': 'DIR' }),
  leaseSeconds: Type.Integer({ minimum: 2, maximum: 604_800, default: 60, description: 'a unit whose worker is silent this long goes to another worker (a live worker renews its lease)', 'x-arg': 'S' }),
  shardMasks: Type.Integer({ minimum: 0, maximum: 2 ** 30, default: 0, description: 'split each unit into shards of about N of its masks, which the workers evaluate, for slow models or large n; the transforms run here once they are gathered (0: whole units)', 'x-arg': 'N' }),
  reconnectMs: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 60_000, description: 'how long to keep retrying while the database is unreachable', 'x-arg': 'MS' }),
} satisfies Record<string, Field>;

/** `andor worker`'s options: it serves a job queue until SIGINT or SIGTERM (running units finish first). */
export const workerFields = {
  queue: queueFields.queue,
  store: queueFields.store,
  concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 1, description: 'units running at once in this worker', 'x-arg': 'N' }),
  pollMs: Type.Integer({ minimum: 1, maximum: 60_000, default: 250, description: 'how often an idle worker looks for units', 'x-arg': 'MS' }),
  heartbeatMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 1000, description: 'how often the leases of running units are renewed', 'x-arg': 'MS' }),
  maintenanceSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 5, description: 'how often the queue hands the units of silent workers to others', 'x-arg': 'S' }),
  reconnectMs: queueFields.reconnectMs,
  synchronousCommit: Type.Boolean({ default: false, description: 'wait for each commit to reach the disk (every write of the queue can be repeated, so it is off by default)' }),
} satisfies Record<string, Field>;

/** `andor serve`'s options. */
export const serveFields = {
  modelsDir: Type.String({ minLength: 1, description: 'folder of .onnx files the service may explain (nothing outside it is read)', 'x-arg': 'DIR' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'port (0 picks a free one)', 'x-arg': 'P' }),
  host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address to listen on', 'x-arg': 'H' }),
  concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'jobs running at once', 'x-arg': 'N' }),
  queueSize: Type.Integer({ minimum: 0, maximum: 10_000, default: 8, description: 'jobs waiting beyond those; more get 429', 'x-arg': 'N' }),
  bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 1 << 30, default: 1 << 20, description: 'largest request body in bytes; larger get 413', 'x-arg': 'BYTES' }),
  timeoutMs: Type.Integer({ minimum: 1, maximum: 86_400_000, default: 60_000, description: 'a job running longer is cancelled with 504', 'x-arg': 'MS' }),
  requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000, description: 'a request whose headers and body take longer to arrive is cut off (a client trickling its body held a connection for ever)', 'x-arg': 'MS' }),
  maxBudget: Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: SERVE_MAX_BUDGET, description: 'sparse method: most model evaluations one request may ask for (budget; a request without one gets at most this); more get 400', 'x-arg': 'N' }),
  maxBatchSize: Type.Integer({ minimum: 1, maximum: 1 << 20, default: SERVE_MAX_BATCH_SIZE, description: 'most rows per model run one request may ask for (batchSize); more get 400: a model\'s activations grow with the batch, and the memory check counts only its inputs and outputs', 'x-arg': 'N' }),
  maxSparsePlayers: Type.Integer({ minimum: 1, maximum: SPARSE_PLAYER_LIMIT, default: SERVE_MAX_SPARSE_PLAYERS, description: 'sparse method: most players of one request (the exact method keeps --max-players); more get 400', 'x-arg': 'N' }),
} satisfies Record<string, Field>;

/** What the CLI writes. */
export const outputFields = {
  out: Type.String({ minLength: 1, description: 'write the JSON result to FILE (checked before any work starts; written as FILE.partial and renamed at the end, so a failed or interrupted run leaves FILE as it was and what it wrote in FILE.partial)', 'x-arg': 'FILE' }),
  report: Type.String({ minLength: 1, description: 'write a self-contained HTML report to FILE (name it .html; written as FILE.partial like --out, and the two are renamed only once both are whole, so a full disk on one leaves both files as they were)', 'x-arg': 'FILE' }),
  json: Type.Boolean({ default: false, description: 'print the JSON result to stdout instead of the summary' }),
  arrays: Type.Boolean({ default: true, description: 'include v, and, or in the JSON (--no-arrays leaves them out, for large n)' }),
  quiet: Type.Boolean({ default: false, description: 'no summary, no progress' }),
  debug: Type.Boolean({ default: false, description: 'print stack traces of errors' }),
} satisfies Record<string, Field>;
