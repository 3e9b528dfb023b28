// The statement that picks a list page's rows by the request's filters (records' ?filter=, the event log's
// status, type, collection, ... ). A filter within every condition limit can still make Postgres work for
// seconds; these statements take turns on a quarter of the pool and stop at LIMITS.listQueryMs, so a few
// costly lists answer 400 instead of holding connections everything else needs.
import type { Sql } from "sql-template-tag";
import type { CoreDeps } from "../platform/core-deps.ts";
import { GateFullError, StatementTimeoutError } from "../platform/query-gate.ts";
import { AppError } from "./errors.ts";
import { LIMITS } from "./limits.ts";

/** What a list needs: the pool for its plain statements, the gate and the settings for its filtered one. */
export type ListDeps = Pick<CoreDeps, "pool" | "listQueries" | "config">;

/**
 * Runs `statement` (a filtered list's selection) within LIMITS.listQueryMs and LIMITS.listQueryWaitMs;
 * `narrower` tells the caller how to ask for less when the filter is stopped.
 */
export async function selectFiltered<R>(
  deps: Pick<ListDeps, "listQueries" | "config">,
  statement: Sql,
  narrower: string,
): Promise<R[]> {
  const timeoutMs = deps.config.LIST_QUERY_TIMEOUT_MS ?? LIMITS.listQueryMs;
  try {
    return await deps.listQueries.select<R>(statement, { timeoutMs, waitMs: LIMITS.listQueryWaitMs });
  } catch (error) {
    if (error instanceof StatementTimeoutError) {
      throw new AppError(
        "filter_too_costly",
        `the filter took the database longer than ${timeoutMs} ms (listQueryMs) and was stopped: ${narrower}`,
      );
    }
    if (error instanceof GateFullError) {
      throw new AppError(
        "service_unavailable",
        `too many filtered lists are running in this process; none finished within ${error.waitedMs} ms ` +
          "(listQueryWaitMs): try again shortly",
      );
    }
    throw error;
  }
}
