// Every API area on one Hono app: what the container server, the benchmark and the tests use. In the
// cloud each area is its own Lambda function (see serverless.yml).
import type { Deps } from "../platform/deps.ts";
import { createApp, type App } from "../platform/http/create-app.ts";
import { collectionRoutes } from "./collections.ts";
import { dashboardRoutes } from "../dashboard/routes.tsx";
import { definitionRoutes } from "./definitions.ts";
import { docsRoutes } from "./docs.ts";
import { eventRoutes } from "./events.ts";
import { healthRoutes } from "./health.ts";
import { webhookRoutes } from "./webhooks.ts";
import { webhookTestingRoutes } from "./webhook-testing.ts";

export function createApiApp(deps: Deps): App {
  const app = createApp(deps);
  for (const register of [healthRoutes, definitionRoutes, webhookRoutes, webhookTestingRoutes, eventRoutes, collectionRoutes]) register(app, deps);
  dashboardRoutes(app, deps);
  return docsRoutes(app);
}
