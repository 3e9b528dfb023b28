// Every API area on one Hono app: what the container server, the benchmark and the tests use. In the
// cloud each area is its own Lambda function (see serverless.yml).
import type { Deps } from "../platform/deps.ts";
import type { Context } from "hono";
import { allRoutes } from "../api/contract/routes.ts";
import { createApp, errorBody, type App } from "../http/create-app.ts";
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
  app.notFound(methodNotAllowed);
  return docsRoutes(app);
}

/** Each route of the contract as a method and a pattern of its path. */
const ROUTES = Object.values(allRoutes).map((route) => ({
  method: route.method.toUpperCase(),
  pattern: new RegExp(`^${route.path.replace(/\{[^}]+\}/g, "[^/]+")}$`),
}));

/**
 * A path the API has, asked with a method it does not take, is a 405 that says which it takes (with
 * `Allow`); anything else is a 404. In AWS, API Gateway answers both before any function runs.
 */
function methodNotAllowed(c: Context) {
  const allowed = [...new Set(ROUTES.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
  if (allowed.length === 0) return c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404);
  if (allowed.includes("GET")) allowed.push("HEAD");
  c.header("allow", allowed.join(", "));
  return c.json(errorBody("method_not_allowed", `${c.req.path} takes ${allowed.join(", ")}, not ${c.req.method}`), 405);
}
