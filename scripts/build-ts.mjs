// Compiles lib/ to CommonJS (dist/cjs, with .d.ts) and writes the ESM entry (dist/esm) as a thin
// wrapper over the CommonJS build, so both module systems share one instance (one backend state).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  // Installed as a dependency without devDependencies: dist/ ships in the package already.
  process.exit(0);
}
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });

const require = createRequire(import.meta.url);
const cjs = require(path.join(root, 'dist', 'cjs', 'index.js'));
const names = Object.keys(cjs).filter((k) => k !== 'default' && k !== '__esModule');
const esmDir = path.join(root, 'dist', 'esm');
fs.mkdirSync(esmDir, { recursive: true });
fs.writeFileSync(
  path.join(esmDir, 'index.js'),
  `// ESM entry: re-exports the CommonJS build (one module instance for both).\n` +
    `import cjs from '../cjs/index.js';\n` +
    `export const { ${names.join(', ')} } = cjs;\n` +
    `export default cjs;\n`,
);
// The types of exactly what index.js exports: every named export, and the module as the default.
fs.writeFileSync(
  path.join(esmDir, 'index.d.ts'),
  `export * from '../cjs/index.js';\nimport * as all from '../cjs/index.js';\nexport default all;\n`,
);
fs.writeFileSync(path.join(esmDir, 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
console.log(`built dist/cjs and dist/esm (${names.length} exports)`);
