// Every API area on one Hono app: what the container server, the benchmark and the tests use. In the
// cloud each area is its own Lambda function (see serverless.yml).
import type { Deps } from "../platform/deps.ts";
import { createApp, type App } from "../http/create-app.ts";
import { accessRoutes } from "../api/access.ts";
import { collectionRoutes } from "../api/collections.ts";
import { dashboardRoutes } from "../dashboard/routes.tsx";
import { definitionRoutes } from "../api/definitions.ts";
import { docsRoutes } from "../api/docs.ts";
import { eventRoutes } from "../api/events.ts";
import { healthRoutes } from "../api/health.ts";
import { webhookRoutes } from "../api/webhooks.ts";
import { webhookTestingRoutes } from "../api/webhook-testing.ts";

export function createApiApp(deps: Deps): App {
  const app = createApp(deps);
  for (const register of [
    healthRoutes,
    definitionRoutes,
    webhookRoutes,
    webhookTestingRoutes,
    eventRoutes,
    collectionRoutes,
    accessRoutes,
  ])
    register(app, deps);
  dashboardRoutes(app, deps);
  return docsRoutes(app);
}
