/**
 * Grouped and depthwise convolution computed directly, the twin of native/kernels/conv_grouped.cc
 * (the same loops in the same order). Output channel co belongs to group g = co / (cOut / groups)
 * and reads the cIn / groups input channels of that group; w is [cOut, cIn / groups, kH, kW].
 */
import type { GroupedConv2dParams } from '../types';

/** The output columns [lo, hi) for which tap j reads inside the input row. */
function tapRange(j: number, p: GroupedConv2dParams): [number, number] {
  const off = j * p.dilationW - p.padW;
  const lo = off >= 0 ? 0 : Math.floor((-off + p.strideW - 1) / p.strideW);
  const last = p.w - 1 - off;
  const hi = last < 0 ? 0 : Math.min(p.outW, Math.floor(last / p.strideW) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Every tap of one (output channel, input channel) kernel between an input plane (from inBase,
 * read with the stride) and an output plane (from outBase, contiguous): toInput false adds
 * w·input into the output plane (forward), true adds w·output into the input plane (dx).
 */
function applyTaps(
  inp: Float32Array, inBase: number, outp: Float32Array, outBase: number,
  w: Float32Array, wp: number, p: GroupedConv2dParams, toInput: boolean,
): void {
  const sw = p.strideW;
  for (let i = 0; i < p.kH; i++) {
    for (let j = 0; j < p.kW; j++) {
      const wv = w[wp + i * p.kW + j];
      const [lo, hi] = tapRange(j, p);
      const coff = j * p.dilationW - p.padW;
      for (let oh = 0; oh < p.outH; oh++) {
        const ih = oh * p.strideH - p.padH + i * p.dilationH;
        if (ih < 0 || ih >= p.h) continue;
        const xr = inBase + ih * p.w + coff, yr = outBase + oh * p.outW;
        if (toInput) for (let ow = lo; ow < hi; ow++) inp[xr + ow * sw] += wv * outp[yr + ow];
        else for (let ow = lo; ow < hi; ow++) outp[yr + ow] += wv * inp[xr + ow * sw];
      }
    }
  }
}

export function groupedConv2dForward(y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, p: GroupedConv2dParams): void {
  const cg = p.cIn / p.groups, og = p.cOut / p.groups, inn = p.h * p.w, out = p.outH * p.outW;
  for (let pl = 0; pl < p.n * p.cOut; pl++) {
    const n = Math.floor(pl / p.cOut), co = pl % p.cOut, g = Math.floor(co / og);
    const yp = pl * out;
    y.fill(bias ? bias[co] : 0, yp, yp + out);
    for (let c = 0; c < cg; c++) {
      const xp = (n * p.cIn + g * cg + c) * inn;
      applyTaps(x, xp, y, yp, w, (co * cg + c) * p.kH * p.kW, p, false);
    }
  }
}

export function groupedConv2dBackward(
  dx: Float32Array | null, dw: Float32Array, db: Float32Array | null,
  x: Float32Array, w: Float32Array, dy: Float32Array, p: GroupedConv2dParams,
): void {
  const cg = p.cIn / p.groups, og = p.cOut / p.groups, inn = p.h * p.w, out = p.outH * p.outW, khw = p.kH * p.kW;
  for (let co = 0; co < p.cOut; co++) {
    const g = Math.floor(co / og);
    if (db) {
      let s = 0;
      for (let n = 0; n < p.n; n++) for (let k = 0, d = (n * p.cOut + co) * out; k < out; k++) s += dy[d + k];
      db[co] += s;
    }
    for (let c = 0; c < cg; c++) {
      const dwp = (co * cg + c) * khw;
      for (let i = 0; i < p.kH; i++) {
        for (let j = 0; j < p.kW; j++) {
          const [lo, hi] = tapRange(j, p);
          const coff = j * p.dilationW - p.padW;
          let acc = 0;
          for (let n = 0; n < p.n; n++) {
            const xp = (n * p.cIn + g * cg + c) * inn, dyp = (n * p.cOut + co) * out;
            for (let oh = 0; oh < p.outH; oh++) {
              const ih = oh * p.strideH - p.padH + i * p.dilationH;
              if (ih < 0 || ih >= p.h) continue;
              const xr = xp + ih * p.w + coff, dr = dyp + oh * p.outW;
              let s = 0;
              for (let ow = lo; ow < hi; ow++) s += dy[dr + ow] * x[xr + ow * p.strideW];
              acc += s;
            }
          }
          dw[dwp + i * p.kW + j] += acc;
        }
      }
    }
  }
  if (!dx) return;
  for (let u = 0; u < p.n * p.groups; u++) {
    const n = Math.floor(u / p.groups), g = u % p.groups;
    const dxg = (n * p.cIn + g * cg) * inn;
    dx.fill(0, dxg, dxg + cg * inn);
    for (let o = 0; o < og; o++) {
      const co = g * og + o, dyp = (n * p.cOut + co) * out;
      for (let c = 0; c < cg; c++) {
        applyTaps(dx, dxg + c * inn, dy, dyp, w, (co * cg + c) * khw, p, true);
      }
    }
  }
}
