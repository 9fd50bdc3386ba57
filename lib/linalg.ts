/**
 * Dense linear algebra in double precision that the preprocessing needs: the eigendecomposition of
 * a real symmetric matrix (covariances for PCA and ZCA).
 *
 * Method (Golub & Van Loan, "Matrix Computations", §8.3): Householder reduction to tridiagonal form,
 * T = Qᵀ·A·Q, then the implicit QL iteration with Wilkinson-style shifts on T, every plane rotation
 * applied to Q as well, so the columns of Q end as the eigenvectors of A.
 *
 * Layout: row-major Float64Array, n×n. The eigenvector matrix is kept transposed while rotating
 * (eigenvector j in row j) so that each rotation touches two contiguous rows.
 * Cost: about 4/3·n³ for the reduction and its accumulation plus about 3·n³ for the QL sweeps;
 * n = 784 takes a second or two in V8.
 */
import { checkInt, describe, fail } from './validate';

export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /**
   * Eigenvectors as ROWS, n×n row-major: row j is the unit eigenvector for values[j]. Sign
   * convention: the component of largest magnitude (the first one on ties) is positive.
   */
  vectors: Float64Array;
}

const EPS = 2.220446049250313e-16;
const MAX_SWEEPS_PER_VALUE = 64;

/**
 * Eigenvalues (descending) and unit eigenvectors (rows) of the symmetric n×n matrix `a`
 * (row-major; only the lower triangle is read — the upper is assumed to mirror it). `a` is not modified.
 */
export function symmetricEigen(a: Float64Array | Float32Array, n: number): SymmetricEigen {
  checkInt(n, 'n', 1);
  if (!(a instanceof Float64Array || a instanceof Float32Array)) fail('type', 'Float64Array or Float32Array', 'a', describe(a));
  if (a.length !== n * n) fail('range', `${n * n} values (an ${n}×${n} matrix)`, 'a', describe(a));
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) fail('range', 'finite values', `a (index ${i})`, describe(a[i]));
  }

  // Working copy of the lower triangle (the reduction reads and writes only j <= i), scaled by a
  // power of two (exact) so that the largest entry is near 1: no overflow or underflow in the
  // Householder norms for matrices of any magnitude.
  let big = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) big = Math.max(big, Math.abs(a[i * n + j]));
  const scale = big > 0 ? 2 ** -Math.round(Math.log2(big)) : 1;
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) w[i * n + j] = a[i * n + j] * scale;
  const diag = new Float64Array(n);
  const off = new Float64Array(n); // off[i] couples i and i+1; off[n-1] = 0
  const q = tridiagonalize(w, n, diag, off);
  // Rotate the rows of Qᵀ (contiguous) instead of the columns of Q.
  const vt = transpose(q, n);
  tridiagonalQL(diag, off, vt, n);
  for (let i = 0; i < n; i++) diag[i] /= scale;
  return sortAndOrient(diag, vt, n);
}

/**
 * Householder reduction. On return diag/off hold T and the returned matrix is Q (row-major) with
 * A = Q·T·Qᵀ. `w` is overwritten (it holds the Householder vectors afterwards).
 *
 * Step k zeroes column k below the subdiagonal: with x = A[k+1:, k], the reflector
 * H = I − β·v·vᵀ maps x to α·e₁ (α = −sign(x₀)·‖x‖ avoids cancellation). The trailing block
 * becomes H·A₂₂·H = A₂₂ − v·uᵀ − u·vᵀ with p = β·A₂₂·v, u = p − (β/2)(pᵀv)·v.
 */
function tridiagonalize(w: Float64Array, n: number, diag: Float64Array, off: Float64Array): Float64Array {
  const betas = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    const beta = householderColumn(w, n, k, off);
    betas[k] = beta;
    if (beta !== 0) reflectTrailing(w, n, k, beta, p);
  }
  for (let i = 0; i < n; i++) diag[i] = w[i * n + i];
  if (n >= 2) off[n - 2] = w[(n - 1) * n + (n - 2)];
  off[n - 1] = 0;
  return accumulateQ(w, n, betas, p);
}

/**
 * The reflector of step k: x = A[k+1:, k] (column k below the diagonal) gives α (stored in
 * off[k]) and v = x − α·e₁, stored in row k, columns k+1.. (the unused upper triangle). Returns
 * β = 2 / (vᵀv), 0 when x is already zero.
 */
function householderColumn(w: Float64Array, n: number, k: number, off: Float64Array): number {
  const s = k + 1; // first row of the trailing block
  let scale = 0;
  for (let i = s; i < n; i++) scale += Math.abs(w[i * n + k]);
  if (scale === 0) {
    off[k] = 0;
    return 0;
  }
  let sq = 0;
  for (let i = s; i < n; i++) {
    const x = w[i * n + k] / scale;
    sq += x * x;
  }
  const x0 = w[s * n + k];
  const norm = scale * Math.sqrt(sq);
  const alpha = x0 >= 0 ? -norm : norm;
  // v = x − α·e₁, β = 2 / (vᵀv) = 1 / (norm·(norm + |x0|))
  const row = k * n;
  w[row + s] = x0 - alpha;
  for (let i = s + 1; i < n; i++) w[row + i] = w[i * n + k];
  off[k] = alpha;
  return 1 / (norm * (norm + Math.abs(x0)));
}

/** A₂₂ ← H·A₂₂·H for the reflector of step k (v in row k of w), lower triangle only; `p` is scratch. */
function reflectTrailing(w: Float64Array, n: number, k: number, beta: number, p: Float64Array): void {
  const s = k + 1;
  const v = w.subarray(k * n, k * n + n); // v[i] for i in [s, n)
  // p = β·A₂₂·v from the lower triangle of A₂₂ alone: row i contributes A[i][j]·v[j] to p[i] and,
  // by symmetry, A[i][j]·v[i] to p[j] (j < i); both walks are contiguous.
  p.fill(0, s, n);
  for (let i = s; i < n; i++) {
    const ri = i * n;
    const vi = v[i];
    let acc = w[ri + i] * vi;
    for (let j = s; j < i; j++) {
      const aij = w[ri + j];
      acc += aij * v[j];
      p[j] += aij * vi;
    }
    p[i] += acc;
  }
  let ptv = 0;
  for (let i = s; i < n; i++) {
    p[i] *= beta;
    ptv += p[i] * v[i];
  }
  // u = p − (β/2)(pᵀv)·v, stored over p
  const half = 0.5 * beta * ptv;
  for (let i = s; i < n; i++) p[i] -= half * v[i];
  // A₂₂ −= v·uᵀ + u·vᵀ, lower triangle only
  for (let i = s; i < n; i++) {
    const ri = i * n;
    const vi = v[i];
    const ui = p[i];
    for (let j = s; j <= i; j++) w[ri + j] -= vi * p[j] + ui * v[j];
  }
}

/**
 * Q = H₀·H₁·…·H_{n−3} from the reflectors stored in the rows of w, accumulated right to left so
 * each product touches only its trailing block. `t` is scratch.
 */
function accumulateQ(w: Float64Array, n: number, betas: Float64Array, t: Float64Array): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let k = n - 3; k >= 0; k--) {
    const beta = betas[k];
    if (beta === 0) continue;
    const s = k + 1;
    const v = w.subarray(k * n, k * n + n);
    // t = vᵀ·Q[s:, s:] (a row), then Q[s:, s:] −= β·v·t
    t.fill(0, s, n);
    for (let i = s; i < n; i++) {
      const vi = v[i];
      if (vi === 0) continue;
      const ri = i * n;
      for (let j = s; j < n; j++) t[j] += vi * q[ri + j];
    }
    for (let i = s; i < n; i++) {
      const f = beta * v[i];
      if (f === 0) continue;
      const ri = i * n;
      for (let j = s; j < n; j++) q[ri + j] -= f * t[j];
    }
  }
  return q;
}

/**
 * Implicit QL on the symmetric tridiagonal (diag, off); on return diag holds the eigenvalues and
 * row j of `vt` the eigenvector for diag[j] (vt starts as Qᵀ).
 *
 * For each leading index l: find the first negligible off-diagonal at m ≥ l; if m > l, take one QL
 * step on the block l..m with the shift taken from the eigenvalue of the leading 2×2 closest to
 * diag[l], chasing the bulge upwards from m with plane rotations.
 */
function tridiagonalQL(diag: Float64Array, off: Float64Array, vt: Float64Array, n: number): void {
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(diag[i]) + Math.abs(off[i]));
  const tol = EPS * norm;
  for (let l = 0; l < n; l++) {
    let sweeps = 0;
    for (;;) {
      let m = l;
      while (m < n - 1 && Math.abs(off[m]) > tol) m++;
      if (m === l) break;
      if (++sweeps > MAX_SWEEPS_PER_VALUE) {
        throw new Error(`symmetricEigen: the QL iteration did not converge for eigenvalue ${l} of ${n}`);
      }
      // Shift: the eigenvalue of [[d_l, e_l], [e_l, d_{l+1}]] nearer d_l.
      const theta = (diag[l + 1] - diag[l]) / (2 * off[l]);
      const rho = Math.hypot(theta, 1);
      const shift = diag[l] - off[l] / (theta + (theta >= 0 ? rho : -rho));
      // g starts as d_m − shift; the rotations run from m−1 down to l.
      let g = diag[m] - shift;
      let sn = 1;
      let cs = 1;
      let carry = 0; // amount moved from diag[i+1] by the previous rotation
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = sn * off[i];
        const b = cs * off[i];
        const r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) {
          // The bulge vanished (underflow): split here and start over.
          diag[i + 1] -= carry;
          off[m] = 0;
          deflated = true;
          break;
        }
        sn = f / r;
        cs = g / r;
        const h = diag[i + 1] - carry;
        const z = (diag[i] - h) * sn + 2 * cs * b;
        carry = sn * z;
        diag[i + 1] = h + carry;
        g = cs * z - b;
        rotateRows(vt, n, i, i + 1, cs, sn);
      }
      if (deflated) continue;
      diag[l] -= carry;
      off[l] = g;
      off[m] = 0;
    }
  }
}

/** rows (a, b) of the n-column matrix ← (c·a − s·b, s·a + c·b). */
function rotateRows(m: Float64Array, n: number, a: number, b: number, c: number, s: number): void {
  const ra = a * n;
  const rb = b * n;
  for (let k = 0; k < n; k++) {
    const x = m[ra + k];
    const y = m[rb + k];
    m[ra + k] = c * x - s * y;
    m[rb + k] = s * x + c * y;
  }
}

function transpose(m: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = m[i * n + j];
  return t;
}

function sortAndOrient(diag: Float64Array, vt: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i);
  // Stable sort, descending.
  order.sort((x, y) => diag[y] - diag[x] || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const src = order[j];
    values[j] = diag[src];
    const row = vt.subarray(src * n, src * n + n);
    let big = 0;
    let at = 0;
    for (let k = 0; k < n; k++) {
      const v = Math.abs(row[k]);
      if (v > big * (1 + 1e-12)) {
        big = v;
        at = k;
      }
    }
    const sign = row[at] < 0 ? -1 : 1;
    const dst = j * n;
    for (let k = 0; k < n; k++) vectors[dst + k] = sign * row[k];
  }
  return { values, vectors };
}
