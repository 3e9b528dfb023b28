// The whole API as one Node HTTP server (@hono/node-server): for containers and the benchmark. Locally,
// `npm run api` serves the same routes through serverless offline instead.
import { serve } from "@hono/node-server";
import { config } from "../platform/config.ts";
import { closeDeps, createDeps } from "../platform/deps.ts";
import { announceAuthMode } from "./lambda.ts";
import { createApiApp } from "./app.ts";

const cfg = config();
const deps = createDeps(cfg, "api", 10);
announceAuthMode(deps);
const server = serve({ fetch: createApiApp(deps).fetch, port: cfg.PORT, hostname: "0.0.0.0" }, (info) =>
  deps.log.info({ port: info.port }, "tetik API listening"),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    void closeDeps(deps).then(() => process.exit(0));
  });
}
