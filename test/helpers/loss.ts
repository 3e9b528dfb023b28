// Counting what a fault cost: events never delivered (must be none) and deliveries beyond one per event
// (allowed by at-least-once, reported).
import { runSweep } from "../../functions/domain/sweep/run-sweep.ts";
import type { Receiver } from "./receiver.ts";
import type { TestStack } from "./stack.ts";
import { waitFor } from "./wait.ts";

export function lossReport(name: string, eventIds: string[], receiver: Receiver, path: string) {
  const counts = new Map<string, number>();
  for (const request of receiver.at(path)) {
    const id = (request.json as { id?: string })?.id;
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const lost = eventIds.filter((id) => !counts.has(id)).length;
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  console.info(`[${name}] events ${eventIds.length}, lost ${lost}, duplicate deliveries ${duplicates}`);
  return { lost, duplicates };
}

/** Runs the sweep (as the scheduled function would) until every event is completed; bounded. */
export async function sweepUntilCompleted(stack: TestStack, eventIds: string[], timeoutMs = 60_000) {
  await waitFor(
    async () => {
      await runSweep(stack.deps).catch(() => undefined);
      const done = await stack.deps.db.eventLog.count({ where: { id: { in: eventIds }, status: "completed" } });
      return done === eventIds.length;
    },
    { timeoutMs, intervalMs: 300, what: `${eventIds.length} events to be completed` },
  );
}
