/**
 * A counter of thread-count changes made through a backend object of this module instance, so
 * layers can cache what depends on the thread count (the convolution workspace size) without a
 * native call a step to ask.
 */
let changes = 0;

/** Bumped by every setNumThreads of the native backend that changes the count. */
export function threadsChanged(): void {
  changes++;
}

/** How many times the thread count was set so far. */
export function threadChanges(): number {
  return changes;
}
