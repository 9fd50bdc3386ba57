// The published package as a consumer sees it: the declarations in dist/ compile without
// @types/node, and the ESM entry exports exactly the names of the CommonJS build. dist/ is rebuilt
// first when any source in lib/ is newer than it.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import ts from 'typescript';

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const cjsTypes = path.join(dist, 'cjs', 'index.d.ts');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

function declarationFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? declarationFiles(p) : p.endsWith('.d.ts') ? [p] : [];
  });
}

beforeAll(() => {
  const built = path.join(dist, 'esm', 'index.js');
  const stale = !fs.existsSync(built) || !fs.existsSync(cjsTypes) || fs.statSync(built).mtimeMs < newestMtime(path.join(root, 'lib'));
  if (stale) execFileSync(process.execPath, [path.join(root, 'scripts', 'build-ts.mjs')], { cwd: root, stdio: 'pipe', timeout: 300_000 });
}, 300_000);

describe('published declarations', () => {
  it('name no Node.js types in what index.d.ts reaches', () => {
    const program = ts.createProgram([cjsTypes], { noEmit: true, types: [], skipLibCheck: false, strict: true });
    const reached = program
      .getSourceFiles()
      .map((f) => path.resolve(f.fileName))
      .filter((f) => f.startsWith(dist));
    expect(reached.length).toBeGreaterThan(20);
    for (const f of reached) {
      const text = fs.readFileSync(f, 'utf8');
      expect({ file: path.relative(root, f), buffer: /(?<![A-Za-z])Buffer\b/.test(text), nodejs: /\bNodeJS\./.test(text) }).toEqual({
        file: path.relative(root, f),
        buffer: false,
        nodejs: false,
      });
    }
  });

  it('a consumer compiles against dist/cjs/index.d.ts with types: []', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-types-'));
    try {
      const file = path.join(dir, 'consumer.ts');
      const entry = JSON.stringify(cjsTypes.replace(/\.d\.ts$/, '').split(path.sep).join('/'));
      fs.writeFileSync(
        file,
        [
          `import * as mb from ${entry};`,
          `const model = new mb.Sequential([new mb.Linear({ inFeatures: 4, outFeatures: 2 })], { inputShape: [4] });`,
          `const bytes: Uint8Array = mb.encodeSafetensors({ w: { shape: [2], data: new Float32Array(2) } });`,
          `const back = mb.decodeSafetensors(bytes);`,
          `const n: number = back.tensors.w.shape[0] + model.layers.length;`,
          `export { n };`,
          // a real error must still be reported (the check is not vacuous)
          `// @ts-expect-error encodeSafetensors returns bytes, not a string`,
          `const s: string = mb.encodeSafetensors({});`,
          `export { s };`,
        ].join('\n'),
      );
      const options: ts.CompilerOptions = {
        noEmit: true,
        strict: true,
        types: [],
        skipLibCheck: false,
        target: ts.ScriptTarget.ES2020,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        lib: ['lib.es2022.d.ts'],
        typeRoots: [],
      };
      const program = ts.createProgram([file], options);
      const diags = ts.getPreEmitDiagnostics(program).map((d) => {
        const where = d.file ? `${path.relative(root, d.file.fileName)}: ` : '';
        return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
      });
      expect(diags).toEqual([]);
      // no @types/node anywhere in the program
      expect(program.getSourceFiles().filter((f) => f.fileName.includes('@types/node'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('module entries', () => {
  it('the ESM entry exports the names the CommonJS build exports', () => {
    const script = [
      `import { createRequire } from 'node:module';`,
      `import { pathToFileURL } from 'node:url';`,
      `const require = createRequire(import.meta.url);`,
      `const cjs = Object.keys(require(${JSON.stringify(path.join(dist, 'cjs'))})).filter((k) => k !== '__esModule');`,
      `const esm = await import(pathToFileURL(${JSON.stringify(path.join(dist, 'esm', 'index.js'))}).href);`,
      `const names = Object.keys(esm);`,
      `console.log(JSON.stringify({ cjs: cjs.sort(), esm: names.filter((k) => k !== 'default').sort(), hasDefault: names.includes('default'), same: esm.default === require(${JSON.stringify(path.join(dist, 'cjs'))}) }));`,
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.cjs.length).toBeGreaterThan(50);
    expect(r.cjs).toContain('fit');
    expect(r.esm).toEqual(r.cjs);
    expect(r.hasDefault).toBe(true);
    expect(r.same).toBe(true);
  });
});
