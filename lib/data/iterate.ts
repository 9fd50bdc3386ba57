/**
 * The items of an iterable source, as the batches fit steps on:
 *
 *   batches   ({ x: Tensor [k, ...], y: Int32Array | Uint8Array | Tensor }) pass through as they are;
 *   samples   ({ x: Float32Array | Tensor of the per-sample shape, y: class index | Float32Array
 *             target row }) are stacked batchSize at a time into fresh arrays; the last batch of an
 *             epoch holds what is left (dropped with dropLast).
 *
 * The kind is the first item's; every later item must be of the same kind. With a shuffle buffer
 * of n (tf.data's shuffle(n)) the items are drawn from a buffer holding the next n: fill it with
 * the first n, then repeatedly take one at a uniformly random position and put the source's next
 * item in its place; once the source is done, the rest leaves the buffer in random order. The
 * positions come from the seeded generator fit passes, continued from epoch to epoch.
 */
import type { Generator } from '../random';
import { describe, fail } from '../validate';
import { stackSamples, type Batch, type Sample } from './dataset';

export type Item = Batch | Sample;
export type Fetch = () => Promise<Batch | null>;
type Pull = () => Promise<Item | null>;

export interface IterateOptions {
  batchSize: number;
  dropLast: boolean;
  /** The model's per-sample input shape. */
  rowShape: readonly number[];
  /** Items held for shuffling (0: none). */
  shuffleBuffer: number;
  rng: Generator;
  /** 'epoch 2' or 'validation', for messages. */
  where: string;
}

/** Whether an item is one sample: y a class index or a target row, or x one flat row. */
export function isSample(item: unknown): boolean {
  if (item === null || typeof item !== 'object') return false;
  const { x, y } = item as { x?: unknown; y?: unknown };
  return typeof y === 'number' || y instanceof Float32Array || x instanceof Float32Array;
}

function open(src: unknown): AsyncIterator<Item> | Iterator<Item> {
  const it = (typeof src === 'function' ? (src as () => unknown)() : src) as AsyncIterable<Item> | Iterable<Item> | null;
  if (it !== null && typeof it === 'object' && Symbol.asyncIterator in it) return (it as AsyncIterable<Item>)[Symbol.asyncIterator]();
  if (it !== null && typeof it === 'object' && Symbol.iterator in it) return (it as Iterable<Item>)[Symbol.iterator]();
  return fail('type', 'an (async) iterable of batches or samples', 'source', describe(it));
}

/** The source's items in its own order. */
function puller(src: unknown): Pull {
  const iter = open(src);
  return async () => {
    const r = await iter.next();
    return r.done ? null : r.value;
  };
}

/** The items through a seeded shuffle buffer of n (see the header). */
function shuffled(pull: Pull, n: number, rng: Generator): Pull {
  const buf: Item[] = [];
  let done = false;
  return async () => {
    while (!done && buf.length < n) {
      const item = await pull();
      if (item === null) done = true;
      else buf.push(item);
    }
    if (buf.length === 0) return null;
    const j = rng.int(buf.length);
    const out = buf[j];
    const next = done ? null : await pull();
    if (next === null) {
      done = true;
      buf[j] = buf[buf.length - 1];
      buf.pop();
    } else buf[j] = next;
    return out;
  };
}

/** A fetcher of the batches of one pass over an iterable source (see the header). */
export function iterableBatches(src: unknown, o: IterateOptions): Fetch {
  let pull = puller(src);
  if (o.shuffleBuffer > 1) pull = shuffled(pull, o.shuffleBuffer, o.rng);
  let kind: 'batch' | 'sample' | null = null;
  let seen = 0, made = 0;
  const kindOf = (item: Item): 'batch' | 'sample' => {
    const k = isSample(item) ? 'sample' : 'batch';
    kind ??= k;
    if (k !== kind) fail('type', `a ${kind} like the first item`, `item ${seen} of ${o.where}`, k === 'sample' ? 'a single sample' : 'a batch');
    seen++;
    return k;
  };
  return async () => {
    const first = await pull();
    if (first === null) return null;
    if (kindOf(first) === 'batch') return first as Batch;
    const samples: Sample[] = [first as Sample];
    while (samples.length < o.batchSize) {
      const s = await pull();
      if (s === null) break;
      kindOf(s);
      samples.push(s as Sample);
    }
    if (samples.length < o.batchSize && o.dropLast) return null;
    return stackSamples(samples, o.rowShape, `batch ${made++} of ${o.where}`);
  };
}
