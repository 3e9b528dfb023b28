// Serverless function "webhooks": webhook CRUD, secret rotation and the deliveries log.
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  rotateSecret,
  updateWebhook,
} from "../domain/webhooks/webhooks.ts";
import { createDeps, type Deps } from "../platform/deps.ts";
import { actorOf } from "../http/actor.ts";
import { addRoute } from "../http/add-route.ts";
import { createApp, type App } from "../http/create-app.ts";
import { webhooksRoutes as routes } from "./contract/routes.ts";
import { lambdaHandler } from "../http/lambda-handler.ts";
import { webhookFlow } from "../domain/webhooks/webhook-flow.ts";
import { deliveryView, flowView, webhookView, webhookWithSecretView } from "./views.ts";

export function webhookRoutes(app: App, deps: Deps): App {
  const { db, config } = deps;

  addRoute(app, routes.createWebhook, async (c) =>
    c.json(webhookWithSecretView(await createWebhook(deps, c.req.valid("json"), actorOf(c)), config), 201),
  );

  addRoute(app, routes.listWebhooks, async (c) => {
    const page = await listWebhooks(db, c.req.valid("query"));
    return c.json({ data: page.data.map((w) => webhookView(w, config)), nextCursor: page.nextCursor }, 200);
  });

  addRoute(app, routes.getWebhook, async (c) => {
    const webhook = await getWebhook(db, c.req.valid("param").id);
    const flow = await webhookFlow(deps, webhook.id);
    return c.json({ ...webhookView(webhook, config), flow: flowView(flow) }, 200);
  });

  addRoute(app, routes.updateWebhook, async (c) => {
    const webhook = await updateWebhook(deps, c.req.valid("param").id, c.req.valid("json"), actorOf(c));
    return c.json(webhookView(webhook, config), 200);
  });

  addRoute(app, routes.deleteWebhook, async (c) => {
    await deleteWebhook(deps, c.req.valid("param").id, actorOf(c));
    return c.body(null, 204);
  });

  addRoute(app, routes.rotateSecret, async (c) =>
    c.json(webhookWithSecretView(await rotateSecret(deps, c.req.valid("param").id, actorOf(c)), config), 200),
  );

  addRoute(app, routes.listDeliveries, async (c) => {
    const page = await listDeliveries(db, c.req.valid("param").id, c.req.valid("query"));
    return c.json({ data: page.data.map(deliveryView), nextCursor: page.nextCursor }, 200);
  });

  return app;
}

export const handler = lambdaHandler((deps) => webhookRoutes(createApp(deps), deps), createDeps);
