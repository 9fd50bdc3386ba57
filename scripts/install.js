#!/usr/bin/env node
// npm install hook: use the prebuilt binary for this platform when one loads, else build the addon
// from binding.gyp; when that fails too (no compiler, no python), warn and exit 0 so the install
// succeeds and the pure-TypeScript backend is used. Replaces a bare `node-gyp-build`, which fails
// the whole install when no binary fits and no compiler is there. The warning is printed here
// (npm shows it with --foreground-scripts) and again, with the log's path, when the library loads.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const LOG = path.join(root, 'native-build.log');

/** Whether node-gyp-build finds a binary that loads (in a child, so a bad binary cannot kill us). */
function loads() {
  const code = `require(${JSON.stringify(require.resolve('node-gyp-build'))})(${JSON.stringify(root)})`;
  const r = spawnSync(process.execPath, ['-e', code], { stdio: 'pipe', encoding: 'utf8' });
  return r.status === 0;
}

function fromSource() {
  const v = process.env.npm_config_build_from_source;
  return v === 'true' || v === 'minibatch';
}

/** node-gyp as npm provides it, then as a dependency, then on PATH. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed as a package */
  }
  for (const c of candidates) if (c && fs.existsSync(c)) return [process.execPath, c];
  return [process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp'];
}

function main() {
  if (process.env.MINIBATCH_SKIP_NATIVE === '1') {
    console.warn('minibatch: MINIBATCH_SKIP_NATIVE=1, the native addon was not built; the js backend will be used.');
    return;
  }
  if (!fromSource() && loads()) return;
  const [cmd, ...pre] = nodeGyp();
  const r = spawnSync(cmd, [...pre, 'rebuild'], { cwd: root, stdio: 'pipe', encoding: 'utf8', shell: process.platform === 'win32' });
  const log = `${r.error ? `${r.error.message}\n` : ''}${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status === 0 && loads()) {
    fs.rmSync(LOG, { force: true });
    return;
  }
  fs.writeFileSync(LOG, log);
  const why = r.error
    ? r.error.message
    : (log.split('\n').filter((l) => /error|not found|No such file/i.test(l)).slice(-3).join('\n  ') || `node-gyp exited with ${r.status}`);
  console.warn(
    [
      `minibatch: no prebuilt binary for ${process.platform}-${process.arch} loaded and building the native addon failed:`,
      `  ${why}`,
      `  (full log: ${LOG})`,
      'minibatch is installed and works with its pure-TypeScript backend (same results, slower).',
      'To get the native backend, install python3, make and a C++17 compiler (g++ or clang++), then run `npm rebuild minibatch`.',
    ].join('\n'),
  );
}

main();
