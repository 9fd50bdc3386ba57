// `npm run bench`: runs every benchmark family (or those named: `npm run bench -- gemm conv`),
// prints the tables and writes them, with the command and the machine, to bench/RESULTS.md.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { capabilities } from '../lib/index';

const FAMILIES = ['gemm', 'activations', 'conv', 'pool', 'norm', 'train', 'infer', 'scale', 'threads', 'mnist', 'serve', 'resnet'];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const families = wanted.length ? wanted : FAMILIES;
  const caps = capabilities();
  const header = [
    `# Benchmark results`,
    ``,
    `Command: \`npm run bench${wanted.length ? ' -- ' + wanted.join(' ') : ''}\`  `,
    `Date: ${new Date().toISOString()}  `,
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, Node ${process.version}  `,
    `minibatch ${caps.version}: backend ${caps.backend}, SIMD ${caps.simd}, OpenMP ${caps.openmp}, wait policy ${caps.waitPolicy ?? '—'}  `,
    `Load average at the start: ${os.loadavg().map((v) => v.toFixed(2)).join(' / ')} (each family prints its own at the end)`,
    ``,
    `Times are medians over repeats; ratios are from this one run.`,
  ];
  console.log(header.join('\n'));
  const sections: string[] = [];
  for (const f of families) {
    const file = path.join(__dirname, `${f}.ts`);
    if (!fs.existsSync(file)) {
      console.log(`\n(${f}: no benchmark file)`);
      continue;
    }
    const mod = await import(file);
    const t0 = Date.now();
    const md: string = await (mod.run ?? mod.default?.run)();
    const s = `\n## ${f}\n${md}\n\n_(${((Date.now() - t0) / 1000).toFixed(0)} s)_\n`;
    console.log(s);
    sections.push(s);
  }
  const out = path.join(__dirname, wanted.length ? `RESULTS-${wanted.join('-')}.md` : 'RESULTS.md');
  fs.writeFileSync(out, header.join('\n') + '\n' + sections.join('\n'));
  console.log(`\nwritten to ${path.relative(process.cwd(), out)}`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
