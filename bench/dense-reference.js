// A dense-matrix implementation of the authors' AND-OR learning, written independently of the kernels: the
// 2^n × 2^n matrices M_and and M_or of sjtu-xai-lab/interaction-concept (get_reward2Iand_mat, get_reward2Ior_mat)
// and their SGD loop (_train_p_q: momentum 0.9, lr_t = lr·10^(−t/(niter−1)), q clamped before each step,
// sign(0) = 0), in float64. O(4^n) per step: the baseline of bench/decompose.bench.js and the reference of the
// step-for-step test. Spec §1.4 and §2.

const popcount = (m) => {
  let c = 0;
  for (; m; m &= m - 1) c++;
  return c;
};

/** M_and[S][T] = (−1)^{|S|−|T|} for T ⊆ S, row-major f64[4^n]. */
export function andMatrix(n) {
  const size = 1 << n;
  const m = new Float64Array(size * size);
  for (let s = 0; s < size; s++) for (let t = 0; t < size; t++) if ((t & s) === t) m[s * size + t] = popcount(s ^ t) & 1 ? -1 : 1;
  return m;
}

/** M_or: row ∅ = e_∅; row S ≠ ∅ has −(−1)^{|S|+|T|+n} on the columns T ⊇ N∖S (spec §1.4). */
export function orMatrix(n) {
  const size = 1 << n;
  const full = size - 1;
  const m = new Float64Array(size * size);
  m[0] = 1;
  for (let s = 1; s < size; s++) {
    const rest = full ^ s;
    for (let t = 0; t < size; t++) if ((t & rest) === rest) m[s * size + t] = (popcount(s) + popcount(t) + n) & 1 ? 1 : -1;
  }
  return m;
}

function matvec(m, x, out) {
  const size = x.length;
  for (let r = 0; r < size; r++) {
    let acc = 0;
    const row = r * size;
    for (let c = 0; c < size; c++) acc += m[row + c] * x[c];
    out[r] = acc;
  }
}

function matTvec(m, x, out) {
  const size = x.length;
  out.fill(0);
  for (let r = 0; r < size; r++) {
    const xr = x[r];
    if (xr === 0) continue;
    const row = r * size;
    for (let c = 0; c < size; c++) out[c] += m[row + c] * xr;
  }
}

const sign = (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);

/** The authors' learning of p (= γ) and q on dense matrices. mode: 'pq' (AND-OR, learn both) or 'q' (AND only). */
export class DenseAndOr {
  constructor(v, n, { lr, iterations, qbound, mode = 'pq' }) {
    this.n = n;
    this.size = 1 << n;
    this.v = Float64Array.from(v);
    this.lr = lr;
    this.iterations = iterations;
    this.qbound = qbound;
    this.mode = mode;
    this.mAnd = andMatrix(n);
    this.mOr = mode === 'pq' ? orMatrix(n) : undefined;
    this.p = new Float64Array(this.size);
    this.q = new Float64Array(this.size);
    this.bufP = new Float64Array(this.size);
    this.bufQ = new Float64Array(this.size);
    this.iAnd = new Float64Array(this.size);
    this.iOr = new Float64Array(this.size);
  }

  /** Fills iAnd, iOr at the current (p, q) and returns Σ|I_and| + Σ|I_or|. */
  objective() {
    const { size, v, p, q } = this;
    const a = new Float64Array(size);
    const o = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      if (this.mode === 'pq') {
        a[i] = 0.5 * (v[i] + q[i]) + p[i];
        o[i] = 0.5 * (v[i] + q[i]) - p[i];
      } else a[i] = v[i] + q[i];
    }
    matvec(this.mAnd, a, this.iAnd);
    let loss = 0;
    for (let i = 0; i < size; i++) loss += Math.abs(this.iAnd[i]);
    if (this.mode === 'pq') {
      matvec(this.mOr, o, this.iOr);
      for (let i = 0; i < size; i++) loss += Math.abs(this.iOr[i]);
    }
    return loss;
  }

  /** Iteration t of the authors' loop: clamp q, evaluate, and step unless t is the last. Returns the loss. */
  step(t) {
    const { size, q, qbound } = this;
    for (let i = 0; i < size; i++) q[i] = Math.min(qbound, Math.max(-qbound, q[i]));
    const loss = this.objective();
    if (t + 1 >= this.iterations) return loss;
    const gAnd = new Float64Array(size);
    matTvec(this.mAnd, this.iAnd.map(sign), gAnd);
    const gP = new Float64Array(size);
    const gQ = new Float64Array(size);
    if (this.mode === 'pq') {
      const gOr = new Float64Array(size);
      matTvec(this.mOr, this.iOr.map(sign), gOr);
      for (let i = 0; i < size; i++) {
        gP[i] = gAnd[i] - gOr[i];
        gQ[i] = 0.5 * (gAnd[i] + gOr[i]);
      }
    } else gQ.set(gAnd);
    const lr = Math.pow(10, Math.log10(this.lr) - t / (this.iterations - 1));
    for (let i = 0; i < size; i++) {
      if (this.mode === 'pq') {
        this.bufP[i] = t === 0 ? gP[i] : 0.9 * this.bufP[i] + gP[i];
        this.p[i] -= lr * this.bufP[i];
      }
      this.bufQ[i] = t === 0 ? gQ[i] : 0.9 * this.bufQ[i] + gQ[i];
      q[i] -= lr * this.bufQ[i];
    }
    return loss;
  }
}
