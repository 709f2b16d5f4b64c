// The keywords and ids of the schemas as plain constants, without TypeBox, so that the package's .d.ts files can
// re-export them without loading TypeBox's types into a consumer's compiler.

/** Reward functions (spec §1.3); the -v0 variants subtract v(∅). */
export const REWARDS = ['gt-log-odds', 'gt-log-odds-v0', 'logit', 'logit-v0', 'output', 'output-v0'] as const;
/** How players map to input elements. `custom` is for the library only (it takes per-element owners). */
export const MODALITIES = ['tabular', 'image', 'text', 'pointcloud', 'custom'] as const;
/** The keyword baselines; a vector of numbers is the other form. */
export const BASELINE_KEYWORDS = ['zero', 'mean', 'marginal', 'blur', 'centroid', 'center'] as const;
export const PRESETS = ['none', 'reference', 'default', 'authors'] as const;
/** Solvers of the split; 'lp' is exact (an LP solver, at most 10 players) and takes no iterations or lr. */
export const SOLVERS = ['sgd', 'adam', 'pdhg', 'lp'] as const;
export const BACKENDS = ['auto', 'cpu', 'cuda', 'wasm'] as const;
export const KERNEL_TARGETS = ['release', 'debug'] as const;
/** Iterations and learning rate per solver when the request gives none (spec §2.2; bench/decompose.bench.js). */
export const SOLVER_DEFAULTS = {
  sgd: { iterations: 10_000, lr: 1e-5 },
  adam: { iterations: 2_000, lr: 0.05 },
  pdhg: { iterations: 2_000, lr: 5 },
} as const;
/** The solver of preset `default`, chosen by bench/decompose.bench.js (objective reached in equal time). */
export const DEFAULT_SOLVER = 'pdhg';

/** Schema id written into every explain result. Bump it when a field changes meaning. */
export const RESULT_SCHEMA = 'andor.explain/1';
/** Schema id of batch results (many samples of one model). */
export const BATCH_SCHEMA = 'andor.batch/1';
/** Schema id of dynamics results. */
export const DYNAMICS_SCHEMA = 'andor.dynamics/1';
/** Largest order of the interaction indices (SII, k-SII, STII, FSII, BII, CHII, FBII) an explanation reports by default. */
export const DEFAULT_INDEX_ORDER = 2;

/** How an explanation is computed: exact (all 2^n masks) or sparse (recovery from a budget of evaluations). */
export const METHODS = ['exact', 'sparse'] as const;
/** Schema id of sparse explain results (term lists instead of 2^n arrays). */
export const SPARSE_SCHEMA = 'andor.sparse/1';
/** The expansions an adaptive sparse recovery chooses from (SparseResult.fit). */
export const SPARSE_FITS = ['search', 'trees', 'completion', 'completion+trees', 'cube+trees'] as const;
/** Model evaluations of a sparse explanation when the request gives no budget (AND and OR expansions together). */
export const DEFAULT_SPARSE_BUDGET = 10_000;
/** Largest interaction order a sparse explanation recovers when the request gives none. */
export const DEFAULT_MAX_ORDER = 3;
/** Most players of the sparse method (engine/analysis/sparse: MAX_SPARSE_PLAYERS). */
export const SPARSE_PLAYER_LIMIT = 4096;
/** The service's default limits on sparse requests: evaluations per request, and players. */
export const SERVE_MAX_BUDGET = 100_000;
export const SERVE_MAX_SPARSE_PLAYERS = 1024;
/** The service's default limit on rows per model run a request may ask for (batchSize): the automatic batch's own cap. */
export const SERVE_MAX_BATCH_SIZE = 1024;

/** Whose conventions fill the options a request leaves out: andor's (spec "Project decisions") or the authors' code's
 *  (engine/explain/conventions.ts lists the choices). */
export const CONVENTIONS = ['andor', 'authors'] as const;
