// POST /events/{id}/replay: run an event's failed actions again (or all of them) with a fresh retry budget.
import type { Deps } from "../../platform/deps.ts";
import { notFound } from "../errors.ts";
import { enqueueEvents } from "./ingest-events.ts";
import { lockEvent, refreshEventStatus } from "./event-status.ts";
import { enqueueActions } from "./process-event.ts";

export async function replayEvent(deps: Pick<Deps, "db" | "queue" | "log" | "now">, eventId: string, { all = false } = {}) {
  const { db } = deps;
  const event = await db.eventLog.findUnique({ where: { id: eventId }, select: { id: true, matchedAt: true } });
  if (!event) throw notFound("event", eventId);
  if (!event.matchedAt) {
    // Not matched yet: it is still on its way; make sure it is queued.
    await enqueueEvents(deps, [eventId]);
    return;
  }
  await db.$transaction(async (tx) => {
    await lockEvent(tx, eventId);
    await tx.eventAction.updateMany({
      where: { eventId, ...(all ? {} : { status: "failed" }) },
      data: { status: "pending", attempts: 0, error: null, errorCode: null, nextAttemptAt: null, completedAt: null },
    });
    await refreshEventStatus(tx, eventId, deps.now());
  });
  try {
    await enqueueActions(deps, eventId);
  } catch (error) {
    deps.log.warn({ err: error, eventId }, "queue unavailable: the sweep will queue the replayed actions");
  }
}
