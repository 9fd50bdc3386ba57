/**
 * Backend selection: `native` when the addon loads, else `js` with one warning that says why and
 * what to do. MINIBATCH_BACKEND=js|native, or setBackend(), overrides; asking for `native` when it
 * cannot load is an error, not a fallback.
 *
 * The rule for layers, models, optimizers, losses and preprocessors: an object given a `backend`
 * option keeps that backend; one given none uses the current backend at each call, so setBackend()
 * takes effect everywhere at once, built models included. A Sequential given a backend passes it to
 * its layers and to its parameter arena, and an optimizer over that arena given no backend of its
 * own uses it too.
 */
import type { Backend, BackendName, Capabilities } from './types';
import { checkInt, describe, fail } from '../validate';
import { createJsBackend } from './js';
import * as fs from 'fs';
import * as path from 'path';
import { createNativeBackend, loadAddon, packageRoot } from './native';

let current: Backend | null = null;
let jsSingleton: Backend | null = null;
let nativeSingleton: Backend | null = null;
let nativeError: Error | null = null;
let warned = false;

export function jsBackend(): Backend {
  return (jsSingleton ??= createJsBackend());
}

/** The native backend, or throws an Error that says why it cannot load and how to fix it. */
export function nativeBackend(): Backend {
  if (nativeSingleton) return nativeSingleton;
  if (nativeError) throw nativeError;
  try {
    nativeSingleton = createNativeBackend(loadAddon());
    return nativeSingleton;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    const log = path.join(packageRoot(), 'native-build.log');
    const atInstall = fs.existsSync(log) ? ` The native build failed at install (log: ${log}).` : '';
    nativeError = new Error(
      `minibatch: the native addon could not be loaded (${why}).${atInstall} ` +
        'Rebuild it with `npm rebuild minibatch` (needs python3, make and a C++17 compiler), ' +
        'or use the pure-TypeScript backend with MINIBATCH_BACKEND=js.',
    );
    throw nativeError;
  }
}

function checkName(name: unknown, source: string): BackendName {
  if (name !== 'js' && name !== 'native') {
    throw new TypeError(`Expected 'js' or 'native' for ${source} but received ${JSON.stringify(name)}`);
  }
  return name;
}

/** The backend every layer uses unless given another. */
export function getBackend(): Backend {
  if (current) return current;
  const env = process.env.MINIBATCH_BACKEND;
  if (env !== undefined && env !== '') {
    current = checkName(env, 'MINIBATCH_BACKEND') === 'native' ? nativeBackend() : jsBackend();
    return current;
  }
  try {
    current = nativeBackend();
  } catch (e) {
    if (!warned) {
      warned = true;
      process.emitWarning(`${(e as Error).message} Falling back to the js backend.`, 'MinibatchWarning');
    }
    current = jsBackend();
  }
  return current;
}

/** Chooses the backend explicitly ('native' throws when the addon cannot load). */
export function setBackend(name: BackendName): Backend {
  current = checkName(name, 'backend') === 'native' ? nativeBackend() : jsBackend();
  return current;
}

/**
 * Checks a `backend` option: undefined (use the current backend at each call), 'js', 'native'
 * (resolved now: an error when the addon cannot load) or a Backend object (one with the contract's
 * kernels). The one checker every options object uses.
 */
export function checkBackend(b: unknown, name = 'backend'): Backend | undefined {
  if (b === undefined) return undefined;
  if (b === 'js' || b === 'native') return b === 'native' ? nativeBackend() : jsBackend();
  const k = b as Partial<Backend> | null;
  if (k !== null && typeof k === 'object' && typeof k.gemm === 'function' && typeof k.sgdStep === 'function' && typeof k.softmaxCrossEntropy === 'function') {
    return b as Backend;
  }
  return fail('type', "'js', 'native' or a Backend object", name, describe(b));
}

/** What the library runs on: backend, SIMD level chosen at run time, OpenMP, threads, version. */
export function capabilities(): Capabilities {
  return getBackend().capabilities();
}

/** Threads the native kernels use from now on (in the calling thread; a worker has its own). */
export function setNumThreads(n: number): void {
  checkInt(n, 'n', 1, 1024);
  getBackend().setNumThreads(n);
}

/** Threads the native kernels use (1 for js). */
export function getNumThreads(): number {
  return getBackend().getNumThreads();
}
