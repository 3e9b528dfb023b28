// Replay: run failed actions again (or every action, with `all`), each with a fresh retry budget, for
// one event (POST /events/{id}/replay) or for every event a filter selects (POST /events/replay).
import { z } from "zod";
import sql, { empty, join } from "sql-template-tag";
import type { CoreDeps } from "../../platform/core-deps.ts";
import { fromPg, runSql } from "../../platform/sql.ts";
import { notFound } from "../errors.ts";
import { isoDateTime } from "../validation.ts";
import { enqueueEvents } from "../events/ingest-events.ts";
import { recomputeEventStatuses } from "./statuses.ts";

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
  const q = fromPg(deps.pool);
  const now = deps.now();
  const conditions = [
    filter.all ? empty : sql`AND a.status = 'failed'`,
    filter.eventId ? sql`AND a."eventId" = ${filter.eventId}` : empty,
    filter.status ? sql`AND e.status = ${filter.status}::"EventStatus"` : empty,
    filter.definitionId ? sql`AND a."definitionId" = ${filter.definitionId}` : empty,
    filter.webhookId ? sql`AND a.kind = 'webhook' AND a."targetId" = ${filter.webhookId}` : empty,
    filter.since ? sql`AND e."receivedAt" >= ${new Date(filter.since)}` : empty,
    filter.until ? sql`AND e."receivedAt" < ${new Date(filter.until)}` : empty,
  ];
  const rows = await runSql<{ id: string; eventId: string }>(
    q,
    sql`UPDATE event_actions SET status = 'pending', attempts = 0, "unfinishedRuns" = 0, error = NULL,
        "errorCode" = NULL, "nextAttemptAt" = NULL, "completedAt" = NULL, "updatedAt" = ${now}
      WHERE id IN (
        SELECT a.id FROM event_actions a JOIN event_log e ON e.id = a."eventId"
        WHERE TRUE ${join(conditions, " ")}
        ORDER BY a.id LIMIT ${filter.limit ?? MAX_REPLAY}
        FOR UPDATE OF a SKIP LOCKED)
      RETURNING id, "eventId"`,
  );

  const eventIds = [...new Set(rows.map((r) => r.eventId))].sort();
  await recomputeEventStatuses(deps.pool, eventIds, now);
  try {
    await deps.queue.add(
      "run-action",
      rows.map((r) => ({ id: r.id, data: { actionId: r.id } })),
    );
  } catch (error) {
    deps.log.warn({ err: error, actions: rows.length }, "queue unavailable: the sweep will queue the replayed actions");
  }
  return { actions: rows.length, events: eventIds.length };
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
    if (event.status === "failed") {
      await runSql(
        q,
        sql`UPDATE event_log SET status = 'pending', attempts = 0, error = NULL, "completedAt" = NULL,
          "durationMs" = NULL
          WHERE id = ${eventId} AND "matchedAt" IS NULL AND status = 'failed'`,
      );
    }
    await enqueueEvents(deps, [eventId]);
    return { actions: 0, events: 1 };
  }
  return replayActions(deps, { eventId, all });
}
