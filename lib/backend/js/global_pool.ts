/**
 * Global average pooling, the js twin of native/kernels/global_pool.cc: the same sums (in double,
 * here in plane order, which is the native scalar path's order) and one rounding to float on the
 * store, so on Float32Array the js results equal the native scalar path's bit for bit (on
 * Float64Array, as the tests' gradient checks pass, they stay in double).
 */

/** y [planes] = the mean of each plane of x [n·c planes of hw values]. */
export function globalAvgPoolForward(y: Float32Array, x: Float32Array, n: number, c: number, hw: number): void {
  const planes = n * c;
  for (let pl = 0; pl < planes; pl++) {
    let s = 0;
    const o = pl * hw;
    for (let i = 0; i < hw; i++) s += x[o + i];
    y[pl] = s / hw;
  }
}

/** dx [planes, hw] (overwritten) = dy [planes] / hw over each plane (rounded once, as the float32 division). */
export function globalAvgPoolBackward(dx: Float32Array, dy: Float32Array, n: number, c: number, hw: number): void {
  const planes = n * c;
  for (let pl = 0; pl < planes; pl++) dx.fill(dy[pl] / hw, pl * hw, (pl + 1) * hw);
}
