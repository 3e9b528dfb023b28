// The worker's own /metrics (WORKER_METRICS_PORT): its deliveries, attempt durations and first-attempt
// latencies, which only it sees, plus the log's and queue's counts. A Hono app on @hono/node-server with
// the API's auth rule (the API key or METRICS_TOKEN, when set).
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Deps } from "../platform/deps.ts";
import { bearerAuth } from "../platform/http/auth.ts";
import { errorBody } from "../platform/http/create-app.ts";
import { isDependencyDown } from "../platform/dependency-errors.ts";
import { AppError } from "../domain/errors.ts";
import { registerSystemGauges } from "../platform/metrics.ts";
import { systemState } from "../platform/system-state.ts";

export function serveWorkerMetrics(deps: Pick<Deps, "config" | "metrics" | "pool" | "queue" | "log">, port: number, onListening?: (port: number) => void): Server {
  registerSystemGauges(deps.metrics.registry, systemState(deps));
  const app = new Hono();
  app.use(bearerAuth(deps.config.API_KEY, deps.config.METRICS_TOKEN));
  app.get("/metrics", async (c) => c.text(await deps.metrics.registry.metrics(), 200, { "content-type": deps.metrics.registry.contentType }));
  app.notFound((c) => c.json(errorBody("not_found", "the worker serves /metrics only"), 404));
  app.onError((error, c) => {
    if (error instanceof AppError) return c.json(errorBody(error.code, error.message), error.status as 401);
    if (isDependencyDown(error)) return c.json(errorBody("service_unavailable", "a dependency is unavailable"), 503);
    deps.log.error({ err: error }, "metrics failed");
    return c.json(errorBody("internal_error", "internal error"), 500);
  });
  return serve({ fetch: app.fetch, port, hostname: "0.0.0.0" }, (info) => onListening?.(info.port)) as Server;
}
