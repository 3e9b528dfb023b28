// Serverless function "collections": records of collections. Every write emits its collection.* event.
import { createRecordWriter } from "../domain/collections/collection-writes.ts";
import { getRecord, listRecords } from "../domain/collections/records.ts";
import { requireCollection } from "../domain/keys/scopes.ts";
import { fromPg } from "../platform/sql.ts";
import { createCoreDeps, type CoreDeps } from "../platform/core-deps.ts";
import { addRoute } from "../http/add-route.ts";
import { createApp, type App } from "../http/create-app.ts";
import { collectionsRoutes as routes } from "./contract/routes.ts";
import { lambdaHandler } from "../http/lambda-handler.ts";
import { recordView } from "./views.ts";

// Writes and lists check the collection's name (400); reads of one record just find nothing in a bad one
// (404): see the routes' path parameters.
export function collectionRoutes(app: App, deps: CoreDeps): App {
  const writer = createRecordWriter(deps);
  const q = fromPg(deps.pool);

  addRoute(app, routes.createRecord, async (c) => {
    const input = c.req.valid("json");
    const { collection } = c.req.valid("param");
    requireCollection(c.get("principal"), collection);
    const { record, eventId } = await writer.create(collection, input.id, input.data);
    deps.metrics.eventsAccepted.inc({ via: "records" });
    return c.json({ ...recordView(record!), eventId }, 201);
  });

  addRoute(app, routes.listRecords, async (c) => {
    const page = await listRecords(deps, c.req.valid("param").collection, c.req.valid("query"));
    return c.json({ data: page.data.map(recordView), nextCursor: page.nextCursor }, 200);
  });

  addRoute(app, routes.getRecord, async (c) => {
    const { collection, id } = c.req.valid("param");
    return c.json(recordView(await getRecord(q, collection, id)), 200);
  });

  addRoute(app, routes.patchRecord, async (c) => {
    const { collection, id } = c.req.valid("param");
    requireCollection(c.get("principal"), collection);
    const { record, eventId } = await writer.patch(collection, id, c.req.valid("json").data);
    if (eventId) deps.metrics.eventsAccepted.inc({ via: "records" });
    return c.json({ ...recordView(record!), eventId }, 200);
  });

  addRoute(app, routes.deleteRecord, async (c) => {
    const { collection, id } = c.req.valid("param");
    requireCollection(c.get("principal"), collection);
    await writer.remove(collection, id);
    deps.metrics.eventsAccepted.inc({ via: "records" });
    return c.body(null, 204);
  });

  return app;
}

export const handler = lambdaHandler((deps) => collectionRoutes(createApp(deps), deps), createCoreDeps, {
  keepsWebhookSecrets: false,
});
