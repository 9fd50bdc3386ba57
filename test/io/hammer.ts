// Child processes of atomic.test.ts (bundled to plain JavaScript first, so each starts in
// milliseconds). Modes:
//   write <path> <id> <count> <floats> [wait]   saves <count> checkpoints of value id·1e6 + i
//                                        (with 'wait': once a reader has started)
//   threads <path> <count> <floats>      two worker threads of `write ... wait` on the same path
//   read <path> <stopfile>               creates <path>.ready, then reads the path until <stopfile>
//                                        exists; prints a JSON tally
//   forever <path> <floats>              prints 'started', then saves until killed
import * as fs from 'fs';
import { Worker, isMainThread, workerData } from 'worker_threads';
import { atomicWrite } from '../../lib/io/atomic';
import { encodeSafetensors, decodeSafetensors } from '../../lib/io/safetensors';

function save(file: string, value: number, floats: number): void {
  atomicWrite(file, encodeSafetensors({ w: { shape: [floats], data: new Float32Array(floats).fill(value) } }, { value: String(value) }));
}

/** 'ok' when the file is whole and consistent, else what is wrong. */
export function check(file: string): string {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : String(e);
  }
  try {
    const { tensors, metadata } = decodeSafetensors(buf, file);
    const v = Number(metadata.value);
    const d = tensors.w.data;
    for (let i = 0; i < d.length; i++) if (d[i] !== Math.fround(v)) return `value ${d[i]} at ${i} in a file of ${v}`;
    return 'ok';
  } catch (e) {
    return `${(e as Error).message} (${buf.length} bytes)`;
  }
}

/** Writers start once the reader is reading (it creates <path>.ready). */
function waitForReader(file: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 2000 && !fs.existsSync(`${file}.ready`); i++) Atomics.wait(pause, 0, 0, 5);
}

function main(args: string[]): void {
  const [mode, file] = args;
  if (mode === 'write') {
    if (args[5] === 'wait') waitForReader(file);
    const [id, count, floats] = args.slice(2, 5).map(Number);
    for (let i = 0; i < count; i++) save(file, id * 1e6 + i, floats);
  } else if (mode === 'threads') {
    const rest = [...args.slice(2, 4), 'wait'];
    for (const id of [1, 2]) {
      const w = new Worker(__filename, { workerData: ['write', file, String(id), ...rest] });
      w.on('error', (e) => {
        console.error(e);
        process.exitCode = 1;
      });
    }
  } else if (mode === 'read') {
    const tally: Record<string, number> = {};
    fs.writeFileSync(`${file}.ready`, '');
    while (!fs.existsSync(args[2])) {
      const r = check(file);
      tally[r] = (tally[r] ?? 0) + 1;
    }
    process.stdout.write(JSON.stringify(tally));
  } else if (mode === 'forever') {
    const floats = Number(args[2]);
    process.stdout.write('started\n');
    for (let i = 0; ; i++) save(file, i, floats);
  }
}

if (isMainThread) {
  if (require.main === module) main(process.argv.slice(2));
} else main(workerData as string[]);
