// The whole API as one Node HTTP server (@hono/node-server): for containers and the benchmark. Locally,
// `npm run api` serves the same routes through serverless offline instead.
import type { Server } from "node:http";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { LIMITS } from "../domain/limits.ts";
import { announceSecurity } from "../platform/announce-security.ts";
import { config } from "../platform/config.ts";
import { closeDeps, createDeps, type Deps } from "../platform/deps.ts";
import { createApiApp } from "./app.ts";
import { shedSilentConnections } from "./silent-connections.ts";

export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  silentConnectionMs: number;
}

/**
 * Serves the API with the timeouts a public API needs (Node's defaults wait 60 s for headers and 300 s
 * for a body, so slow clients could hold connections for minutes) and a cap on connections. A request
 * may still wait for its answer as long as it takes (a webhook test waits for the webhook's timeout):
 * these bound how long a client may take to send.
 */
export function serveApi(
  deps: Deps,
  { port, hostname = "0.0.0.0", limits = LIMITS }: { port: number; hostname?: string; limits?: ServerLimits },
  onListening?: (port: number) => void,
): Server {
  const server = serve(
    {
      fetch: createApiApp(deps).fetch,
      port,
      hostname,
      serverOptions: {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // Node checks those timeouts every 30 s by default; a second keeps them close to their value.
        connectionsCheckingInterval: 1_000,
      },
    },
    (info) => onListening?.(info.port),
  ) as Server;
  server.maxConnections = limits.maxConnections;
  shedSilentConnections(server, { maxConnections: limits.maxConnections, silentMs: limits.silentConnectionMs });
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cfg = config();
  const deps = createDeps(cfg, "api", 10);
  announceSecurity(deps);
  const server = serveApi(deps, { port: cfg.PORT }, (port) => {
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = LIMITS;
    deps.log.info(
      { port, headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections },
      "tetik API listening",
    );
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      server.close();
      void closeDeps(deps).then(() => process.exit(0));
    });
  }
}
