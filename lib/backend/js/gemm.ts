/**
 * GEMM in plain TypeScript: C = alpha · op(A) · op(B) + beta · C, row-major float32 (see Backend.gemm).
 *
 * Packed, register-blocked GEMM (the layout of the native kernel, in scalars):
 * - op(B) is cut into blocks of KC rows × NC columns, each packed into panels of NR columns
 *   (panel-major, then p, then the NR values of one row of the panel: bp[p·NR + c]);
 * - op(A) is cut into blocks of MC rows × KC, each packed into panels of MR rows (ap[p·MR + r]);
 * - a micro-kernel holds an MR × NR tile of C in local variables over the k loop, so each step
 *   does MR·NR multiply-adds for MR + NR loads, all with stride 1.
 * Panels hold doubles: each float32 is converted once while packing, not at every load in the kernel.
 * Transposes only change how the packing reads A and B, so every case runs the same kernel. Panels
 * are zero-padded to whole MR / NR; edge tiles go through a small scratch and are stored in bounds.
 * Sums are carried in JavaScript numbers (double) over one KC block, then added into C as float32.
 * Tiny products skip the packing and run a direct triple loop.
 */

/** Rows of a register tile. */
const MR = 4;
/** Columns of a register tile. */
const NR = 3;
/** Rows of op(A) per packed block: MC × KC doubles (200 KiB) stay in L2 while B's panels stream. */
const MC = 64;
/** Depth of a packed block at most (k is cut into equal blocks no deeper than this). */
const KC = 400;
/** Columns of op(B) per packed block; one NR-column panel of it (KC × NR doubles) stays in L1. */
const NC = 512;
/** Products with m·n·k below this run the direct loop. */
const SMALL = 4096;

// Module-level scratch, grown on demand (at most MC·KC + KC·NC doubles, 1.8 MiB). JavaScript runs one
// call at a time per isolate and gemm never yields, so a call cannot see another call's data in it.
// A's block comes first, B's after it: one array keeps the micro-kernel's loop to one set of checks.
let pack = new Float64Array(0);
/** One edge tile (row-major MR × NR) before its in-bounds store. */
const tile = new Float64Array(MR * NR);

/** C = beta · C; beta == 0 writes zeros (NaN in C does not survive). */
function scaleC(c: Float32Array, len: number, beta: number): void {
  if (beta === 0) c.fill(0, 0, len);
  else if (beta !== 1) for (let i = 0; i < len; i++) c[i] *= beta;
}

/**
 * Packs op(A)[i0 : i0 + mc, p0 : p0 + kc] into MR-row panels; a(i, p) = a[i·sai + p·sap].
 * Rows past mc are zero.
 */
function packPanelsA(
  dst: Float64Array, a: Float32Array, sai: number, sap: number, i0: number, mc: number, p0: number, kc: number,
): void {
  let o = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    const base = (i0 + ir) * sai + p0 * sap;
    if (rows === MR) {
      const r0 = base;
      const r1 = r0 + sai;
      const r2 = r1 + sai;
      const r3 = r2 + sai;
      for (let p = 0; p < kc; p++) {
        const q = p * sap;
        dst[o] = a[r0 + q];
        dst[o + 1] = a[r1 + q];
        dst[o + 2] = a[r2 + q];
        dst[o + 3] = a[r3 + q];
        o += MR;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const q = base + p * sap;
        for (let r = 0; r < MR; r++) dst[o + r] = r < rows ? a[q + r * sai] : 0;
        o += MR;
      }
    }
  }
}

/**
 * Packs op(B)[p0 : p0 + kc, j0 : j0 + nc] into NR-column panels from dst[o]; b(p, j) = b[p·sbp + j·sbj].
 * Columns past nc are zero.
 */
function packPanelsB(
  dst: Float64Array, o: number, b: Float32Array, sbp: number, sbj: number, p0: number, kc: number, j0: number,
  nc: number,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    const base = p0 * sbp + (j0 + jr) * sbj;
    if (cols === NR) {
      const c0 = base;
      const c1 = c0 + sbj;
      const c2 = c1 + sbj;
      for (let p = 0; p < kc; p++) {
        const q = p * sbp;
        dst[o] = b[c0 + q];
        dst[o + 1] = b[c1 + q];
        dst[o + 2] = b[c2 + q];
        o += NR;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const q = base + p * sbp;
        for (let c = 0; c < NR; c++) dst[o + c] = c < cols ? b[q + c * sbj] : 0;
        o += NR;
      }
    }
  }
}

/**
 * One packed B panel (NR columns from pk[bo0]) against every A panel of the block (mc rows from
 * pk[0]): the tile of rows ir … ir + MR gets C[co0 + (ir + r)·ldc + c] += alpha · Σ_p pk[ir·kc + p·MR + r]
 * · pk[bo0 + p·NR + c]; only the first cols columns, and the rows below mc, are stored. Looping over
 * the A panels here rather than in the caller leaves one call per panel of B.
 */
function kernel(
  kc: number, pk: Float64Array, bo0: number, alpha: number,
  c: Float32Array, co0: number, ldc: number, mc: number, cols: number,
): void {
  const len = kc * MR;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    const co = co0 + ir * ldc;
    let ao = ir * kc;
    let bo = bo0;
    let c00 = 0, c01 = 0, c02 = 0;
    let c10 = 0, c11 = 0, c12 = 0;
    let c20 = 0, c21 = 0, c22 = 0;
    let c30 = 0, c31 = 0, c32 = 0;
    // Index sums are truncated with | 0 (they stay far below 2^31) so V8 drops its overflow checks.
    const end = ao + len;
    for (; ao < end; ao = (ao + MR) | 0, bo = (bo + NR) | 0) {
      const a0 = pk[ao], a1 = pk[(ao + 1) | 0], a2 = pk[(ao + 2) | 0], a3 = pk[(ao + 3) | 0];
      const b0 = pk[bo], b1 = pk[(bo + 1) | 0], b2 = pk[(bo + 2) | 0];
      c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2;
      c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2;
      c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2;
      c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2;
    }
    if (rows === MR && cols === NR) {
      let o = co;
      c[o] += alpha * c00; c[o + 1] += alpha * c01; c[o + 2] += alpha * c02;
      o += ldc;
      c[o] += alpha * c10; c[o + 1] += alpha * c11; c[o + 2] += alpha * c12;
      o += ldc;
      c[o] += alpha * c20; c[o + 1] += alpha * c21; c[o + 2] += alpha * c22;
      o += ldc;
      c[o] += alpha * c30; c[o + 1] += alpha * c31; c[o + 2] += alpha * c32;
      continue;
    }
    tile[0] = c00; tile[1] = c01; tile[2] = c02;
    tile[3] = c10; tile[4] = c11; tile[5] = c12;
    tile[6] = c20; tile[7] = c21; tile[8] = c22;
    tile[9] = c30; tile[10] = c31; tile[11] = c32;
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < cols; j++) c[co + r * ldc + j] += alpha * tile[r * NR + j];
  }
}

/** C += alpha · op(A) · op(B) through packed blocks; strides as in packPanelsA / packPanelsB. */
function gemmPacked(
  m: number, n: number, k: number, alpha: number,
  a: Float32Array, sai: number, sap: number, b: Float32Array, sbp: number, sbj: number, c: Float32Array,
): void {
  const ncMax = Math.min(NC, n);
  // k is cut into equal blocks of at most KC (784 → 2 × 392, not 3 × 256 + 16).
  const kcMax = Math.ceil(k / Math.ceil(k / KC));
  const mcMax = Math.min(MC, m);
  const needB = kcMax * (Math.ceil(ncMax / NR) * NR);
  const needA = kcMax * (Math.ceil(mcMax / MR) * MR);
  if (pack.length < needA + needB) pack = new Float64Array(needA + needB);
  const pk = pack;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let p0 = 0; p0 < k; p0 += kcMax) {
      const kc = Math.min(kcMax, k - p0);
      packPanelsB(pk, needA, b, sbp, sbj, p0, kc, j0, nc);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packPanelsA(pk, a, sai, sap, i0, mc, p0, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = Math.min(NR, nc - jr);
          kernel(kc, pk, needA + jr * kc, alpha, c, i0 * n + j0 + jr, n, mc, cols);
        }
      }
    }
  }
}

/** C += alpha · op(A) · op(B) by dot products, for tiny products. */
function gemmSmall(
  m: number, n: number, k: number, alpha: number,
  a: Float32Array, sai: number, sap: number, b: Float32Array, sbp: number, sbj: number, c: Float32Array,
): void {
  for (let i = 0; i < m; i++) {
    const ai = i * sai;
    const ci = i * n;
    for (let j = 0; j < n; j++) {
      const bj = j * sbj;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p * sap] * b[bj + p * sbp];
      c[ci + j] += alpha * s;
    }
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
  if (alpha === 0 || k === 0 || m === 0 || n === 0) return;
  const sai = transA ? 1 : k;
  const sap = transA ? m : 1;
  const sbp = transB ? 1 : n;
  const sbj = transB ? k : 1;
  if (m * n * k < SMALL) gemmSmall(m, n, k, alpha, a, sai, sap, b, sbp, sbj, c);
  else gemmPacked(m, n, k, alpha, a, sai, sap, b, sbp, sbj, c);
}
