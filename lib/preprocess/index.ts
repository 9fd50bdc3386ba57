/**
 * Data preprocessing in the CS231n sense: statistics are fitted on the training data once, then the
 * same transform is applied to every split. Every transform here
 * - takes a Tensor of shape [N, D] (or [N, C, H, W], flattened to D = C·H·W) or number[][];
 * - returns a new Tensor (the input is never modified);
 * - validates the width against what it was fitted on, and names both shapes when they differ;
 * - serializes with `toJSON()` and comes back with the static `fromJSON()`.
 *
 * Statistics (means, variances) are accumulated in double precision. PCA and ZCA form the covariance
 * XᵀX/(N−1) of the centered data with the backend's float32 GEMM (centering first keeps the float32
 * sums well conditioned), then decompose it in double precision with lib/linalg.ts.
 */
export type { DataInput } from './common';
export { StandardScaler, MeanCenter, ChannelNormalizer } from './scalers';
export type { ChannelNormalizerArgs } from './scalers';
export { PCA, ZCA } from './pca';
export type { PCAArgs, ZCAArgs } from './pca';
