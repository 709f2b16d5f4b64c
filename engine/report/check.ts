// A saved result read back for a report (`andor report FILE`, an edited file, one from another tool) is checked
// before anything is drawn: its schema's fields and types, then what the schema cannot say (players and n agree,
// arrays hold 2^n values, interactions name players below n). A page is built from numbers and names that went
// through here, so an edited field cannot inject markup, loop for ever or exhaust memory.
import { InvalidInputError, InvalidOptionError } from '../contracts/errors.js';
import { BATCH_SCHEMA, DYNAMICS_SCHEMA, RESULT_SCHEMA, SPARSE_PLAYER_LIMIT, SPARSE_SCHEMA } from '../contracts/schema/constants.js';
import { BatchResultSchema, DynamicsResultSchema, ExplainResultSchema, SparseResultSchema } from '../contracts/schema/results.js';
import { preview } from '../inputs/preview.js';
import { assertValid } from '../inputs/validate.js';
import type { BatchResultJson, DynamicsResultJson, ExplainResultJson, SparseResultJson } from '../api/result.js';

/** Any result a report can be rendered from. */
export type ReportableResult = ExplainResultJson | SparseResultJson | DynamicsResultJson | BatchResultJson;

const SCHEMAS = { [RESULT_SCHEMA]: ExplainResultSchema, [SPARSE_SCHEMA]: SparseResultSchema, [BATCH_SCHEMA]: BatchResultSchema, [DYNAMICS_SCHEMA]: DynamicsResultSchema } as const;
/** The fields that hold one value per order 0..n, in every kind of result. */
const ORDER_FIELDS = new Set(['positive', 'negative', 'normalized']);
/** Most players of an explanation that holds 2^n arrays (2^30 values a vector is far beyond any run). */
const MAX_DENSE_PLAYERS = 30;

/**
 * A saved result, checked for a report.
 * @param value - the parsed JSON
 * @param source - what to call it in messages (the file's name)
 * @returns the value, typed
 * @throws InvalidInputError naming the first field that is wrong and how
 */
export function assertReportable(value: unknown, source: string): ReportableResult {
  const kind = (value as { schema?: unknown } | null)?.schema;
  const schema = typeof kind === 'string' && Object.hasOwn(SCHEMAS, kind) ? SCHEMAS[kind as keyof typeof SCHEMAS] : undefined;
  if (!schema) throw new InvalidInputError(`${source} is not an andor result: its schema is ${preview(kind)}, not one of ${Object.keys(SCHEMAS).join(', ')}. Give a result written by andor (--out).`);
  try {
    assertValid(schema, value, (field) => (field === '' ? source : `${source}: ${field}`));
  } catch (error) {
    // a field a later andor added is missing from a result an earlier one wrote, unedited: say so, beside an edit
    const older = / is required/.test((error as Error).message) ? ` A result written by an older andor lacks the fields added since: rerun it with this one.` : '';
    if (error instanceof InvalidOptionError) throw new InvalidInputError(`${error.message} Give a result written by andor (--out), unedited.${older}`, { cause: error });
    throw error;
  }
  const result = value as { n: number; players: readonly string[]; v?: unknown[]; and?: unknown; or?: unknown; salient?: readonly { players: readonly number[] }[] };
  const wrong = (what: string) => new InvalidInputError(`${source}: ${what}. Give a result written by andor (--out), unedited.`);
  if (result.n > (kind === RESULT_SCHEMA ? MAX_DENSE_PLAYERS : SPARSE_PLAYER_LIMIT)) throw wrong(`n = ${result.n} is above the ${kind === RESULT_SCHEMA ? MAX_DENSE_PLAYERS : SPARSE_PLAYER_LIMIT} players a result of ${kind} can have`);
  if (result.players.length !== result.n) throw wrong(`n = ${result.n}, but players holds ${result.players.length} names`);
  if (kind === RESULT_SCHEMA) {
    for (const field of ['v', 'and', 'or'] as const) {
      const length = (result[field] as unknown[]).length;
      if (length !== 0 && length !== 2 ** result.n) throw wrong(`${field} holds ${length} values; with n = ${result.n} it holds 2^n = ${2 ** result.n} (or none, written with arrays: false)`);
    }
  }
  // strength per order: n + 1 entries wherever it stands (a page draws one band per order; a million of them
  // overflowed the stack)
  const orderArrays = (node: unknown, path: string): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      if (ORDER_FIELDS.has(key) && Array.isArray(child) && child.length !== result.n + 1) throw wrong(`${path}${key} holds ${child.length} values; with n = ${result.n} it holds one per order 0..n (${result.n + 1})`);
      if (typeof child === 'object' && !(ORDER_FIELDS.has(key) && Array.isArray(child))) orderArrays(child, `${path}${key}.`);
    }
  };
  orderArrays(value, '');
  // every list of sets names players below n, and every list of one value per player holds n (a page reads names and
  // values by player index: a player beyond n was drawn nameless, one missing left out of the waterfall)
  // ... each player once, ascending, as andor writes a set (a set [0, 0] was drawn "AND {a, a}"; a mask beside the
  // players that is not theirs, a negative threshold and input values that are not the dims' count were drawn too;
  // an adversarial sweep, stop 43)
  const checkSets = (terms: readonly { players: readonly number[]; mask?: number }[] | undefined, field: string) => {
    for (const [k, s] of (terms ?? []).entries()) {
      const outside = s.players.find((p) => p >= result.n);
      if (outside !== undefined) throw wrong(`${field}[${k}] names player ${outside}, but n = ${result.n}`);
      const unordered = s.players.findIndex((p, i) => i > 0 && p <= s.players[i - 1]);
      if (unordered > 0) throw wrong(`${field}[${k}] names players ${JSON.stringify(s.players)}: a set names each player once, ascending`);
      if (s.mask !== undefined && s.mask !== s.players.reduce((m, p) => m + 2 ** p, 0)) throw wrong(`${field}[${k}] has mask ${s.mask}, but its players ${JSON.stringify(s.players)} are mask ${s.players.reduce((m, p) => m + 2 ** p, 0)}`);
    }
  };
  const { threshold, input } = value as { threshold?: unknown; input?: { dims?: readonly number[]; values?: readonly unknown[] } };
  if (typeof threshold === 'number' && !(threshold >= 0)) throw wrong(`threshold = ${threshold}; a salience threshold is ≥ 0`);
  if (input?.dims && input.values && input.values.length !== input.dims.reduce((a, b) => a * b, 1)) {
    throw wrong(`input.values holds ${input.values.length} values, but input.dims [${input.dims.join(', ')}] hold ${input.dims.reduce((a, b) => a * b, 1)}`);
  }
  const perPlayer = (values: readonly unknown[], field: string) => {
    if (values.length !== result.n) throw wrong(`${field} holds ${values.length} values; with n = ${result.n} it holds one per player`);
  };
  checkSets(result.salient, 'salient');
  if (kind === RESULT_SCHEMA || kind === SPARSE_SCHEMA) {
    const { indices, and, or } = value as ExplainResultJson | SparseResultJson;
    perPlayer(indices.shapley, 'indices.shapley');
    perPlayer(indices.banzhaf, 'indices.banzhaf');
    for (const field of ['sii', 'kSii', 'stii', 'fsii', 'bii', 'chii', 'fbii'] as const) if (field in indices) checkSets(indices[field] ?? [], `indices.${field}`);
    if (kind === SPARSE_SCHEMA) for (const [field, terms] of [['and', and], ['or', or]] as const) checkSets(terms as SparseResultJson['and'], field);
  }
  if (kind === BATCH_SCHEMA) {
    const batch = value as BatchResultJson;
    if (batch.shapley.length !== batch.samples.length) throw wrong(`shapley holds ${batch.shapley.length} rows; it holds one per sample (${batch.samples.length})`);
    batch.shapley.forEach((row, i) => perPlayer(row, `shapley[${i}]`));
    checkSets(batch.all.interactions, 'all.interactions');
    for (const [key, group] of Object.entries(batch.classes)) checkSets(group.interactions, `classes.${key}.interactions`);
  }
  if (kind === DYNAMICS_SCHEMA) {
    const run = value as DynamicsResultJson;
    for (const field of ['turningPoint', 'gapRise'] as const) {
      const at = run[field];
      if (at !== null && at >= run.checkpoints.length) throw wrong(`${field} = ${at}, but the run holds ${run.checkpoints.length} checkpoints`);
    }
    // the theory's fit: one σ² and one error row per checkpoint, one r(k) row per σ² of its grid, rows of one value
    // per order (a page read them by index: rows of another count were drawn from missing values; an adversarial
    // sweep, stop 48)
    if (run.theory) {
      const { grid, sigma2, error, ratio } = run.theory;
      const count = run.checkpoints.length;
      if (sigma2.length !== count) throw wrong(`theory.sigma2 holds ${sigma2.length} values; it holds one per checkpoint (${count})`);
      if (error.length !== count) throw wrong(`theory.error holds ${error.length} rows; it holds one per checkpoint (${count})`);
      if (ratio.length !== grid.length) throw wrong(`theory.ratio holds ${ratio.length} rows; it holds one per σ² of theory.grid (${grid.length})`);
      const bad = grid.findIndex((x) => !(x > 0));
      if (bad >= 0) throw wrong(`theory.grid[${bad}] = ${grid[bad]}; σ² is > 0`);
      for (const [field, rows] of [['error', error], ['ratio', ratio]] as const) {
        const k = rows.findIndex((row) => row.length !== run.n + 1);
        if (k >= 0) throw wrong(`theory.${field}[${k}] holds ${rows[k].length} values; with n = ${run.n} it holds one per order 0..n (${run.n + 1})`);
      }
    }
  }
  return value as ReportableResult;
}
