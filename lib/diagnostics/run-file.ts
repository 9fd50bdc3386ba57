/**
 * Run files: one JSON file holding a training run's history, its recorded statistics and the
 * model's configuration — what `minibatch report run.json` turns into a page. NaN and Infinity
 * become null in JSON; the report shows them as gaps with a note.
 */
import * as fs from 'fs';
import type { History } from '../train';
import { StatsRecorder, type StatsJSON } from './recorder';
import { describe, fail } from '../validate';

export interface RunFile {
  format: 'minibatch-run';
  version: 1;
  /** The history's per-epoch numbers (the trainer's resume state is left out: it belongs in a checkpoint). */
  history: Pick<History, 'epoch' | 'history'> | null;
  stats: StatsJSON | null;
  model?: Record<string, unknown>;
}

/** Writes history, statistics (a StatsRecorder or its JSON) and the model's config to one file. */
export function saveRun(
  path: string, history: History | null, stats: StatsRecorder | StatsJSON | null,
  model?: { getConfig(): Record<string, unknown> },
): RunFile {
  if (typeof path !== 'string' || path === '') fail('type', 'non-empty string', 'path', describe(path));
  const run: RunFile = {
    format: 'minibatch-run',
    version: 1,
    history: history ? { epoch: history.epoch, history: history.history } : null,
    stats: stats instanceof StatsRecorder ? stats.toJSON() : stats,
  };
  if (model) run.model = model.getConfig();
  fs.writeFileSync(path, JSON.stringify(run));
  return run;
}

/**
 * Reads a run file. A file that is missing, not JSON or not an object is an error naming the file;
 * anything inside is passed on as it is (the report notes what it cannot use). A bare history
 * ({ epoch, history }) or bare statistics (StatsRecorder.toJSON()) are accepted too.
 */
export function loadRun(path: string): { history: unknown; stats: unknown; model: unknown; notes: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Expected JSON in ${path} but it does not parse: ${(e as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new TypeError(`Expected a run object ({ history, stats }) in ${path} but received ${describe(data)}`);
  }
  const d = data as Record<string, unknown>;
  const notes: string[] = [];
  if (d.format === 'minibatch-stats') return { history: null, stats: d, model: null, notes };
  if (d.format === undefined && ('epoch' in d || 'history' in d) && !('stats' in d)) return { history: d, stats: null, model: null, notes };
  if (d.format !== 'minibatch-run') notes.push(`Expected 'minibatch-run' for format in ${path} but received ${describe(d.format)}; reading history and stats anyway.`);
  else if (d.version !== 1) notes.push(`${path} is a run file of version ${describe(d.version)} (this is version 1); fields are read where they match.`);
  if (!('history' in d) && !('stats' in d)) {
    throw new TypeError(`Expected a history or stats field in ${path} but received an object with ${Object.keys(d).length ? `fields ${Object.keys(d).slice(0, 6).join(', ')}` : 'no fields'}`);
  }
  return { history: d.history, stats: d.stats, model: d.model ?? null, notes };
}
