// Serverless function "webhook-testing": POST /webhooks/{id}/test sends one signed sample delivery now.
// Its own function because it waits on someone else's server, for up to the webhook's timeout.
import { z } from "zod";
import { testWebhook } from "../domain/webhooks/test-webhook.ts";
import { jsonObject } from "../domain/validation.ts";
import { createDeps, type Deps } from "../platform/deps.ts";
import { createApp, type App } from "../platform/http/create-app.ts";
import { readBody } from "../platform/http/request.ts";
import { lambdaHandler } from "./lambda.ts";
import { testResultView } from "./views.ts";

const testInput = z.strictObject({ data: jsonObject.optional() }).optional();

export function webhookTestingRoutes(app: App, deps: Deps): App {
  app.post("/webhooks/:id/test", async (c) => {
    const input = await readBody(c, testInput, { optional: true });
    return c.json(testResultView(await testWebhook(deps, c.req.param("id"), input?.data)));
  });
  return app;
}

export const handler = lambdaHandler((deps) => webhookTestingRoutes(createApp(deps), deps), createDeps);
