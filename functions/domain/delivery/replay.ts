// Replay: run failed actions again (or every action, with `all`), each with a fresh retry budget, for
// one event (POST /events/{id}/replay) or for every event a filter selects (POST /events/replay).
import { z } from "zod";
import sql, { empty, type Sql } from "sql-template-tag";
import type { CoreDeps } from "../../platform/core-deps.ts";
import { runSql } from "../../platform/sql.ts";
import { auditedSql, type Actor } from "../audit/audited.ts";
import { notFound } from "../errors.ts";
import { isoDateTime } from "../validation.ts";
import { enqueueEvents } from "../events/ingest-events.ts";
import { replayActionRows, retryUnmatchedEvent, settleReplayedEvents } from "./action-log/action-log.ts";

type ReplayDeps = Pick<CoreDeps, "pool" | "queue" | "log" | "now"> & {
  metrics?: Pick<CoreDeps["metrics"], "operationalEvents">;
};

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

/** The actions a filter selects (of events `e`, actions `a`). */
function selection(filter: ReplayFilter): Sql[] {
  return [
    filter.all ? empty : sql`AND a.status = 'failed'`,
    filter.eventId ? sql`AND a."eventId" = ${filter.eventId}` : empty,
    filter.status ? sql`AND e.status = ${filter.status}::"EventStatus"` : empty,
    filter.definitionId ? sql`AND a."definitionId" = ${filter.definitionId}` : empty,
    filter.webhookId ? sql`AND a.kind = 'webhook' AND a."targetId" = ${filter.webhookId}` : empty,
    filter.since ? sql`AND e."receivedAt" >= ${new Date(filter.since)}` : empty,
    filter.until ? sql`AND e."receivedAt" < ${new Date(filter.until)}` : empty,
  ];
}

type Replayed = Array<{ id: string; eventId: string }>;

/** After the reset and its audit entry committed: the events' statuses follow, the actions are queued. */
async function queueReplayed(deps: ReplayDeps, rows: Replayed, now: Date) {
  await settleReplayedEvents(deps.pool, rows, now);
  try {
    await deps.queue.add(
      "run-action",
      rows.map((r) => ({ id: r.id, data: { actionId: r.id } })),
    );
  } catch (error) {
    deps.log.warn({ err: error, actions: rows.length }, "queue unavailable: the sweep will queue the replayed actions");
  }
  return { actions: rows.length, events: new Set(rows.map((r) => r.eventId)).size };
}

/**
 * Resets the actions of the events `filter` selects to pending and queues them; answers how many actions
 * and events. Audited as one replay of "events" (the filter and how many were queued), even when the
 * filter found nothing to run again: someone asked.
 */
export async function replayActions(
  deps: ReplayDeps,
  filter: ReplayFilter,
  actor: Actor,
): Promise<{ actions: number; events: number }> {
  const now = deps.now();
  const rows = await auditedSql(deps, actor, async (q) => {
    const rows = await replayActionRows(q, selection(filter), filter.limit ?? MAX_REPLAY, now);
    const after = { filter, queued: rows.length, events: new Set(rows.map((r) => r.eventId)).size };
    return {
      result: rows,
      entry: { action: "event.replay", target: { kind: "events", id: "replay" }, before: null, after },
    };
  });
  return queueReplayed(deps, rows, now);
}

/**
 * POST /events/{id}/replay. An event not matched yet is still on its way: it is only queued again, with
 * its tries counted afresh if it had been given up. Audited as a replay of the event.
 */
export async function replayEvent(deps: ReplayDeps, eventId: string, { all = false }: { all?: boolean }, actor: Actor) {
  const now = deps.now();
  const replayed = await auditedSql(deps, actor, async (q) => {
    const [event] = await runSql<{ matchedAt: Date | null; status: string }>(
      q,
      sql`SELECT "matchedAt", status FROM event_log WHERE id = ${eventId}`,
    );
    if (!event) throw notFound("event", eventId);
    const target = { kind: "event" as const, id: eventId };
    let rows: Replayed | undefined;
    if (!event.matchedAt) {
      if (event.status === "failed") await retryUnmatchedEvent(q, eventId);
    } else rows = await replayActionRows(q, selection({ eventId, all }), MAX_REPLAY, now);
    const after = { all, queued: rows?.length ?? 0, matched: Boolean(event.matchedAt) };
    return { result: rows, entry: { action: "event.replay", target, before: null, after } };
  });
  if (replayed) return queueReplayed(deps, replayed, now);
  await enqueueEvents(deps, [eventId]);
  return { actions: 0, events: 1 };
}
