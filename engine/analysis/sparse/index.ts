// Public surface of the sparse Möbius engine: recover the K-sparse, low-order Möbius (AND) or OR expansion of a
// game on up to 4096 players from a budget of evaluations. Everything else in this folder is internal.
export type { GameFunction, MaskBatch, SparseExpansion, SparseOptions, SparseTerm } from './types.js';
export { sparseMobius, sparseOr } from './recover.js';
export { evaluateExpansion } from './expansion.js';
export { MAX_SPARSE_PLAYERS, SPARSE_METHODS, minimumBudget } from './budget.js';
