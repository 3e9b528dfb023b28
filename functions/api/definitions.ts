// Serverless function "definitions": event definitions and their triggers.
import { createDefinitionInput, updateDefinitionInput } from "../domain/definitions/definition-input.ts";
import { createDefinition, deleteDefinition, getDefinition, listDefinitions, updateDefinition } from "../domain/definitions/definitions.ts";
import { createTriggerInput, updateTriggerInput } from "../domain/triggers/trigger-input.ts";
import { createTrigger, deleteTrigger, getTrigger, updateTrigger } from "../domain/triggers/triggers.ts";
import { listQuery } from "../domain/validation.ts";
import { createDeps, type Deps } from "../platform/deps.ts";
import { createApp, type App } from "../platform/http/create-app.ts";
import { readBody, readQuery } from "../platform/http/request.ts";
import { lambdaHandler } from "./lambda.ts";
import { definitionDetailView, definitionView, triggerView } from "./views.ts";

export function definitionRoutes(app: App, deps: Deps): App {
  const { db, config } = deps;

  app.post("/definitions", async (c) => {
    const definition = await createDefinition(db, await readBody(c, createDefinitionInput));
    return c.json(definitionView(definition), 201);
  });

  app.get("/definitions", async (c) => {
    const page = await listDefinitions(db, readQuery(c, listQuery));
    return c.json({ data: page.data.map(definitionView), nextCursor: page.nextCursor });
  });

  app.get("/definitions/:id", async (c) => c.json(definitionDetailView(await getDefinition(db, c.req.param("id")), config)));

  app.patch("/definitions/:id", async (c) => {
    const definition = await updateDefinition(db, c.req.param("id"), await readBody(c, updateDefinitionInput));
    return c.json(definitionView(definition));
  });

  app.delete("/definitions/:id", async (c) => {
    await deleteDefinition(db, c.req.param("id"));
    return c.body(null, 204);
  });

  app.post("/definitions/:id/triggers", async (c) => {
    const trigger = await createTrigger(db, c.req.param("id"), await readBody(c, createTriggerInput));
    return c.json(triggerView(trigger), 201);
  });

  app.get("/triggers/:id", async (c) => c.json(triggerView(await getTrigger(db, c.req.param("id")))));

  app.patch("/triggers/:id", async (c) => {
    const trigger = await updateTrigger(db, c.req.param("id"), await readBody(c, updateTriggerInput));
    return c.json(triggerView(trigger));
  });

  app.delete("/triggers/:id", async (c) => {
    await deleteTrigger(db, c.req.param("id"));
    return c.body(null, 204);
  });

  return app;
}

export const handler = lambdaHandler((deps) => definitionRoutes(createApp(deps), deps), createDeps);
