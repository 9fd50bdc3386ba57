/**
 * Backend selection: `native` when the addon loads, else `js` with one warning that says why and
 * what to do. MINIBATCH_BACKEND=js|native, or setBackend(), overrides; asking for `native` when it
 * cannot load is an error, not a fallback.
 */
import type { Backend, BackendName } from './types';
import { createJsBackend } from './js';
import * as fs from 'fs';
import * as path from 'path';
import { createNativeBackend, loadAddon, packageRoot } from './native';
import { describe } from '../validate';

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

/** Resolves an explicit option: a name, a Backend object, or undefined for the current one. */
export function resolveBackend(b: BackendName | Backend | undefined): Backend {
  if (b === undefined) return getBackend();
  if (typeof b === 'string') return checkName(b, 'backend') === 'native' ? nativeBackend() : jsBackend();
  const o = b as Partial<Backend> | null;
  if (o === null || typeof o !== 'object' || (o.name !== 'js' && o.name !== 'native') || typeof o.gemm !== 'function') {
    throw new TypeError(`Expected 'js', 'native' or a Backend object for backend but received ${describe(b)}`);
  }
  return b;
}
