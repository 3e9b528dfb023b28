// The worker's own /metrics (WORKER_METRICS_PORT): its deliveries, attempt durations and first-attempt
// latencies, which only it sees, plus the log's and queue's counts. The API's app frame (auth with the API
// key or METRICS_TOKEN, errors in tetik's shape) on @hono/node-server.
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Deps } from "../platform/deps.ts";
import { createApp } from "../http/create-app.ts";
import { metricsScrape } from "../platform/system-state.ts";

export function serveWorkerMetrics(
  deps: Pick<Deps, "config" | "metrics" | "pool" | "queue" | "log">,
  port: number,
  onListening?: (port: number) => void,
): Server {
  const scrape = metricsScrape(deps);
  const app = createApp(deps);
  app.get("/metrics", async (c) => {
    const { text, contentType } = await scrape();
    return c.text(text, 200, { "content-type": contentType });
  });
  return serve({ fetch: app.fetch, port, hostname: "0.0.0.0" }, (info) => onListening?.(info.port)) as Server;
}
