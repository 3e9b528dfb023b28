// The match transition: an event's planned actions written, and the event marked matched with the status
// the rule gives over them, in one statement (atomic without a transaction). Only unmatched events are
// marked and actions are unique per (event, kind, target), so a run that comes again changes nothing.
import sql, { raw } from "sql-template-tag";
import type { ActionKind, EventStatus } from "../../../platform/db.ts";
import { runSql, type Queryable } from "../../../platform/sql.ts";
import { asEmitted, exhaustedEventsInsert, exhaustedIds, type Emitted } from "../../operational/operational-events.ts";

import {
  actionErrorSql,
  eventStatusSql,
  orderKeySql,
  settledColumnsSql,
  showsErrorSql,
  sqlList,
} from "./event-status.ts";

/** An action an event's match calls for: one per active target (webhook, trigger) of each matching definition. */
export interface PlannedAction {
  id: string;
  eventId: string;
  kind: ActionKind;
  targetId: string;
  definitionId: string;
  /**
   * Its row as its kind starts it (see kinds/registry.ts): its first run follows the match at once. One
   * attempt means that run is a delivery attempt (recorded with recordAttempt).
   */
  start: { status: "processing" | "pending"; attempts: number };
  /** Its deliveries about one record go one at a time, in acceptance order (its orderKey is the record). */
  ordered?: boolean;
  /** Set when the action cannot run: it is written as failed, with this code and reason. */
  failure?: { errorCode: string; error: string };
}

/** An event's planned actions, written with the event marked matched. */
export interface Match {
  eventId: string;
  actions: PlannedAction[];
}

/**
 * Writes the matches; answers the ids of the actions this call created (not those another run wrote), and
 * the delivery.exhausted events reporting those of them written failed.
 */
export async function writeMatches(
  q: Queryable,
  matches: Match[],
  now: Date,
): Promise<{ created: Set<string>; emitted: Emitted[] }> {
  const actions = matches.flatMap((m) => m.actions);
  const col = <T>(pick: (a: PlannedAction) => T) => actions.map(pick);
  // A planned failure is written final; every other action starts as its kind says (its first run is begun:
  // the matching run makes it right after this write, so a crash during it counts).
  const status = col((a): EventStatus => (a.failure ? "failed" : a.start.status));
  const p = (column: string) => raw(`p.${column}`);
  const actionError = actionErrorSql("p", "p.kind", "p.target_id");
  const failed = actions.some((a) => a.failure);
  const exhausted = failed
    ? exhaustedEventsInsert(sql`
      SELECT p.op_id, p.id, p.event_id, p.kind, p.target_id, p.definition_id, p.error_code, p.error, 0, NULL::int,
        ${now}::timestamptz
      FROM planned p WHERE p.op_id IS NOT NULL AND p.id IN (SELECT id FROM inserted)`)
    : sql`SELECT NULL::text AS id WHERE false`;
  const rows = await runSql<{ id: string; emitted: boolean }>(
    q,
    sql`
    WITH planned AS (
      SELECT * FROM unnest(${col((a) => a.id)}::text[], ${col((a) => a.eventId)}::text[], ${col((a) => a.kind)}::text[],
        ${col((a) => a.targetId)}::text[], ${col((a) => a.definitionId)}::text[], ${status}::text[],
        ${col((a) => (a.failure ? 0 : a.start.attempts))}::int[], ${col((a) => a.failure?.errorCode ?? null)}::text[],
        ${col((a) => a.failure?.error ?? null)}::text[], ${col((a) => a.ordered === true)}::bool[],
        ${exhaustedIds(col((a) => failed && a.failure !== undefined))}::text[])
        AS p(id, event_id, kind, target_id, definition_id, status, attempts, error_code, error, ordered, op_id)
    ), inserted AS (
      INSERT INTO event_actions (id, "eventId", kind, "targetId", "definitionId", status, attempts, "errorCode",
        error, "completedAt", "unfinishedRuns", "leaseExpiresAt", "orderKey", "createdAt", "updatedAt")
      SELECT p.id, p.event_id, p.kind::"ActionKind", p.target_id, p.definition_id, p.status::"EventStatus",
        p.attempts, p.error_code, p.error, CASE WHEN p.error_code IS NOT NULL THEN ${now}::timestamptz END,
        CASE WHEN p.error_code IS NULL THEN 1 ELSE 0 END,
        -- The claim's lease passes to the actions its run starts: it covers their first runs.
        CASE WHEN p.error_code IS NULL THEN e."leaseExpiresAt" END,
        CASE WHEN p.ordered THEN ${orderKeySql(raw("e"))} END, ${now}, ${now}
      FROM planned p JOIN event_log e ON e.id = p.event_id
      ON CONFLICT ("eventId", kind, "targetId") DO NOTHING
      RETURNING id
    ), matched AS (
      -- The rule over the actions just planned (none: completed).
      SELECT m.id,
        ${eventStatusSql((statuses) => sql`coalesce(bool_or(p.status IN (${sqlList(statuses)})), false)`)} AS status,
        string_agg(${actionError}, '; ' ORDER BY p.id) FILTER (WHERE ${showsErrorSql(p("status"))}) AS error
      FROM unnest(${matches.map((m) => m.eventId)}::text[]) AS m(id) LEFT JOIN planned p ON p.event_id = m.id
      GROUP BY m.id
    ), marked AS (
      UPDATE event_log e SET "matchedAt" = ${now}, error = m.error, status = m.status,
        ${settledColumnsSql(raw("m.status"), sql`${now}`)}
      FROM matched m
      WHERE e.id = m.id AND e."matchedAt" IS NULL
    ), exhausted AS (${exhausted})
    SELECT id, false AS emitted FROM inserted UNION ALL SELECT id, true FROM exhausted`,
  );
  return {
    created: new Set(rows.filter((r) => !r.emitted).map((r) => r.id)),
    emitted: asEmitted(rows.filter((r) => r.emitted)),
  };
}
