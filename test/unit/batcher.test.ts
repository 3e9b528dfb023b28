import { describe, expect, it } from "vitest";
import { createBatcher } from "../../functions/platform/batcher.ts";

/** A batcher whose flushes are recorded and finish only when the test says so. */
function recording(options?: { maxSize?: number; concurrency?: number }) {
  const flushes: Array<{ items: number[]; finish: () => void; fail: (e: Error) => void }> = [];
  const batcher = createBatcher<number, number>(
    (items) =>
      new Promise((resolve, reject) => {
        flushes.push({ items, finish: () => resolve(items.map((i) => i * 10)), fail: reject });
      }),
    options,
  );
  return { batcher, flushes };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("batcher", () => {
  it("flushes calls made together at once, and calls made during a flush together in the next", async () => {
    const { batcher, flushes } = recording();
    const first = [batcher.add(1), batcher.add(2)];
    await tick();
    expect(flushes.map((f) => f.items)).toEqual([[1, 2]]);

    // One flush in flight (the default): later calls wait and share the next.
    const later = [batcher.add(3), batcher.add(4), batcher.add(5)];
    await tick();
    expect(flushes).toHaveLength(1);
    flushes[0]!.finish();
    expect(await Promise.all(first)).toEqual([10, 20]);
    await tick();
    expect(flushes.map((f) => f.items)).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    flushes[1]!.finish();
    expect(await Promise.all(later)).toEqual([30, 40, 50]);
  });

  it("caps a flush at maxSize and fails only the calls of a flush that failed", async () => {
    const { batcher, flushes } = recording({ maxSize: 2, concurrency: 2 });
    const calls = [1, 2, 3].map((i) => batcher.add(i));
    await tick();
    expect(flushes.map((f) => f.items)).toEqual([[1, 2], [3]]);
    flushes[0]!.fail(new Error("database down"));
    flushes[1]!.finish();
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect((settled[2] as PromiseFulfilledResult<number>).value).toBe(30);
  });

  it("with retryAlone, settles a failed flush in halves so only the guilty item fails", async () => {
    const flushed: number[][] = [];
    const batcher = createBatcher<number, number>(
      async (items) => {
        flushed.push(items);
        if (items.includes(13)) throw new Error(`13 cannot be stored`);
        return items.map((i) => i * 10);
      },
      { retryAlone: (error) => !(error as Error).message.includes("down") },
    );
    const settled = await Promise.allSettled([1, 13, 2].map((i) => batcher.add(i)));
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as Error).message))).toEqual([
      10,
      "13 cannot be stored",
      20,
    ]);
    expect(flushed).toEqual([[1, 13, 2], [1, 13], [1], [13], [2]]);

    // An outage is every item's: they fail together, without a retry each.
    let downFlushes = 0;
    const down = createBatcher<number, number>(
      async () => {
        downFlushes++;
        throw new Error("database down");
      },
      { retryAlone: (error) => !(error as Error).message.includes("down") },
    );
    expect((await Promise.allSettled([1, 2].map((i) => down.add(i)))).map((s) => s.status)).toEqual([
      "rejected",
      "rejected",
    ]);
    expect(downFlushes).toBe(1);
  });
});
