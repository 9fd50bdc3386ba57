/**
 * The `minibatch` command line: info, report, init-experiment, bench. Arguments are parsed by
 * Node's own util.parseArgs (strict: an unknown flag is an error that lists the valid ones); every
 * command has --help. main() returns the exit code: 0 done, 1 failed, 2 bad usage.
 */
import { parseArgs } from 'util';
import * as fs from 'fs';
import { capabilities } from '../index';
import { getBackend, nativeBackend } from '../backend/index';
import { compareInits, LECTURE_CASES, type InitExperimentCase, type InitExperimentResult } from '../diagnostics/experiment';
import { initReport } from '../diagnostics/init-report';
import { report } from '../diagnostics/report';
import { loadRun } from '../diagnostics/run-file';
import { runBench } from './bench';

type Opt = { type: 'string' | 'boolean'; short?: string; help: string; arg?: string };
interface Command {
  summary: string;
  usage: string;
  options: Record<string, Opt>;
  positionals: [number, number];
  run(values: Record<string, string | boolean | undefined>, positionals: string[], out: Out): Promise<number> | number;
}
export interface Out {
  log(s: string): void;
  error(s: string): void;
}

const HELP: Opt = { type: 'boolean', short: 'h', help: 'show this help' };

/** Thrown for bad usage (exit code 2). */
class UsageError extends Error {}

const COMMANDS: Record<string, Command> = {
  info: {
    summary: 'backend, SIMD level, OpenMP, threads and where the addon was loaded from',
    usage: 'minibatch info [--json]',
    options: { json: { type: 'boolean', help: 'print JSON' }, help: HELP },
    positionals: [0, 0],
    run(v, _p, out) {
      const info = infoData();
      if (v.json) out.log(JSON.stringify(info, null, 2));
      else for (const [k, val] of Object.entries(info)) if (val !== undefined) out.log(`${`${k}:`.padEnd(10)} ${val}`);
      return 0;
    },
  },
  report: {
    summary: 'the training report page from a saved run (history and statistics)',
    usage: 'minibatch report <run.json> [-o report.html] [--title TEXT]',
    options: {
      out: { type: 'string', short: 'o', arg: 'FILE', help: 'page to write (default report.html)' },
      title: { type: 'string', arg: 'TEXT', help: "page title (default 'Training report')" },
      help: HELP,
    },
    positionals: [1, 1],
    run(v, p, out) {
      const file = p[0];
      const run = loadRun(file);
      const dest = (v.out as string | undefined) ?? 'report.html';
      const model = run.model && typeof run.model === 'object' ? (run.model as Record<string, unknown>) : undefined;
      const r = report(run.history, run.stats, { out: dest, source: file, notes: run.notes, model, title: v.title as string | undefined });
      for (const n of r.notes) out.error(`note: ${n}`);
      out.log(`wrote ${dest} (${r.charts} charts${r.notes.length ? `, ${r.notes.length} notes` : ''})`);
      return 0;
    },
  },
  'init-experiment': {
    summary: "the lecture's initialization experiment and its page",
    usage: 'minibatch init-experiment [--activation tanh|relu] [--init xavier|kaiming|STD] [--batch-norm] [-o init.html]',
    options: {
      activation: { type: 'string', arg: 'tanh|relu', help: 'nonlinearity (default: all five lecture cases when neither --activation nor --init is given)' },
      init: { type: 'string', arg: 'xavier|kaiming|STD', help: 'weight scale: xavier (1/sqrt(fanIn)), kaiming (sqrt(2/fanIn)) or a std such as 0.01' },
      'batch-norm': { type: 'boolean', help: 'BatchNorm before each nonlinearity' },
      layers: { type: 'string', arg: 'N', help: 'layers (default 6)' },
      width: { type: 'string', arg: 'N', help: 'units per layer (default 4096)' },
      batch: { type: 'string', arg: 'N', help: 'batch size (default 16)' },
      seed: { type: 'string', arg: 'N', help: 'seed (default 0)' },
      out: { type: 'string', short: 'o', arg: 'FILE', help: 'page to write (default init.html)' },
      json: { type: 'string', arg: 'FILE', help: 'also write the numbers as JSON' },
      help: HELP,
    },
    positionals: [0, 0],
    run(v, _p, out) {
      const common = {
        layers: intFlag(v.layers, 'layers'),
        width: intFlag(v.width, 'width'),
        batch: intFlag(v.batch, 'batch'),
        seed: intFlag(v.seed, 'seed'),
      };
      const bn = v['batch-norm'] === true;
      let cases: InitExperimentCase[];
      if (v.activation === undefined && v.init === undefined) cases = LECTURE_CASES.map((c) => ({ ...c, batchNorm: bn }));
      else {
        const init = v.init === undefined ? 'xavier' : v.init === 'xavier' || v.init === 'kaiming' ? v.init : Number(v.init);
        if (typeof init === 'number' && !(init > 0)) throw new UsageError(`Expected xavier, kaiming or a number > 0 for --init but received '${v.init}'`);
        cases = [{ activation: (v.activation ?? 'tanh') as 'tanh' | 'relu', init, batchNorm: bn }];
      }
      const results = compareInits(cases, Object.fromEntries(Object.entries(common).filter(([, x]) => x !== undefined)));
      for (const r of results) out.log(formatInit(r));
      const dest = (v.out as string | undefined) ?? 'init.html';
      const page = initReport(results, { out: dest });
      if (typeof v.json === 'string') fs.writeFileSync(v.json, JSON.stringify(results));
      out.log(`wrote ${dest} (${page.charts} charts)`);
      return 0;
    },
  },
  bench: {
    summary: 'a quick native-vs-js comparison on this machine (GEMM, a conv, an MLP and a CNN step)',
    usage: 'minibatch bench [--seconds S]',
    options: {
      seconds: { type: 'string', arg: 'S', help: 'total time budget in seconds (default 30)' },
      json: { type: 'boolean', help: 'print JSON' },
      help: HELP,
    },
    positionals: [0, 0],
    async run(v, _p, out) {
      const seconds = v.seconds === undefined ? 30 : Number(v.seconds);
      if (!(seconds > 0 && seconds <= 3600)) throw new UsageError(`Expected a number of seconds between 0 and 3600 for --seconds but received '${v.seconds}'`);
      const rows = await runBench(seconds, out);
      if (v.json) out.log(JSON.stringify(rows, null, 2));
      return 0;
    },
  },
};

function intFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`Expected an integer for --${name} but received '${String(v)}'`);
  return n;
}

function infoData(): Record<string, string | number | boolean | undefined> {
  const caps = capabilities();
  let fallback: string | undefined;
  if (caps.backend === 'js') {
    if (process.env.MINIBATCH_BACKEND === 'js') fallback = 'MINIBATCH_BACKEND=js chose the js backend';
    else {
      try {
        nativeBackend();
        fallback = 'the js backend was chosen explicitly';
      } catch (e) {
        fallback = (e as Error).message;
      }
    }
  }
  return {
    version: caps.version,
    backend: caps.backend,
    simd: caps.simd,
    openmp: caps.openmp,
    threads: caps.threads,
    addon: caps.addonPath,
    fallback,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

function formatInit(r: InitExperimentResult): string {
  const frac = (l: InitExperimentResult['results'][number]) => (r.activation === 'tanh' ? `sat ${(100 * l.saturated!).toFixed(1)}%` : `dead ${(100 * l.dead!).toFixed(1)}%`);
  return `${r.label}\n${r.results.map((l) => `  layer ${String(l.layer + 1).padStart(2)}  mean ${l.mean.toFixed(4).padStart(8)}  std ${l.std.toFixed(4)}  ${frac(l)}`).join('\n')}`;
}

function optionList(c: Command): string {
  return Object.entries(c.options)
    .map(([k, o]) => `  ${o.short ? `-${o.short}, ` : '    '}--${k}${o.arg ? ` ${o.arg}` : ''}`.padEnd(34) + o.help)
    .join('\n');
}

function commandHelp(name: string): string {
  const c = COMMANDS[name];
  return `${c.usage}\n\n${c.summary}\n\nOptions:\n${optionList(c)}`;
}

export function generalHelp(): string {
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(17)}${c.summary}`);
  return `Usage: minibatch <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun minibatch <command> --help for a command's options.`;
}

function parse(name: string, argv: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const c = COMMANDS[name];
  const options = Object.fromEntries(Object.entries(c.options).map(([k, o]) => [k, o.short ? { type: o.type, short: o.short } : { type: o.type }]));
  try {
    const r = parseArgs({ args: argv, options: options as never, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    const valid = Object.entries(c.options).map(([k, o]) => `${o.short ? `-${o.short}/` : ''}--${k}`).join(', ');
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`${msg} for minibatch ${name}; valid options: ${valid}`);
  }
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[], out: Out = { log: (s) => console.log(s), error: (s) => console.error(s) }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.log(rest[0] && COMMANDS[rest[0]] ? commandHelp(rest[0]) : generalHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    out.log(capabilities().version);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    out.error(`Expected one of ${Object.keys(COMMANDS).join(', ')} for the command but received '${name}'\n\n${generalHelp()}`);
    return 2;
  }
  try {
    const { values, positionals } = parse(name, rest);
    if (values.help) {
      out.log(commandHelp(name));
      return 0;
    }
    const [lo, hi] = cmd.positionals;
    if (positionals.length < lo || positionals.length > hi) {
      throw new UsageError(`Expected ${lo === hi ? lo : `${lo} to ${hi}`} argument${hi === 1 ? '' : 's'} for minibatch ${name} but received ${positionals.length}${positionals.length ? ` (${positionals.join(' ')})` : ''}\nUsage: ${cmd.usage}`);
    }
    if (process.env.MINIBATCH_BACKEND === undefined) getBackend();
    return await cmd.run(values, positionals, out);
  } catch (e) {
    out.error(`minibatch ${name}: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

