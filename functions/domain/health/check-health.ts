import type { Deps } from "../../platform/deps.ts";
import { withTimeout } from "../../platform/timeout.ts";

const CHECK_TIMEOUT_MS = 2_000;

export interface Health {
  status: "ok" | "degraded";
  database: "up" | "down";
  redis: "up" | "down";
}

export async function checkHealth({ db, queue }: Pick<Deps, "db" | "queue">): Promise<Health> {
  const [database, redis] = await Promise.all([
    withTimeout(db.$queryRaw`SELECT 1`, CHECK_TIMEOUT_MS, "postgres").then(() => "up" as const, () => "down" as const),
    queue.ping().then(() => "up" as const, () => "down" as const),
  ]);
  return { status: database === "up" && redis === "up" ? "ok" : "degraded", database, redis };
}
