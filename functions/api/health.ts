// Serverless function "health": is the database reachable, is Redis, is the sweep running? Also answers
// unknown routes in the SPEC's error shape, so API Gateway's bare 404 never reaches a user.
import { checkHealth } from "../domain/health/check-health.ts";
import { createCoreDeps, type CoreDeps } from "../platform/core-deps.ts";
import { addRoute } from "../http/add-route.ts";
import { createApp, errorBody, RETRY_AFTER_SECONDS, type App } from "../http/create-app.ts";
import { healthRoutes as routes } from "./contract/routes.ts";
import { lambdaHandler } from "../http/lambda-handler.ts";
import { metricsScrape } from "../platform/system-state.ts";

export function healthRoutes(app: App, deps: CoreDeps): App {
  addRoute(app, routes.health, async (c) => {
    const health = await checkHealth(deps);
    if (health.database === "up" && health.redis !== "down") return c.json(health, 200);
    c.header("retry-after", RETRY_AFTER_SECONDS);
    return c.json(errorBody("service_unavailable", "a dependency is unavailable", health), 503);
  });

  const scrape = metricsScrape(deps);
  addRoute(app, routes.metrics, async (c) => {
    const { text, contentType } = await scrape();
    return c.text(text, 200, { "content-type": contentType });
  });
  return app;
}

export const handler = lambdaHandler((deps) => healthRoutes(createApp(deps), deps), createCoreDeps, {
  keepsWebhookSecrets: false,
});
