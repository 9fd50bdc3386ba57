// Lists the native sources for binding.gyp: `node scripts/sources.js base|avx2`.
// base: every .cc under native/ except *_avx2.cc; avx2: the *_avx2.cc files (compiled with -mavx2 -mfma).
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
const kind = process.argv[2] || 'base';
const out = [];
for (const dir of ['native', 'native/kernels', 'native/binding']) {
  for (const f of fs.readdirSync(path.join(root, dir)).sort()) {
    if (!f.endsWith('.cc')) continue;
    const isAvx2 = f.endsWith('_avx2.cc');
    if ((kind === 'avx2') === isAvx2) out.push(`${dir}/${f}`);
  }
}
process.stdout.write(out.join(' '));
