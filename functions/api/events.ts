// Serverless function "events": ingestion and the event log.
import { getEvent, listEvents } from "../domain/events/event-log.ts";
import { createIngest } from "../domain/events/ingest-events.ts";
import { replayActions, replayEvent } from "../domain/delivery/replay.ts";
import { explainEvent } from "../domain/explain/explain-event.ts";
import { requireCollection } from "../domain/keys/scopes.ts";
import { fromPg } from "../platform/sql.ts";
import { createCoreDeps, type CoreDeps } from "../platform/core-deps.ts";
import { actorOf } from "../http/actor.ts";
import { addRoute } from "../http/add-route.ts";
import { createApp, type App } from "../http/create-app.ts";
import { eventsRoutes as routes } from "./contract/routes.ts";
import { lambdaHandler } from "../http/lambda-handler.ts";
import { eventView } from "./views.ts";

export function eventRoutes(app: App, deps: CoreDeps): App {
  const ingest = createIngest(deps);
  const q = fromPg(deps.pool);

  addRoute(app, routes.ingestEvent, async (c) => {
    requireCollection(c.get("principal"), c.req.valid("json").collection);
    const [id] = await ingest([c.req.valid("json")], { idempotencyKey: c.req.valid("header")["Idempotency-Key"] });
    deps.metrics.eventsAccepted.inc({ via: "events" });
    return c.json({ id: id!, status: "pending" as const }, 202);
  });

  addRoute(app, routes.ingestBatch, async (c) => {
    // All or nothing: one event outside the key's collections refuses the batch.
    for (const event of c.req.valid("json").events) requireCollection(c.get("principal"), event.collection);
    const ids = await ingest(c.req.valid("json").events, {
      idempotencyKey: c.req.valid("header")["Idempotency-Key"],
      batch: true,
    });
    deps.metrics.eventsAccepted.inc({ via: "batch" }, ids.length);
    return c.json({ ids }, 202);
  });

  addRoute(app, routes.listEvents, async (c) => {
    const page = await listEvents(deps, c.req.valid("query"));
    return c.json({ data: page.data.map(eventView), nextCursor: page.nextCursor }, 200);
  });

  addRoute(app, routes.getEvent, async (c) => c.json(eventView(await getEvent(q, c.req.valid("param").id)), 200));

  addRoute(app, routes.explainEvent, async (c) =>
    c.json(await explainEvent(q, deps.config, c.req.valid("param").id), 200),
  );

  // Registered before /events/:id/replay so "replay" is never taken for an event id.
  addRoute(app, routes.replayEvents, async (c) => {
    const { actions, events } = await replayActions(deps, c.req.valid("json") ?? {}, actorOf(c));
    return c.json({ queued: actions, events }, 202);
  });

  addRoute(app, routes.replayEvent, async (c) => {
    const { id } = c.req.valid("param");
    const { actions } = await replayEvent(deps, id, { all: c.req.valid("query").all === "true" }, actorOf(c));
    return c.json({ id, queued: actions }, 202);
  });

  return app;
}

export const handler = lambdaHandler((deps) => eventRoutes(createApp(deps), deps), createCoreDeps, {
  keepsWebhookSecrets: false,
});
