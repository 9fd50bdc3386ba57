/**
 * The native backend: the C++ addon, loaded through node-gyp-build (a prebuilt binary from
 * prebuilds/ first, then build/Release). The addon exports every Backend kernel under the same name
 * with the same positional arguments, so this file only loads it and reports what it is.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isMainThread } from 'worker_threads';
import type { Backend, Capabilities } from './types';
import { VERSION } from '../version';
import { threadsChanged } from './threads';

/** The package root (the folder holding minibatch's package.json), found from this file. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'minibatch') return dir;
      } catch {
        /* keep walking */
      }
    }
    dir = path.dirname(dir);
  }
  return path.join(__dirname, '..', '..');
}

/** Raw addon exports (untyped); tests use it to reach the native side directly. */
export interface NativeAddon {
  nativeInfo(): {
    simd: 'avx512' | 'avx2' | 'scalar'; cpuAvx2: boolean; cpuAvx512: boolean; openmp: boolean; threads: number;
    /** the OpenMP wait variables set when the addon loaded, e.g. 'GOMP_SPINCOUNT=1000 KMP_BLOCKTIME=0' */
    ompEnv: string;
    /** data cache sizes in bytes as read at load, and where from ('cpuid', 'sysconf' or 'default') */
    caches: { l1d: number; l2: number; l3: number; source: string };
    /** the GEMM's register tile and cache blocks chosen from them (native/kernels/gemm_config.h) */
    gemmBlocks: { mr: number; nr: number; kc: number; kcMax: number; mc: number; nc: number };
    /** floats a chunk of the guarded optimizer updates, from the L1d size (native/kernels/optim.h) */
    optimGuardChunk: number;
  };
  [name: string]: any;
}

/** Where the addon was loaded from (absolute path), for diagnostics and the install test. */
export let loadedFrom: string | null = null;

/**
 * The OpenMP variables a user may set to choose how idle threads wait. When any is set the library
 * sets nothing.
 */
const USER_WAIT_VARS = ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'KMP_BLOCKTIME', 'KMP_LIBRARY'] as const;

/**
 * The library's default for a process that lives inside a server: idle OpenMP threads spin only
 * briefly after a parallel region (GOMP_SPINCOUNT=1000 iterations of `pause` for libgomp, some tens
 * of microseconds: enough to catch the next region of the same step) and then sleep; LLVM's libomp
 * sleeps at once (KMP_BLOCKTIME=0). libgomp's own default is 300,000 spins, milliseconds of a core
 * taken from other work after every call — the cost shows in `npm run bench -- threads`.
 */
export const LIBRARY_WAIT_POLICY: Readonly<Record<string, string>> = { GOMP_SPINCOUNT: '1000', KMP_BLOCKTIME: '0' };

/** The variables the library would set given the environment `env` (none when the user set one). */
export function waitPolicyEnv(env: Record<string, string | undefined>): Record<string, string> {
  return USER_WAIT_VARS.some((k) => env[k] !== undefined) ? {} : { ...LIBRARY_WAIT_POLICY };
}

/** Whether an OpenMP runtime is already mapped into this process (Linux; false where unknown). */
function openmpLoaded(): boolean {
  try {
    return /lib(g|i)?omp[^/]*\.so/.test(fs.readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Runs `load` (which loads the addon and with it the OpenMP runtime) with the library's wait policy
 * in the environment, where the runtime reads it once as it loads; the variables are removed again
 * afterwards, so child processes see the environment the user gave. Nothing is set when the user
 * set an OpenMP wait variable or when an OpenMP runtime is already loaded (it would not read them).
 */
function withWaitPolicy<T>(load: () => T): T {
  const vars = waitPolicyEnv(process.env);
  const keys = Object.keys(vars);
  if (keys.length === 0 || openmpLoaded()) return load();
  for (const k of keys) process.env[k] = vars[k];
  try {
    return load();
  } finally {
    for (const k of keys) delete process.env[k];
  }
}

/** Capabilities.waitPolicy from the OpenMP variables the addon saw as it loaded (`ompEnv`). */
export function describeWaitPolicy(ompEnv: string, env: Record<string, string | undefined> = process.env): string {
  const user = USER_WAIT_VARS.filter((k) => env[k] !== undefined).map((k) => `${k}=${env[k]}`);
  if (user.length) return `user (${user.join(' ')})`;
  if (ompEnv) return `library default (${ompEnv})`;
  return isMainThread
    ? 'runtime default (the OpenMP runtime was loaded before minibatch)'
    : 'runtime default (the OpenMP runtime was loaded before minibatch, or minibatch was first loaded in a ' +
        'worker thread, whose environment the runtime does not see: load it on the main thread first)';
}


/**
 * Loads the addon. `dir` (or the MINIBATCH_ADDON environment variable) overrides where to look — a
 * cmake-js build folder, say: a directory holding minibatch.node, or the path of the file itself.
 */
export function loadAddon(dir: string | undefined = process.env.MINIBATCH_ADDON || undefined): NativeAddon {
  if (dir) {
    loadedFrom = dir.endsWith('.node') ? dir : path.join(dir, 'minibatch.node');
    const file = dir.endsWith('.node') ? dir : path.join(dir, 'minibatch.node');
    return withWaitPolicy(() => require(file) as NativeAddon);
  }
  const root = packageRoot();
  const nodeGypBuild = require('node-gyp-build') as { (d: string): any; resolve(d: string): string };
  loadedFrom = nodeGypBuild.resolve(root);
  return withWaitPolicy(() => nodeGypBuild(root) as NativeAddon);
}

/** Addon exports that are not kernels of the contract (reached through lib/testing.ts). */
const TEST_HOOKS = new Set([
  'nativeInfo', 'gemmRef', 'normReference', 'poolReference', 'statsReference', 'globalPoolReference', 'copyBuffer', 'fmaPeak',
  'conv2dDirect', 'conv2dDirectPool', 'conv2dDirectDx', 'conv2dDirectDw', 'conv2dDirectDwFits',
]);

/** The Backend over the addon: its kernels under the contract's names, nothing else. */
export function createNativeBackend(addon: NativeAddon = loadAddon()): Backend {
  const addonPath = loadedFrom ?? undefined;
  const b = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(addon)) if (!TEST_HOOKS.has(key)) b[key] = addon[key];
  b.name = 'native';
  b.setNumThreads = (n: number): void => {
    // Layers re-ask their workspace sizes after a change; setting the count it already has is free.
    const before = addon.getNumThreads();
    addon.setNumThreads(n);
    if (addon.getNumThreads() !== before) threadsChanged();
  };
  b.capabilities = (): Capabilities => {
    const info = addon.nativeInfo();
    return {
      backend: 'native', simd: info.simd, openmp: info.openmp, threads: info.threads, version: VERSION, addonPath,
      waitPolicy: info.openmp ? describeWaitPolicy(info.ompEnv) : 'none (built without OpenMP)',
    };
  };
  return b as unknown as Backend;
}
