// Serverless function "webhooks": webhook CRUD, secret rotation and the deliveries log.
import { z } from "zod";
import { createWebhookInput, updateWebhookInput } from "../domain/webhooks/webhook-input.ts";
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, rotateSecret, updateWebhook } from "../domain/webhooks/webhooks.ts";
import { listQuery } from "../domain/validation.ts";
import { createDeps, type Deps } from "../platform/deps.ts";
import { createApp, type App } from "../platform/http/create-app.ts";
import { readBody, readQuery } from "../platform/http/request.ts";
import { lambdaHandler } from "./lambda.ts";
import { deliveryView, webhookView } from "./views.ts";

const webhookListQuery = listQuery.extend({ definitionId: z.string().min(1).max(200).optional() });

export function webhookRoutes(app: App, deps: Deps): App {
  const { db, config } = deps;

  app.post("/webhooks", async (c) => {
    const webhook = await createWebhook(deps, await readBody(c, createWebhookInput));
    return c.json(webhookView(webhook, config, { withSecret: true }), 201);
  });

  app.get("/webhooks", async (c) => {
    const page = await listWebhooks(db, readQuery(c, webhookListQuery));
    return c.json({ data: page.data.map((w) => webhookView(w, config)), nextCursor: page.nextCursor });
  });

  app.get("/webhooks/:id", async (c) => c.json(webhookView(await getWebhook(db, c.req.param("id")), config)));

  app.patch("/webhooks/:id", async (c) => {
    const webhook = await updateWebhook(deps, c.req.param("id"), await readBody(c, updateWebhookInput));
    return c.json(webhookView(webhook, config));
  });

  app.delete("/webhooks/:id", async (c) => {
    await deleteWebhook(db, c.req.param("id"));
    return c.body(null, 204);
  });

  app.post("/webhooks/:id/rotate-secret", async (c) => {
    const webhook = await rotateSecret(deps, c.req.param("id"));
    return c.json(webhookView(webhook, config, { withSecret: true }));
  });

  app.get("/webhooks/:id/deliveries", async (c) => {
    const page = await listDeliveries(db, c.req.param("id"), readQuery(c, listQuery));
    return c.json({ data: page.data.map(deliveryView), nextCursor: page.nextCursor });
  });

  return app;
}

export const handler = lambdaHandler((deps) => webhookRoutes(createApp(deps), deps), createDeps);
