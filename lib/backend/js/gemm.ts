/**
 * GEMM in plain TypeScript: C = alpha · op(A) · op(B) + beta · C, row-major float32 (see Backend.gemm).
 *
 * The loop order follows the storage so that the innermost loop always walks memory with stride 1:
 * - op(B) = B [k, n] (transB false): i-p-j "axpy" form, C's row i += a(i, p) · B's row p, two rows
 *   of C × four rows of B per pass (each loaded value of B feeds two rows, each load/store of C four
 *   multiply-adds), blocked over p and j so the block of B stays in cache while A streams past it. A's transpose only changes how a(i, p) is
 *   read (one scalar per four-row step).
 * - op(B) = Bᵀ, B stored [n, k], A [m, k]: dot products along k, 2 rows of A × 4 rows of B per pass
 *   (8 accumulators), over blocks of B's rows.
 * - both transposed: two columns of C at a time, C[:, j] = Σ_p A's row p · b(j, p), accumulated in a
 *   scratch of 2·m doubles (the only allocation, per call) and scattered into C.
 * Sums are carried in JavaScript numbers (double), stored as float32.
 */

/** Rows of k per block (NN/TN). */
const KB = 128;
/** Columns of C per block (NN/TN): a KB × JB block of B is 128 KiB. */
const JB = 256;
/** Rows of B per block (NT). */
const NB = 64;

/** C = beta · C; beta == 0 writes zeros (NaN in C does not survive). */
function scaleC(c: Float32Array, len: number, beta: number): void {
  if (beta === 0) c.fill(0, 0, len);
  else if (beta !== 1) for (let i = 0; i < len; i++) c[i] *= beta;
}

/** C += alpha · op(A) · B, B stored [k, n]; a(i, p) = a[i·sai + p·sap]. Two rows of C per pass. */
function gemmAxpy(
  m: number, n: number, k: number, alpha: number, a: Float32Array, sai: number, sap: number,
  b: Float32Array, c: Float32Array,
): void {
  const m2 = m & ~1;
  for (let p0 = 0; p0 < k; p0 += KB) {
    const p1 = Math.min(k, p0 + KB);
    const p4 = p0 + ((p1 - p0) & ~3);
    for (let j0 = 0; j0 < n; j0 += JB) {
      const j1 = Math.min(n, j0 + JB);
      for (let i = 0; i < m2; i += 2) {
        const ci = i * n;
        const cn = ci + n;
        const ai = i * sai;
        const an = ai + sai;
        let p = p0;
        for (; p < p4; p += 4) {
          const q0 = p * sap;
          const q1 = q0 + sap;
          const q2 = q1 + sap;
          const q3 = q2 + sap;
          const a0 = alpha * a[ai + q0], a1 = alpha * a[ai + q1], a2 = alpha * a[ai + q2], a3 = alpha * a[ai + q3];
          const e0 = alpha * a[an + q0], e1 = alpha * a[an + q1], e2 = alpha * a[an + q2], e3 = alpha * a[an + q3];
          const b0 = p * n;
          const b1 = b0 + n;
          const b2 = b1 + n;
          const b3 = b2 + n;
          for (let j = j0; j < j1; j++) {
            const x0 = b[b0 + j], x1 = b[b1 + j], x2 = b[b2 + j], x3 = b[b3 + j];
            c[ci + j] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
            c[cn + j] += e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3;
          }
        }
        for (; p < p1; p++) {
          const a0 = alpha * a[ai + p * sap];
          const e0 = alpha * a[an + p * sap];
          const b0 = p * n;
          for (let j = j0; j < j1; j++) {
            const x0 = b[b0 + j];
            c[ci + j] += a0 * x0;
            c[cn + j] += e0 * x0;
          }
        }
      }
      if (m2 < m) {
        // the last, odd row
        const ci = m2 * n;
        const ai = m2 * sai;
        for (let p = p0; p < p1; p++) {
          const a0 = alpha * a[ai + p * sap];
          const b0 = p * n;
          for (let j = j0; j < j1; j++) c[ci + j] += a0 * b[b0 + j];
        }
      }
    }
  }
}

/** C += alpha · A · Bᵀ, A stored [m, k], B stored [n, k]: dot products, 2 × 4 at a time. */
function gemmDot(m: number, n: number, k: number, alpha: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  const m2 = m & ~1;
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(n, j0 + NB);
    const j4 = j0 + ((j1 - j0) & ~3);
    for (let i = 0; i < m2; i += 2) {
      const x0 = i * k;
      const x1 = x0 + k;
      let j = j0;
      for (; j < j4; j += 4) {
        const y0 = j * k;
        const y1 = y0 + k;
        const y2 = y1 + k;
        const y3 = y2 + k;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        for (let p = 0; p < k; p++) {
          const u0 = a[x0 + p];
          const u1 = a[x1 + p];
          const v0 = b[y0 + p];
          const v1 = b[y1 + p];
          const v2 = b[y2 + p];
          const v3 = b[y3 + p];
          s00 += u0 * v0; s01 += u0 * v1; s02 += u0 * v2; s03 += u0 * v3;
          s10 += u1 * v0; s11 += u1 * v1; s12 += u1 * v2; s13 += u1 * v3;
        }
        const c0 = i * n + j;
        const c1 = c0 + n;
        c[c0] += alpha * s00; c[c0 + 1] += alpha * s01; c[c0 + 2] += alpha * s02; c[c0 + 3] += alpha * s03;
        c[c1] += alpha * s10; c[c1 + 1] += alpha * s11; c[c1 + 2] += alpha * s12; c[c1 + 3] += alpha * s13;
      }
      for (; j < j1; j++) {
        const y0 = j * k;
        let s0 = 0, s1 = 0;
        for (let p = 0; p < k; p++) {
          s0 += a[x0 + p] * b[y0 + p];
          s1 += a[x1 + p] * b[y0 + p];
        }
        c[i * n + j] += alpha * s0;
        c[(i + 1) * n + j] += alpha * s1;
      }
    }
    if (m2 < m) {
      const x0 = m2 * k;
      for (let j = j0; j < j1; j++) {
        const y0 = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[x0 + p] * b[y0 + p];
        c[m2 * n + j] += alpha * s;
      }
    }
  }
}

/**
 * C += alpha · Aᵀ · Bᵀ, A stored [k, m], B stored [n, k]: two columns of C at a time,
 * C[:, j] = Σ_p A's row p · b(j, p), accumulated in a scratch of 2·m doubles (the only allocation,
 * proportional to one column of C) and scattered into C.
 */
function gemmCols(m: number, n: number, k: number, alpha: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  const col = new Float64Array(2 * m);
  const k2 = k & ~1;
  for (let j = 0; j < n; j += 2) {
    const pair = j + 1 < n;
    col.fill(0);
    const bj = j * k;
    const bk = pair ? bj + k : bj; // a lone last column computes itself twice
    let p = 0;
    for (; p < k2; p += 2) {
      const u0 = b[bj + p];
      const u1 = b[bj + p + 1];
      const v0 = b[bk + p];
      const v1 = b[bk + p + 1];
      const r0 = p * m;
      const r1 = r0 + m;
      for (let i = 0; i < m; i++) {
        const x0 = a[r0 + i];
        const x1 = a[r1 + i];
        col[i] += u0 * x0 + u1 * x1;
        col[m + i] += v0 * x0 + v1 * x1;
      }
    }
    for (; p < k; p++) {
      const u0 = b[bj + p];
      const v0 = b[bk + p];
      const r0 = p * m;
      for (let i = 0; i < m; i++) {
        col[i] += u0 * a[r0 + i];
        col[m + i] += v0 * a[r0 + i];
      }
    }
    for (let i = 0; i < m; i++) c[i * n + j] += alpha * col[i];
    if (pair) for (let i = 0; i < m; i++) c[i * n + j + 1] += alpha * col[m + i];
  }
}

/**
 * C = alpha · op(A) · op(B) + beta · C. op(A) is [m, k] (A stored [m, k], or [k, m] when transA),
 * op(B) is [k, n] (B stored [k, n], or [n, k] when transB), C is [m, n]. beta == 0 overwrites C.
 */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
): void {
  scaleC(c, m * n, beta);
  if (alpha === 0 || k === 0) return;
  if (!transB) gemmAxpy(m, n, k, alpha, a, transA ? 1 : k, transA ? m : 1, b, c);
  else if (!transA) gemmDot(m, n, k, alpha, a, b, c);
  else gemmCols(m, n, k, alpha, a, b, c);
}
