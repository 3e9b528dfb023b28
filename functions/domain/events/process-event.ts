// The first step of the worker: match an accepted event, write its actions, hand them to the queue.
import type { Deps } from "../../platform/deps.ts";
import { lockEvent, refreshEventStatus } from "./event-status.ts";
import { planActions } from "./match-definitions.ts";

type ProcessDeps = Pick<Deps, "db" | "queue" | "config" | "log" | "now">;

/** Queues every unfinished action of an event; a job already queued under the same id is left alone. */
export async function enqueueActions({ db, queue }: Pick<Deps, "db" | "queue">, eventId: string): Promise<void> {
  const actions = await db.eventAction.findMany({
    where: { eventId, status: { in: ["pending", "processing"] } },
    select: { id: true },
  });
  await queue.add("run-action", actions.map((a) => ({ id: a.id, data: { actionId: a.id } })));
}

/**
 * Idempotent: an event is matched once (matchedAt), and actions are unique per (event, target), so a job
 * that runs again, or twice at once, writes nothing new and only makes sure the actions are queued.
 */
export async function processEvent(deps: ProcessDeps, eventId: string): Promise<void> {
  const { db, config } = deps;
  const event = await db.eventLog.findUnique({ where: { id: eventId } });
  if (!event) return; // pruned or never committed: nothing to do
  if (!event.matchedAt) {
    const now = deps.now();
    await db.eventLog.update({
      where: { id: eventId },
      data: {
        status: "processing",
        attempts: { increment: 1 },
        startedAt: event.startedAt ?? now,
        leaseExpiresAt: new Date(now.getTime() + config.EVENT_LEASE_MS),
      },
    });
    const definitions = await db.eventDefinition.findMany({
      where: { collection: event.collection, active: true },
      include: {
        webhooks: { where: { active: true }, select: { id: true }, orderBy: { id: "asc" } },
        triggers: { where: { active: true }, select: { id: true }, orderBy: { id: "asc" } },
      },
    });
    const actions = planActions(event, definitions);
    await db.$transaction(async (tx) => {
      await lockEvent(tx, eventId);
      if (actions.length > 0) await tx.eventAction.createMany({ data: actions, skipDuplicates: true });
      await tx.eventLog.update({ where: { id: eventId }, data: { matchedAt: now } });
      await refreshEventStatus(tx, eventId, deps.now());
    });
    deps.log.debug({ eventId, actions: actions.length }, "event matched");
  }
  await enqueueActions(deps, eventId);
}
