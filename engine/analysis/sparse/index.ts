// Public surface of the sparse Möbius engine: recover the K-sparse, low-order Möbius (AND) or OR expansion of a
// game on up to 4096 players from a budget of evaluations, both from one budget (recoverAndOr), and what andor
// reports from them (analyzeTerms); randomFits and its task types for a caller who runs the auto search's fits on a
// thread of its own (SparseOptions.fitRandom). Everything else in this folder is internal.
export type { FitSet, FittedExpansion, FlatTerms, GameFunction, MaskBatch, RandomFitsTask, RandomFitter, SparseExpansion, SparseFit, SparseOptions, SparseTerm } from './types.js';
export { randomFits } from './fits.js';
export { fitBytes } from './adaptive.js';
export { sparseMobius, sparseOr } from './recover.js';
export { evaluateExpansion } from './expansion.js';
export { MAX_EXACT_PLAYERS, MAX_SPARSE_PLAYERS, SPARSE_METHODS, minimumBudget } from './budget.js';
export { leastAndOrBudget, recoverAndOr, type AndOrExpansion, type AndOrOptions } from './and-or.js';
export { analyzeTerms, type SparseSalient, type TermAnalysis, type TermAnalysisOptions } from './salience.js';
