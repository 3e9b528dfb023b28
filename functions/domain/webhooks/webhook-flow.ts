// A webhook's flow as a person sees it: requests open now and a pause (from Redis, where every worker keeps
// them), and the deliveries waiting for their turn (from the log).
import sql from "sql-template-tag";
import type { CoreDeps } from "../../platform/core-deps.ts";
import { fromPg, runSql } from "../../platform/sql.ts";

export interface WebhookFlow {
  inFlight: number;
  waiting: number;
  pausedUntil: Date | null;
}

export async function webhookFlow(deps: Pick<CoreDeps, "flow" | "pool">, webhookId: string): Promise<WebhookFlow> {
  const [state, [row]] = await Promise.all([
    deps.flow.state(webhookId),
    runSql<{ waiting: number }>(
      fromPg(deps.pool),
      sql`SELECT count(*)::int AS waiting FROM event_actions
        WHERE "targetId" = ${webhookId} AND waiting IS NOT NULL AND kind = 'webhook'`,
    ),
  ]);
  return { ...state, waiting: row?.waiting ?? 0 };
}
