/**
 * The js backend: every kernel in plain TypeScript — the readable reference, the fallback when the
 * addon cannot load, and the other side of every native-vs-JS benchmark. One file per kernel family
 * under ./js/.
 */
import type { Backend, Capabilities } from './types';
import { VERSION } from '../version';
import * as gemm from './js/gemm';
import * as activations from './js/activations';
import * as loss from './js/loss';
import * as conv from './js/conv';
import * as convGrouped from './js/conv_grouped';
import * as pool from './js/pool';
import * as globalPool from './js/global_pool';
import * as norm from './js/norm';
import * as optim from './js/optim';
import { withChecks } from './js/checks';
import * as stats from './js/stats';

export function createJsBackend(): Backend {
  // every kernel checks its arguments as the native glue does (same messages)
  return withChecks({
    name: 'js',
    capabilities(): Capabilities {
      return { backend: 'js', simd: 'scalar', openmp: false, threads: 1, version: VERSION };
    },
    setNumThreads(): void {},
    getNumThreads(): number {
      return 1;
    },
    ...gemm,
    ...activations,
    ...loss,
    ...conv,
    ...convGrouped,
    ...pool,
    ...globalPool,
    ...norm,
    ...optim,
    ...stats,
  } satisfies Backend);
}
