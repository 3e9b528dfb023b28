// Serverless function "definitions": event definitions and their triggers.
import {
  createDefinition,
  deleteDefinition,
  getDefinition,
  listDefinitions,
  updateDefinition,
} from "../domain/definitions/definitions.ts";
import { createTrigger, deleteTrigger, getTrigger, updateTrigger } from "../domain/triggers/triggers.ts";
import { dryRun } from "../domain/explain/dry-run.ts";
import { createDeps, type Deps } from "../platform/deps.ts";
import { fromPg } from "../platform/sql.ts";
import { actorOf } from "../http/actor.ts";
import { addRoute } from "../http/add-route.ts";
import { createApp, type App } from "../http/create-app.ts";
import { definitionsRoutes as routes } from "./contract/routes.ts";
import { lambdaHandler } from "../http/lambda-handler.ts";
import { definitionDetailView, definitionView, triggerView } from "./views.ts";

export function definitionRoutes(app: App, deps: Deps): App {
  const { db, config } = deps;

  addRoute(app, routes.createDefinition, async (c) =>
    c.json(definitionView(await createDefinition(deps, c.req.valid("json"), actorOf(c))), 201),
  );

  addRoute(app, routes.listDefinitions, async (c) => {
    const page = await listDefinitions(db, c.req.valid("query"));
    return c.json({ data: page.data.map(definitionView), nextCursor: page.nextCursor }, 200);
  });

  addRoute(app, routes.getDefinition, async (c) =>
    c.json(definitionDetailView(await getDefinition(db, c.req.valid("param").id), config), 200),
  );

  addRoute(app, routes.updateDefinition, async (c) => {
    const definition = await updateDefinition(deps, c.req.valid("param").id, c.req.valid("json"), actorOf(c));
    return c.json(definitionView(definition), 200);
  });

  addRoute(app, routes.deleteDefinition, async (c) => {
    await deleteDefinition(deps, c.req.valid("param").id, actorOf(c));
    return c.body(null, 204);
  });

  addRoute(app, routes.createTrigger, async (c) =>
    c.json(triggerView(await createTrigger(deps, c.req.valid("param").id, c.req.valid("json"), actorOf(c))), 201),
  );

  addRoute(app, routes.getTrigger, async (c) =>
    c.json(triggerView(await getTrigger(db, c.req.valid("param").id)), 200),
  );

  addRoute(app, routes.updateTrigger, async (c) =>
    c.json(triggerView(await updateTrigger(deps, c.req.valid("param").id, c.req.valid("json"), actorOf(c))), 200),
  );

  const q = fromPg(deps.pool);
  addRoute(app, routes.dryRunDefinition, async (c) =>
    c.json(
      await dryRun({ q, config, now: deps.now }, c.req.valid("json"), { definitionId: c.req.valid("param").id }),
      200,
    ),
  );
  addRoute(app, routes.dryRunCollection, async (c) =>
    c.json(await dryRun({ q, config, now: deps.now }, c.req.valid("json")), 200),
  );

  addRoute(app, routes.deleteTrigger, async (c) => {
    await deleteTrigger(deps, c.req.valid("param").id, actorOf(c));
    return c.body(null, 204);
  });

  return app;
}

export const handler = lambdaHandler((deps) => definitionRoutes(createApp(deps), deps), createDeps, {
  keepsWebhookSecrets: false,
});
