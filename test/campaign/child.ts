// Runs one group of the bad-input matrix in this process and writes one JSON line per case to
// stdout (written synchronously, so a crash leaves the name of the case that crashed).
import { writeSync } from 'fs';
import type { Case } from './case';

async function main(): Promise<void> {
  const group = process.argv[2];
  const mod = (await import(`./groups/${group}.ts`)) as { default: Case[] };
  const cases = mod.default;
  for (let i = 0; i < cases.length; i++) {
    writeSync(1, JSON.stringify({ i, start: cases[i].name }) + '\n');
    let line: object;
    try {
      const r = cases[i].run();
      if (r && typeof (r as Promise<unknown>).then === 'function') await r;
      line = { i, returned: true };
    } catch (e) {
      const err = e as Error;
      line = { i, error: err?.constructor?.name ?? typeof e, message: String(err?.message ?? e) };
    }
    writeSync(1, JSON.stringify(line) + '\n');
  }
  writeSync(1, JSON.stringify({ done: cases.length }) + '\n');
}

main().catch((e) => {
  writeSync(2, `campaign child failed: ${(e as Error).stack}\n`);
  process.exit(3);
});
