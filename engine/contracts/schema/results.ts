// The schemas of andor's JSON results: andor.explain/1 (one explanation) and andor.dynamics/1 (a training run), and
// the HTTP replies around them (errors, health, the model list). The package ships them as JSON Schema files, the
// OpenAPI document references them, and the TypeScript types of the JSON forms are derived from them.
import Type, { type Static } from 'typebox';
import { BATCH_SCHEMA, DYNAMICS_SCHEMA, PRESETS, RESULT_SCHEMA, REWARDS } from './constants.js';
import { SPARSE_FITS, SPARSE_SCHEMA } from './constants.js';

export { BATCH_SCHEMA, DYNAMICS_SCHEMA, RESULT_SCHEMA, SPARSE_SCHEMA };

const numbers = (description: string) => Type.Array(Type.Number(), { description });
/** A number that is undefined for some inputs (0/0): null in JSON. */
const maybe = Type.Union([Type.Number(), Type.Null()]);
const maybeNumbers = (description: string) => Type.Array(maybe, { description });
const terms = (description: string) =>
  Type.Array(Type.Object({ players: Type.Array(Type.Integer({ minimum: 0 })), value: Type.Number() }), { description: `${description}: every set up to the order with a nonzero value` });
const timings = Type.Record(Type.String(), Type.Number(), { description: 'milliseconds per stage (keys end in Ms)' });
const orders = Type.Object(
  { positive: numbers('salient positive strength per order (index = order)'), negative: numbers('salient negative strength per order') },
  { description: 'salient AND and OR values summed per order' },
);

/** One salient interaction. */
export const SalientSchema = Type.Object({
  kind: Type.Enum(['and', 'or']),
  players: Type.Array(Type.Integer({ minimum: 0 }), { description: 'player indices' }),
  names: Type.Array(Type.String(), { description: 'player names' }),
  mask: Type.Integer({ minimum: 0, description: 'bit i = player i' }),
  value: Type.Number(),
});

/** andor.explain/1: one explanation of a model (or of a given game). */
export const ExplainResultSchema = Type.Object(
  {
    schema: Type.Literal(RESULT_SCHEMA),
    n: Type.Integer({ minimum: 1, description: 'number of players' }),
    players: Type.Array(Type.String(), { description: 'player names, by index' }),
    model: Type.Optional(
      Type.Object({
        file: Type.Optional(Type.String({ description: 'the model file (over HTTP: the name the client sent)' })),
        sha256: Type.String(),
        backend: Type.String({ description: 'ort-node or ort-web' }),
        executionProvider: Type.String({ description: 'cpu, cuda or wasm' }),
        input: Type.String({ description: 'the masked input' }),
        output: Type.String({ description: 'the output read' }),
      }),
    ),
    sample: Type.Optional(Type.Object({ id: Type.Optional(Type.String()), label: Type.Optional(Type.Integer()), row: Type.Integer({ minimum: 0 }) })),
    target: Type.Optional(Type.Integer({ minimum: 0, description: 'the class (or output element) explained' })),
    targetName: Type.Optional(Type.String({ description: 'the target\'s class name, when the sample file lists its classes' })),
    reward: Type.Union([Type.Enum([...REWARDS]), Type.Literal('given')], { description: 'the reward function; given for a game given as values' }),
    baseline: Type.Optional(Type.String({ description: 'the baseline keyword, or "given" for a vector' })),
    v: numbers('reward on every mask; index bit i = player i present (empty with arrays: false)'),
    and: numbers('reorganized AND interactions by mask; and[0] = v(∅) + q(∅)'),
    or: numbers('reorganized OR interactions by mask; zero at orders 0 and 1'),
    matching: Type.Object(
      {
        maxAbsError: Type.Number({ description: 'max over masks of |v − rebuilt| (within the q bound)' }),
        relativeError: Type.Number({ description: 'maxAbsError / max |v|' }),
        maxAbsNoise: Type.Number({ description: 'max |v + q − rebuilt|: rounding only' }),
      },
      { description: 'universal matching: the interactions rebuild v + q on every mask' },
    ),
    threshold: Type.Number({ description: 'salient when |I| ≥ threshold' }),
    salient: Type.Array(SalientSchema, { description: 'salient interactions, strongest first' }),
    orders: Type.Object({ ...orders.properties, normalized: numbers('strength per order over orders 1..n, summing to 1') }),
    indices: Type.Object(
      {
        shapley: numbers('Shapley value of each player: Σ_{S∋i} m(S)/|S|'),
        banzhaf: numbers('Banzhaf value of each player: Σ_{S∋i} m(S)/2^{|S|−1}'),
        order: Type.Integer({ minimum: 0, description: 'largest order of the interaction indices below' }),
        sii: terms('Shapley interaction index (Grabisch–Roubens), ∅ included'),
        kSii: terms('k-Shapley interaction index (Bordt & von Luxburg) at k = order'),
        stii: terms('Shapley–Taylor interaction index (Sundararajan et al.) at k = order'),
        fsii: terms('Faith-Shap interaction index (Tsai et al.) at k = order'),
        bii: Type.Optional(terms('Banzhaf interaction index (Grabisch–Roubens), ∅ included (the mean of v); absent in results written before it')),
        chii: Type.Optional(terms('Chaining interaction index (Marichal–Roubens), ∅ = v(∅); absent in results written before it')),
        fbii: Type.Optional(terms('Faith-Banzhaf interaction index (Tsai et al.) at k = order: the least-squares fit of v by terms of order ≤ k over all 2^n sets; absent in results written before it')),
      },
      { description: 'game-theoretic indices of v, from its Möbius transform m (not from the AND-OR split)' },
    ),
    input: Type.Optional(
      Type.Object(
        {
          modality: Type.Enum(['tabular', 'image', 'text', 'pointcloud', 'custom']),
          name: Type.String({ description: 'the masked model input' }),
          dims: Type.Array(Type.Integer({ minimum: 1 }), { description: 'dims of one sample of that input' }),
          values: numbers('the sample\'s values of that input (flat, row-major)'),
          offsets: Type.Array(Type.Integer({ minimum: 0 }), { description: 'player i owns elements indices[offsets[i] .. offsets[i+1])' }),
          indices: Type.Array(Type.Integer({ minimum: 0 }), { description: 'element indices, grouped by player' }),
          tokens: Type.Optional(Type.Array(Type.String(), { description: 'token strings, when the sample file gives them' })),
        },
        { description: 'where the players sit in the masked input, for drawing them (left out with arrays: false)' },
      ),
    ),
    decomposition: Type.Object({
      method: Type.Enum(['and', 'and-or']),
      preset: Type.Enum([...PRESETS]),
      solver: Type.String(),
      iterations: Type.Integer({ minimum: 0 }),
      lr: Type.Number(),
      qthres: Type.Number(),
      qBound: Type.Number({ description: '|q_T| ≤ qBound = qthres·|v(N) − v(∅)|' }),
      objective: Type.Object({ initial: Type.Number(), final: Type.Number() }, { description: 'L1 norm of all AND and OR interactions, in the units of v' }),
      trace: Type.Object({ every: Type.Integer({ minimum: 1 }), values: numbers('the objective every `every` iterations, up to its first value that is not finite') }),
      diverged: Type.Boolean({ description: 'the run ended above its initial objective, or not finite; the split returned is then its best iterate' }),
      warning: Type.Optional(Type.String({ description: 'what happened and what to do, when diverged' })),
      salientCount: Type.Integer({ minimum: 0 }),
      ms: Type.Number(),
    }),
    timings,
  },
  { $id: 'https://andor.dev/schemas/andor.explain-1.json', title: RESULT_SCHEMA, description: 'One explanation: v, the AND and OR interactions, matching, salient interactions and per-order strength' },
);

/** One term of a sparse expansion, with its players' names. */
const sparseTerm = Type.Object({
  players: Type.Array(Type.Integer({ minimum: 0 }), { description: 'player indices, ascending; [] is ∅' }),
  names: Type.Array(Type.String(), { description: 'player names' }),
  value: Type.Number(),
  exact: Type.Optional(Type.Literal(true, { description: 'the value was computed from v at every subset of the players (the refinement of an auto search): the exact Möbius coefficient up to round-off, not an estimate. Absent on the exact path (recovery exact), where every value is exact' })),
});
const faithfulness = (what: string) =>
  Type.Object(
    {
      r2: Type.Union([Type.Number(), Type.Null()], { description: `R² of the ${what} on held-out uniformly random masks (on all 2^n masks when every mask was evaluated); null when none was held out` }),
      heldOut: Type.Integer({ minimum: 0, description: 'held-out masks (0: every mask was evaluated)' }),
    },
  );

/** andor.sparse/1: one explanation by the sparse method: term lists instead of 2^n arrays, for up to 4096 players. */
export const SparseResultSchema = Type.Object(
  {
    schema: Type.Literal(SPARSE_SCHEMA),
    n: Type.Integer({ minimum: 1, description: 'number of players' }),
    players: Type.Array(Type.String(), { description: 'player names, by index' }),
    model: Type.Optional(ExplainResultSchema.properties.model),
    sample: Type.Optional(ExplainResultSchema.properties.sample),
    target: Type.Optional(ExplainResultSchema.properties.target),
    targetName: Type.Optional(ExplainResultSchema.properties.targetName),
    reward: Type.Union([Type.Enum([...REWARDS]), Type.Literal('given')], { description: 'the reward function; given for a game given as a function' }),
    baseline: Type.Optional(ExplainResultSchema.properties.baseline),
    method: Type.Literal('sparse'),
    recovery: Type.Enum(['adaptive', 'exact'], { description: 'adaptive: group testing from the budget; exact: the budget covered all 2^n masks, every one was evaluated' }),
    budget: Type.Integer({ minimum: 1, description: 'most model evaluations allowed, the AND and OR expansions together' }),
    evaluations: Type.Integer({ minimum: 0, description: 'model evaluations used (distinct masks), held-out masks included' }),
    maxOrder: Type.Integer({ minimum: 0, description: 'largest interaction order recovered' }),
    tolerance: Type.Object(
      {
        requested: Type.Union([Type.Number({ minimum: 0 }), Type.Literal('auto')], { description: 'as requested; auto: stages of falling tolerance' }),
        and: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'the AND expansion\'s kept stage (null: the budget covered 2^n, no search ran)' }),
        or: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'the OR expansion\'s kept stage' }),
      },
      { description: 'noise floor of the search, as a share of |v(N) − v(∅)|' },
    ),
    fit: Type.Optional(
      Type.Object(
        { and: Type.Union([Type.Enum([...SPARSE_FITS]), Type.Null()]), or: Type.Union([Type.Enum([...SPARSE_FITS]), Type.Null()]) },
        {
          description:
            "the expansion each recovery kept, by R² on validation masks (null: no search ran, the budget covered 2^n): search, the search's terms; trees, a tree proxy's; completion, the search's terms with every term of order ≤ 2, least squares on random masks; completion+trees, that completion with the conjunctions trees found in what it left unexplained; cube+trees, v at every subset of the players with the largest total effects (their terms exact) and trees fitted to what those leave",
        },
      ),
    ),
    faithfulness: Type.Object(
      { ...faithfulness('AND expansion Σ_{S⊆T} I_and(S) against v(T)').properties, or: faithfulness('OR expansion (of the complement game u(T) = v(N∖T))') },
      { description: 'how well the recovered expansions rebuild v' },
    ),
    values: Type.Object({ empty: Type.Number({ description: 'v(∅) as evaluated' }), full: Type.Number({ description: 'v(N) as evaluated' }) }, { description: 'the reward on no player and on every player' }),
    and: Type.Array(sparseTerm, { description: 'AND interactions: the recovered Möbius coefficients of v up to maxOrder, strongest |value| first, ∅ included (v(∅) where the kept expansion holds it exactly, else a fit\'s intercept: values.empty is v(∅) as evaluated)' }),
    or: Type.Array(sparseTerm, { description: 'OR interactions: minus the non-empty Möbius coefficients of the complement game u(T) = v(N∖T), strongest first; the ∅ term is the expansion\'s v(∅)' }),
    threshold: Type.Number({ description: 'salient when |I| ≥ threshold' }),
    salient: Type.Array(
      Type.Object({ kind: Type.Enum(['and', 'or']), players: Type.Array(Type.Integer({ minimum: 0 })), names: Type.Array(Type.String()), value: Type.Number() }),
      { description: 'salient AND and OR terms, strongest first (no mask: masks of more than 53 players do not fit a JSON number)' },
    ),
    orders: ExplainResultSchema.properties.orders,
    indices: Type.Object(ExplainResultSchema.properties.indices.properties, { description: 'game-theoretic indices of v from its recovered AND (Möbius) expansion: exact when that expansion is' }),
    decomposition: Type.Object(
      { method: Type.Literal('none') },
      { description: 'no AND-OR split is learned by the sparse method: AND = Möbius terms of v, OR = the negated non-empty Möbius terms of the complement game' },
    ),
    input: Type.Optional(ExplainResultSchema.properties.input),
    timings,
  },
  { $id: 'https://andor.dev/schemas/andor.sparse-1.json', title: SPARSE_SCHEMA, description: 'One explanation by the sparse method: the recovered AND and OR terms, faithfulness, salient terms, per-order strength and indices' },
);

const generalizationSchema = Type.Object({
  generalizable: numbers('per order: mean Σ|I| of salient interactions that a reference model shares (same kind and sign)'),
  nonGeneralizable: numbers('per order: the rest'),
  ratio: Type.Union([Type.Number(), Type.Null()], { description: 'generalizable share of salient strength' }),
  loss: Type.Record(Type.String(), Type.Object({ output: Type.Number(), salient: Type.Number(), generalizable: Type.Number() }), {
    description: 'per split: mean cross-entropy from v(N), from the salient interactions, and from the generalizable ones only',
  }),
});

const checkpointSchema = Type.Object({
  name: Type.String(),
  file: Type.String(),
  sha256: Type.String(),
  epoch: Type.Optional(Type.Number()),
  orders,
  normalized: numbers('strength per order 0..n, normalized over orders 1..n'),
  kappa: Type.Number({ description: 'mean order κ of the normalized distribution' }),
  highOrderShare: Type.Number({ description: 'share of strength at orders ≥ 3' }),
  trainLoss: Type.Optional(Type.Number()),
  testLoss: Type.Optional(Type.Number()),
  lossGap: Type.Optional(Type.Number()),
  ood: Type.Optional(Type.Object({ orders, normalized: numbers('normalized strength of the OOD samples'), highOrderShare: Type.Number() })),
  jaccard: Type.Optional(maybeNumbers('train/test weighted Jaccard per order')),
  generalization: Type.Optional(generalizationSchema),
  theory: Type.Optional(Type.Object({ sigma2: Type.Number(), error: maybeNumbers('|theory − real| per order'), distribution: maybeNumbers('the theory\'s normalized distribution') })),
  samples: Type.Array(
    Type.Object({
      sample: Type.Integer({ minimum: 0 }),
      split: Type.String(),
      kappa: maybe,
      salient: maybe,
      positive: numbers('salient positive strength per order'),
      negative: numbers('salient negative strength per order'),
      diverged: Type.Optional(Type.Literal(true, { description: 'the learned split diverged: the interactions are those of its best iterate' })),
    }),
    { description: 'each sample at this checkpoint: mean order κ, salient count and strength per order' },
  ),
  mixture: Type.Object(
    { decayWeight: Type.Number(), rate: maybe, spindleWeight: Type.Number(), p: maybe, decayShare: maybe, residual: Type.Number() },
    { description: 'strength per order fitted as a decay-shaped plus a spindle-shaped part (arXiv 2502.10162)' },
  ),
  cancellation: maybeNumbers('|Σ I| / Σ |I| per order over the normal samples (arXiv 2606.08129)'),
  pairwise: Type.Optional(numbers('mean |I^(m)(i, j)| over pairs, per order m = 0..n−2 (arXiv 2512.18607)')),
});

const tally = Type.Object({ count: numbers('interactions per order'), strength: numbers('their Σ|I| per order, averaged over samples') });

/** andor.dynamics/1: interactions across the checkpoints of a training run. */
export const DynamicsResultSchema = Type.Object(
  {
    schema: Type.Literal(DYNAMICS_SCHEMA),
    method: Type.Optional(Type.Enum(['exact', 'sparse'], { description: 'how every pair was explained: exact (2^n arrays) or sparse (term lists from a budget, laid over the sets the run\'s pairs hold; no theory fit); absent in runs written before it: exact' })),
    n: Type.Integer({ minimum: 1 }),
    players: Type.Array(Type.String()),
    samples: Type.Object({ train: Type.Integer(), test: Type.Integer(), ood: Type.Integer() }),
    checkpoints: Type.Array(checkpointSchema, { description: 'in training order' }),
    turningPoint: Type.Integer({ minimum: 0, description: 'the checkpoint after initialization with the smallest κ' }),
    gapRise: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'the first checkpoint where the loss gap rises over its running minimum by more than the tolerance' }),
    theory: Type.Union([
      Type.Object({
        grid: numbers('σ² grid'),
        sigma2: numbers('fitted σ² per checkpoint'),
        error: Type.Array(maybeNumbers('per order'), { description: 'per checkpoint' }),
        ratio: Type.Array(maybeNumbers('per k'), { description: 'r(k) per σ² of the grid' }),
      }),
      Type.Null(),
    ], { description: 'the theory\'s fit; null for method sparse (its solve is over all 2^n sets)' }),
    jaccard: Type.Union([maybeNumbers('train/test Jaccard per order at the last checkpoint'), Type.Null()]),
    generalization: Type.Union([Type.Object({ ratio: maybeNumbers('generalizable share per checkpoint'), last: generalizationSchema }), Type.Null()]),
    transitions: Type.Array(Type.Object({ from: Type.Integer(), to: Type.Integer(), preserved: tally, removed: tally, emerged: tally }), {
      description: 'salient interactions preserved (same kind and sign), removed and newly emerged between consecutive checkpoints (arXiv 2605.17967)',
    }),
    references: Type.Array(Type.String()),
    pairs: Type.Object({ computed: Type.Integer(), cached: Type.Integer() }),
    timings,
  },
  { $id: 'https://andor.dev/schemas/andor.dynamics-1.json', title: DYNAMICS_SCHEMA, description: 'Interactions across the checkpoints of a training run' },
);

/** Mean and spread over samples of one interaction (salient in at least one sample of the group; a class group also
 *  lists the interactions of the all-samples group, salient in the class or not). */
const aggregateInteraction = Type.Object({
  kind: Type.Enum(['and', 'or']),
  players: Type.Array(Type.Integer({ minimum: 0 })),
  names: Type.Array(Type.String()),
  mean: Type.Number({ description: 'mean value over the samples of the group, salient there or not (a term a sparse result does not list counts as 0)' }),
  std: Type.Number({ description: 'standard deviation over those samples' }),
  meanAbs: Type.Number({ description: 'mean |I| over those samples' }),
  salientIn: Type.Integer({ minimum: 0, description: 'samples in which it is salient' }),
});
const aggregateGroup = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  orders: Type.Object({ positive: numbers('mean salient positive strength per order'), negative: numbers('mean salient negative strength per order'), normalized: numbers('normalized over orders 1..n') }),
  interactions: Type.Array(aggregateInteraction, { description: "those salient in at least one sample of the group (a class group: also the all-samples group's, salient in the class or not), by mean |I|, strongest first (at most 200)" }),
});

/** andor.batch/1: many samples of one model; each sample's own result is an andor.explain/1 (or andor.sparse/1) line
 *  of the JSONL stream. */
export const BatchResultSchema = Type.Object(
  {
    schema: Type.Literal(BATCH_SCHEMA),
    method: Type.Optional(Type.Enum(['exact', 'sparse'], { description: 'how every sample was explained: exact (andor.explain/1 results) or sparse (andor.sparse/1 results; the aggregate is taken over their term lists, a term a sample does not list counting as 0); absent in batches written before it: exact' })),
    n: Type.Integer({ minimum: 1 }),
    players: Type.Array(Type.String()),
    model: Type.Object({ file: Type.Optional(Type.String()), sha256: Type.String() }),
    samples: Type.Array(
      Type.Object({
        row: Type.Integer({ minimum: 0 }), id: Type.Optional(Type.String()), label: Type.Optional(Type.Integer()), target: Type.Integer(), targetName: Type.Optional(Type.String()), cached: Type.Boolean(),
        evaluations: Type.Optional(Type.Integer({ minimum: 0, description: 'method sparse: model evaluations the sample used' })),
        r2: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'method sparse: R² of the sample\'s AND expansion on masks its recovery never saw (on all 2^n masks where the budget covered them; null where it cannot be measured: a constant game)' })),
      }),
      { description: 'the samples explained, in order' },
    ),
    shapley: Type.Array(numbers('one value per player'), { description: 'Shapley values per sample (rows in the order of samples)' }),
    all: aggregateGroup,
    classes: Type.Record(Type.String(), aggregateGroup, { description: 'the same per target class (key: class index)' }),
    classNames: Type.Optional(Type.Array(Type.String())),
    results: Type.Optional(Type.Array(Type.Union([ExplainResultSchema, SparseResultSchema]), { description: 'each sample\'s result, andor.explain/1 or (method sparse) andor.sparse/1 (library and HTTP; the CLI streams them as JSON lines instead)' })),
    timings,
  },
  { $id: 'https://andor.dev/schemas/andor.batch-1.json', title: BATCH_SCHEMA, description: 'Many samples of one model: per-sample results and their aggregate' },
);

/** Every HTTP error: a code and a message that says what failed and what to do. */
export const ErrorBodySchema = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) }, { description: 'what failed, why, and the fix' });

/** GET /health. */
export const HealthSchema = Type.Object({
  status: Type.Literal('ok'),
  uptimeS: Type.Integer(),
  backend: Type.Union([Type.String(), Type.Null()]),
  queue: Type.Object({ running: Type.Integer(), waiting: Type.Integer(), concurrency: Type.Integer(), queueSize: Type.Integer() }),
});

/** GET /models. */
export const ModelListSchema = Type.Object({
  models: Type.Array(Type.Object({ model: Type.String(), bytes: Type.Integer(), name: Type.Optional(Type.String()), modality: Type.Optional(Type.String()) })),
});

/** The JSON form of an explain result. */
export type ExplainResultJson = Static<typeof ExplainResultSchema>;
/** The JSON form of a sparse explain result. */
export type SparseResultJson = Static<typeof SparseResultSchema>;
/** The JSON form of a dynamics result. */
export type DynamicsResultJson = Static<typeof DynamicsResultSchema>;
/** The JSON form of a batch result. */
export type BatchResultJson = Static<typeof BatchResultSchema>;
