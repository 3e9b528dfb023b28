// Micro-batching: calls made at about the same time are served by one flush (one multi-row statement,
// one transaction) instead of one round trip each. Each caller still waits for its own result, so a
// caller told "done" is done. A flush starts when `maxSize` items wait or `maxWaitMs` after the first.

export interface Batcher<I, O> {
  add(item: I): Promise<O>;
}

export function createBatcher<I, O>(flush: (items: I[]) => Promise<O[]>, { maxSize = 200, maxWaitMs = 1 } = {}): Batcher<I, O> {
  type Waiting = { item: I; resolve: (o: O) => void; reject: (e: unknown) => void };
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;

  const run = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    flush(batch.map((w) => w.item)).then(
      (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
      (error) => batch.forEach((w) => w.reject(error)),
    );
  };

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (waiting.length >= maxSize) run();
        else timer ??= setTimeout(run, maxWaitMs);
      });
    },
  };
}
