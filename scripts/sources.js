// Lists the native sources for binding.gyp: `node scripts/sources.js base|avx2|avx512`.
// base: every .cc under native/ except *_avx2.cc and *_avx512.cc; avx2: the *_avx2.cc files (compiled
// with -mavx2 -mfma); avx512: the *_avx512.cc files (compiled with -mavx512f/vl/dq/bw -mfma).
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
const kind = process.argv[2] || 'base';
const out = [];
for (const dir of ['native', 'native/kernels', 'native/binding']) {
  for (const f of fs.readdirSync(path.join(root, dir)).sort()) {
    if (!f.endsWith('.cc')) continue;
    const fileKind = f.endsWith('_avx2.cc') ? 'avx2' : f.endsWith('_avx512.cc') ? 'avx512' : 'base';
    if (fileKind === kind) out.push(`${dir}/${f}`);
  }
}
process.stdout.write(out.join(' '));
