// Replay: run failed actions again (or every action, with `all`), each with a fresh retry budget, for
// one event (POST /events/{id}/replay) or for every event a filter selects (POST /events/replay).
import { z } from "zod";
import sql, { empty } from "sql-template-tag";
import type { CoreDeps } from "../../platform/core-deps.ts";
import { fromPg, runSql } from "../../platform/sql.ts";
import { notFound } from "../errors.ts";
import { isoDateTime } from "../validation.ts";
import { enqueueEvents } from "../events/ingest-events.ts";
import { replayActionRows, retryUnmatchedEvent } from "./action-log/action-log.ts";

type ReplayDeps = Pick<CoreDeps, "pool" | "queue" | "log" | "now">;

export const MAX_REPLAY = 1000;

export const replayFilter = z.strictObject({
  status: z.enum(["completed", "retrying", "failed"]).optional(),
  definitionId: z.string().min(1).max(200).optional(),
  webhookId: z.string().min(1).max(200).optional(),
  since: isoDateTime.optional(),
  until: isoDateTime.optional(),
  /** Replay every action of the selected events, not only the failed ones. */
  all: z.boolean().optional(),
  limit: z.number().int().min(1).max(MAX_REPLAY).optional(),
});
export type ReplayFilter = z.output<typeof replayFilter> & { eventId?: string };

/** Resets the selected actions to pending and queues them; answers how many actions and events. */
export async function replayActions(
  deps: ReplayDeps,
  filter: ReplayFilter,
): Promise<{ actions: number; events: number }> {
  const now = deps.now();
  const selected = [
    filter.all ? empty : sql`AND a.status = 'failed'`,
    filter.eventId ? sql`AND a."eventId" = ${filter.eventId}` : empty,
    filter.status ? sql`AND e.status = ${filter.status}::"EventStatus"` : empty,
    filter.definitionId ? sql`AND a."definitionId" = ${filter.definitionId}` : empty,
    filter.webhookId ? sql`AND a.kind = 'webhook' AND a."targetId" = ${filter.webhookId}` : empty,
    filter.since ? sql`AND e."receivedAt" >= ${new Date(filter.since)}` : empty,
    filter.until ? sql`AND e."receivedAt" < ${new Date(filter.until)}` : empty,
  ];
  const rows = await replayActionRows(deps.pool, selected, filter.limit ?? MAX_REPLAY, now);
  const eventIds = new Set(rows.map((r) => r.eventId));
  try {
    await deps.queue.add(
      "run-action",
      rows.map((r) => ({ id: r.id, data: { actionId: r.id } })),
    );
  } catch (error) {
    deps.log.warn({ err: error, actions: rows.length }, "queue unavailable: the sweep will queue the replayed actions");
  }
  return { actions: rows.length, events: eventIds.size };
}

/**
 * POST /events/{id}/replay. An event not matched yet is still on its way: it is only queued again, with
 * its tries counted afresh if it had been given up.
 */
export async function replayEvent(deps: ReplayDeps, eventId: string, { all = false } = {}) {
  const q = fromPg(deps.pool);
  const [event] = await runSql<{ matchedAt: Date | null; status: string }>(
    q,
    sql`SELECT "matchedAt", status FROM event_log WHERE id = ${eventId}`,
  );
  if (!event) throw notFound("event", eventId);
  if (!event.matchedAt) {
    if (event.status === "failed") await retryUnmatchedEvent(deps.pool, eventId);
    await enqueueEvents(deps, [eventId]);
    return { actions: 0, events: 1 };
  }
  return replayActions(deps, { eventId, all });
}
