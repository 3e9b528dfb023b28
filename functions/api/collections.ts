// Serverless function "collections": records of collections. Every write emits its collection.* event.
import type { Context } from "hono";
import { z } from "zod";
import { createRecordWriter } from "../domain/collections/record-writer.ts";
import { getRecord, listRecords } from "../domain/collections/records.ts";
import { fromPg } from "../platform/sql.ts";
import { storableJsonProblem } from "../domain/storable-json.ts";
import { collectionName, jsonObject, listQuery, parseInput } from "../domain/validation.ts";
import { createCoreDeps, type CoreDeps } from "../platform/core-deps.ts";
import { createApp, type App } from "../platform/http/create-app.ts";
import { readBody, readQuery } from "../platform/http/request.ts";
import { lambdaHandler } from "./lambda.ts";
import { recordView } from "./views.ts";

const recordId = z.string().min(1).max(255);
const createInput = z.strictObject({ id: recordId.optional(), data: jsonObject });
const patchInput = z.strictObject({ data: jsonObject });
const listInput = listQuery.extend({
  filter: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {}
      if (typeof value !== "object" || !value || Array.isArray(value)) {
        ctx.addIssue({ code: "custom", message: "must be a JSON object, e.g. {\"status\":\"paid\"}" });
        return z.NEVER;
      }
      const problem = storableJsonProblem(value);
      if (problem) {
        ctx.addIssue({ code: "custom", message: `${problem.path}: ${problem.message}` });
        return z.NEVER;
      }
      return value as Record<string, unknown>;
    }),
});

/** Writes and lists check the name (400); reads of one record just find nothing in a bad one (404). */
const collectionOf = (c: Context) => parseInput(collectionName, c.req.param("collection"), "collection");

export function collectionRoutes(app: App, deps: CoreDeps): App {
  const writer = createRecordWriter(deps);
  const q = fromPg(deps.pool);

  app.post("/collections/:collection/records", async (c) => {
    const collection = collectionOf(c);
    const input = await readBody(c, createInput);
    const { record, eventId } = await writer.create(collection, input.id, input.data);
    return c.json({ ...recordView(record!), eventId }, 201);
  });

  app.get("/collections/:collection/records", async (c) => {
    const page = await listRecords(q, collectionOf(c), readQuery(c, listInput));
    return c.json({ data: page.data.map(recordView), nextCursor: page.nextCursor });
  });

  app.get("/collections/:collection/records/:id", async (c) => c.json(recordView(await getRecord(q, c.req.param("collection"), c.req.param("id")))));

  app.patch("/collections/:collection/records/:id", async (c) => {
    const { data } = await readBody(c, patchInput);
    const { record, eventId } = await writer.patch(c.req.param("collection"), c.req.param("id"), data);
    return c.json({ ...recordView(record!), eventId });
  });

  app.delete("/collections/:collection/records/:id", async (c) => {
    await writer.remove(c.req.param("collection"), c.req.param("id"));
    return c.body(null, 204);
  });

  return app;
}

export const handler = lambdaHandler((deps) => collectionRoutes(createApp(deps), deps), createCoreDeps);
