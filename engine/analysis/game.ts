// The analysis of one game, wherever it runs (the calling thread or a pool worker): learn the AND-OR split
// (decompose.ts), then the interactions, matching, salient set and per-order strength (interactions.ts). Its input
// and output are typed arrays and plain objects, so they cross the worker boundary as they are.
import { CancelledError } from '../contracts/errors.js';
import type { KernelHost } from '../contracts/kernels.js';
import { decompose, decompositionSettings, type DecompositionRequest, type DecompositionSettings, type Preset } from './decompose.js';
import { analyze, distribution, type Analysis, type SalientInteraction } from './interactions.js';
import { bool, numberIn, oneOf } from '../inputs/options.js';
import { allIndices, type AllIndices } from './indices.js';
import { transform } from './transforms.js';
import { DEFAULT_INDEX_ORDER } from '../contracts/schema/constants.js';

/** Validated analysis options. */
export interface AnalysisSettings {
  readonly decomposition: 'and' | 'and-or';
  /** Largest order of the interaction indices (SII, k-SII, STII, FSII, BII, CHII, FBII) reported; 0 reports none. */
  readonly indexOrder: number;
  readonly salientRatio: number;
  readonly salientIncludeEmpty: boolean;
  readonly learning: DecompositionSettings;
}

/** The analysis options a request may carry. */
export interface AnalysisOptions extends DecompositionRequest {
  readonly decomposition?: 'and' | 'and-or';
  readonly salientRatio?: number;
  readonly salientIncludeEmpty?: boolean;
  readonly indexOrder?: number;
}

/** Validates the analysis options of a request. */
export function analysisSettings(request: AnalysisOptions, where: string): AnalysisSettings {
  return {
    decomposition: request.decomposition === undefined ? 'and-or' : oneOf(request.decomposition, ['and', 'and-or'], `${where}.decomposition`),
    indexOrder: request.indexOrder ?? DEFAULT_INDEX_ORDER,
    salientRatio: request.salientRatio === undefined ? 0.05 : numberIn(request.salientRatio, 0, 1, `${where}.salientRatio`),
    salientIncludeEmpty: request.salientIncludeEmpty === undefined ? false : bool(request.salientIncludeEmpty, `${where}.salientIncludeEmpty`),
    learning: decompositionSettings(request, where),
  };
}

/** How the split was learned, and how well. */
export interface DecompositionSummary {
  readonly method: 'and' | 'and-or';
  readonly preset: Preset;
  readonly solver: string;
  readonly iterations: number;
  readonly lr: number;
  readonly qthres: number;
  /** |q_T| ≤ qBound = qthres·|v(N) − v(∅)|. */
  readonly qBound: number;
  /** L1 norm of all 2^n AND and 2^n OR interactions (before reorganizing), in the units of v. */
  readonly objective: { readonly initial: number; readonly final: number };
  /** The objective every `every` iterations (up to its first value that is not finite). */
  readonly trace: { readonly every: number; readonly values: Float64Array };
  /** The run ended above its start or not finite; the split is then its best iterate (decompose.ts). */
  readonly diverged: boolean;
  /** What happened and what to do, when `diverged`. */
  readonly warning?: string;
  readonly salientCount: number;
  readonly ms: number;
}

/** One game to analyze. */
export interface AnalysisTask {
  readonly v: Float64Array;
  readonly n: number;
  readonly settings: AnalysisSettings;
}

/** Game-theoretic indices of v, from its Möbius transform (analysis/indices.ts): one value per player, and the
 *  interaction indices up to `order` as sparse term lists. */
export type GameIndices = AllIndices;

/** What the analysis of a game gives. */
export interface GameAnalysis {
  readonly n: number;
  readonly v: Float64Array;
  readonly and: Float64Array;
  readonly or: Float64Array;
  readonly matching: Analysis['matching'];
  readonly threshold: number;
  readonly salient: readonly SalientInteraction[];
  readonly orders: { readonly positive: Float64Array; readonly negative: Float64Array; readonly normalized: Float64Array };
  readonly decomposition: DecompositionSummary;
  readonly indices: GameIndices;
  readonly timings: Readonly<Record<string, number>>;
}

/** The indices of v (plain, unsplit: they describe the game, not the AND-OR decomposition). */
function indicesOf(kernels: KernelHost, v: Float64Array, n: number, order: number, signal?: AbortSignal): GameIndices {
  // a worker's signal reads the caller's flag as it is set: heard between the indices without a turn of the loop
  return allIndices(transform(kernels, 'mobiusSubsetF64', v), { n, order }, () => {
    if (signal?.aborted) throw new CancelledError('The analysis was cancelled.');
  });
}

/** A turn of the event loop, then CancelledError when the signal has aborted. */
async function stopPoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolveTurn) => setImmediate(resolveTurn));
  if (signal.aborted) throw new CancelledError('The analysis was cancelled.');
}

/**
 * Learns the split of v, then computes its interactions and the checks on them.
 * @param kernels - this thread's kernel instance
 * @param task - v on all 2^n masks, n and the settings
 * @param signal - cancels the decomposition between chunks of iterations, and the analysis between its steps
 */
export async function analyzeGame(kernels: KernelHost, { v, n, settings }: AnalysisTask, signal?: AbortSignal): Promise<GameAnalysis> {
  const learned = await decompose(kernels, v, n, settings.decomposition, settings.learning, signal);
  // the interactions and the indices hold the thread seconds each at n ≥ 22: the signal is heard between them (a
  // turn of the event loop first, where an abort from another thread arrives), not only in the decomposition's chunks
  // (an abort 1 s into a run of n = 22 at preset none resolved 6 s later; an adversarial sweep, stop 48)
  await stopPoint(signal);
  const start = performance.now();
  const analysis = analyze(kernels, v, n, learned.split, settings);
  await stopPoint(signal);
  const indices = indicesOf(kernels, v, n, settings.indexOrder, signal);
  const interactionsMs = performance.now() - start;
  await stopPoint(signal);
  const { positive, negative } = analysis.orders;
  const { normalized } = distribution(analysis.orders);
  const { preset, solver, iterations, lr, qthres, qBound, objective, trace, traceEvery, diverged, warning, ms } = learned;
  return {
    n,
    v,
    and: analysis.and,
    or: analysis.or,
    matching: analysis.matching,
    threshold: analysis.threshold,
    salient: analysis.salient,
    orders: { positive, negative, normalized },
    indices,
    decomposition: {
      method: settings.decomposition, preset, solver, iterations, lr, qthres, qBound, objective, trace: { every: traceEvery, values: trace }, diverged,
      ...(warning === undefined ? {} : { warning }), salientCount: analysis.salient.length, ms,
    },
    timings: { decompositionMs: ms, interactionsMs },
  };
}
