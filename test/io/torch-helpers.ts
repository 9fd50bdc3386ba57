// What the PyTorch interop tests share: the probe for Debian's python3 with torch and numpy, and
// the relative error they compare with.
import { spawnSync } from 'child_process';

export const PY = '/usr/bin/python3';

/** The package /usr/bin/python3 lacks (torch or numpy), or null; warns once per file that skips. */
export function missingTorch(file: string): string | null {
  const probe = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  const missing = probe.status === 0 ? null : /numpy/.test(probe.stderr) ? 'numpy' : 'torch';
  if (missing) console.warn(`${file}: skipping the Python side: ${PY} has no ${missing} (Debian: apt-get install python3-torch)`);
  return missing;
}

/** max |ours - ref| / max |ref| */
export function maxRel(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(ours[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return d / m;
}
