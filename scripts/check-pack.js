#!/usr/bin/env node
// prepack guard: a package never ships without the binaries it promises. package.json's
// "minibatch.prebuilds" lists the platforms (e.g. "linux-x64") whose binary must be in
// prebuilds/<platform>/; the one for this machine must also load and answer nativeInfo().
// `npm run build:prebuilds` makes the binary for this platform.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const promised = (pkg.minibatch && pkg.minibatch.prebuilds) || [];
const problems = [];

for (const platform of promised) {
  const dir = path.join(root, 'prebuilds', platform);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
  if (files.length === 0) {
    problems.push(`no binary in prebuilds/${platform}/`);
    continue;
  }
  if (platform !== `${process.platform}-${process.arch}`) continue;
  for (const f of files) {
    const file = path.join(dir, f);
    const r = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(file)}); if (typeof a.nativeInfo !== 'function') process.exit(2); a.nativeInfo();`], { encoding: 'utf8' });
    if (r.status !== 0) problems.push(`prebuilds/${platform}/${f} does not load here: ${(r.stderr || `exit ${r.status}`).trim().split('\n')[0]}`);
  }
}

if (problems.length) {
  console.error(`minibatch prepack: the package promises prebuilt binaries for ${promised.join(', ')} but ${problems.join('; ')}.`);
  console.error('Run `npm run build:prebuilds` on each promised platform (or change "minibatch.prebuilds" in package.json) and pack again.');
  process.exit(1);
}
console.log(`minibatch prepack: prebuilt binaries present for ${promised.join(', ') || 'no platform (source-only package)'}`);
