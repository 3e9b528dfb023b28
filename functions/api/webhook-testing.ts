// Serverless function "webhook-testing": POST /webhooks/{id}/test sends one signed sample delivery now.
// Its own function because it waits on someone else's server, for up to the webhook's timeout.
import { testWebhook } from "../domain/webhooks/test-webhook.ts";
import { createDeps, type Deps } from "../platform/deps.ts";
import { addRoute } from "../http/add-route.ts";
import { createApp, type App } from "../http/create-app.ts";
import { webhookTestingRoutes as routes } from "./contract/routes.ts";
import { lambdaHandler } from "../http/lambda-handler.ts";
import { testResultView } from "./views.ts";

export function webhookTestingRoutes(app: App, deps: Deps): App {
  addRoute(app, routes.testWebhook, async (c) => {
    const input = c.req.valid("json");
    return c.json(testResultView(await testWebhook(deps, c.req.valid("param").id, input?.data)), 200);
  });
  return app;
}

export const handler = lambdaHandler((deps) => webhookTestingRoutes(createApp(deps), deps), createDeps);
