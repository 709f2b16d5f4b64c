// Types of dense-reference.js (the dense-matrix baseline of the authors' AND-OR learning).
export function andMatrix(n: number): Float64Array;
export function orMatrix(n: number): Float64Array;
export class DenseAndOr {
  constructor(v: ArrayLike<number>, n: number, options: { lr: number; iterations: number; qbound: number; mode?: 'pq' | 'q' });
  readonly p: Float64Array;
  readonly q: Float64Array;
  readonly iAnd: Float64Array;
  readonly iOr: Float64Array;
  objective(): number;
  step(t: number): number;
}
