// The service process of bench/serve.ts's HTTP scenarios: examples/serve.ts's service on an
// ephemeral port of 127.0.0.1, and, when the scenario says so, a CNN training in this same process
// (off the event loop or in it), as a deployed service that also trains would run. Each scenario
// gets a fresh process, so no scenario inherits the heap of the bench or of an earlier scenario;
// `pretrainMs` first trains off-thread in this process for that long and stops, to show what a
// service that has trained before serves like.
//
// Messages (IPC): this process sends { port } once it listens. The bench then sends 'begin' and
// 'end' around each measured run (each answered) and gets back { cpuUs, gc } for it (this process's CPU time, its
// garbage collections); 'stop' ends the training and the service and answers { trained, meanBatch }.
import { PerformanceObserver, performance } from 'perf_hooks';
import { startService } from '../examples/serve';
import { backgroundTraining, type ServeScenario } from './serve';

interface GcStats {
  /** Collections of the old generation (mark-compact), and the longest pause of any kind, ms. */
  major: number;
  minor: number;
  maxPauseMs: number;
  totalMs: number;
}

async function main(): Promise<void> {
  const [file, spec] = [process.argv[2], JSON.parse(process.argv[3]) as ServeScenario];
  if (spec.pretrainMs) {
    const bg = backgroundTraining(true);
    await new Promise((r) => setTimeout(r, spec.pretrainMs));
    await bg.stop();
  }
  const svc = await startService({ checkpoint: file, port: 0, workers: 1, ...spec.pool });
  const bg = spec.training ? backgroundTraining(spec.training === 'off') : null;
  let gc: GcStats = { major: 0, minor: 0, maxPauseMs: 0, totalMs: 0 };
  // entry.detail.kind (perf_hooks.constants): 1 minor (scavenge), 4 major (mark-compact), 8 incremental marking, 16 weak callbacks
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      if (kind === 4) gc.major++;
      else if (kind === 1) gc.minor++;
      gc.maxPauseMs = Math.max(gc.maxPauseMs, e.duration);
      gc.totalMs += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  process.on('message', async (m: string) => {
    if (m === 'begin') {
      gc = { major: 0, minor: 0, maxPauseMs: 0, totalMs: 0 };
      c0 = process.cpuUsage();
      t0 = performance.now();
      process.send!({ begun: true });
    } else if (m === 'end') {
      const c = process.cpuUsage(c0);
      process.send!({ cpuUs: c.user + c.system, ms: performance.now() - t0, gc });
    } else if (m === 'stop') {
      const trained = bg ? await bg.stop() : null;
      const st = svc.pool.stats();
      await svc.close();
      process.send!({ trained, meanBatch: st.meanBatchSize }, () => process.exit(0));
    }
  });
  process.send!({ port: svc.port });
}

void main();
