/**
 * The native backend: the C++ addon, loaded through node-gyp-build (a prebuilt binary from
 * prebuilds/ first, then build/Release). The addon exports every Backend kernel under the same name
 * with the same positional arguments, so this file only loads it and reports what it is.
 */
import * as fs from 'fs';
import * as path from 'path';
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
  nativeInfo(): { simd: 'avx512' | 'avx2' | 'scalar'; cpuAvx2: boolean; cpuAvx512: boolean; openmp: boolean; threads: number };
  [name: string]: any;
}

/** Where the addon was loaded from (absolute path), for diagnostics and the install test. */
export let loadedFrom: string | null = null;

/**
 * Loads the addon. `dir` (or the MINIBATCH_ADDON environment variable) overrides where to look — a
 * cmake-js build folder, say: a directory holding minibatch.node, or the path of the file itself.
 */
export function loadAddon(dir: string | undefined = process.env.MINIBATCH_ADDON || undefined): NativeAddon {
  if (dir) {
    loadedFrom = dir.endsWith('.node') ? dir : path.join(dir, 'minibatch.node');
    const file = dir.endsWith('.node') ? dir : path.join(dir, 'minibatch.node');
    return require(file) as NativeAddon;
  }
  const root = packageRoot();
  const nodeGypBuild = require('node-gyp-build') as { (d: string): any; resolve(d: string): string };
  loadedFrom = nodeGypBuild.resolve(root);
  return nodeGypBuild(root) as NativeAddon;
}

/** Addon exports that are not kernels of the contract (reached through lib/testing.ts). */
const TEST_HOOKS = new Set(['nativeInfo', 'gemmRef', 'normReference', 'copyBuffer']);

/** The Backend over the addon: its kernels under the contract's names, nothing else. */
export function createNativeBackend(addon: NativeAddon = loadAddon()): Backend {
  const addonPath = loadedFrom ?? undefined;
  const b = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(addon)) if (!TEST_HOOKS.has(key)) b[key] = addon[key];
  b.name = 'native';
  b.setNumThreads = (n: number): void => {
    addon.setNumThreads(n);
    threadsChanged();
  };
  b.capabilities = (): Capabilities => {
    const info = addon.nativeInfo();
    return { backend: 'native', simd: info.simd, openmp: info.openmp, threads: info.threads, version: VERSION, addonPath };
  };
  return b as unknown as Backend;
}
