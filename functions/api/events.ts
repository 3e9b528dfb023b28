// Serverless function "events": ingestion and the event log.
import { z } from "zod";
import { batchInput, eventInput, idempotencyKey } from "../domain/events/event-input.ts";
import { eventLogQuery, getEvent, listEvents } from "../domain/events/event-log.ts";
import { createIngest } from "../domain/events/ingest-events.ts";
import { replayActions, replayEvent, replayFilter } from "../domain/events/replay-events.ts";
import { parseInput } from "../domain/validation.ts";
import { fromPg } from "../platform/sql.ts";
import { createCoreDeps, type CoreDeps } from "../platform/core-deps.ts";
import { createApp, type App } from "../platform/http/create-app.ts";
import { readBody, readQuery } from "../platform/http/request.ts";
import { lambdaHandler } from "./lambda.ts";
import { eventView } from "./views.ts";

const replayQuery = z.object({ all: z.enum(["true", "false"]).optional() });

export function eventRoutes(app: App, deps: CoreDeps): App {
  const key = (header: string | undefined) => parseInput(idempotencyKey, header, "Idempotency-Key");
  const ingest = createIngest(deps);
  const q = fromPg(deps.pool);

  app.post("/events", async (c) => {
    const input = await readBody(c, eventInput);
    const [id] = await ingest([input], { idempotencyKey: key(c.req.header("idempotency-key")) });
    return c.json({ id, status: "pending" }, 202);
  });

  app.post("/events/batch", async (c) => {
    const { events } = await readBody(c, batchInput);
    const ids = await ingest(events, { idempotencyKey: key(c.req.header("idempotency-key")), batch: true });
    return c.json({ ids }, 202);
  });

  app.get("/events", async (c) => {
    const page = await listEvents(q, readQuery(c, eventLogQuery));
    return c.json({ data: page.data.map(eventView), nextCursor: page.nextCursor });
  });

  app.get("/events/:id", async (c) => c.json(eventView(await getEvent(q, c.req.param("id")))));

  // Registered before /events/:id/replay so "replay" is never taken for an event id.
  app.post("/events/replay", async (c) => {
    const filter = (await readBody(c, replayFilter, { optional: true })) ?? {};
    const { actions, events } = await replayActions(deps, filter);
    return c.json({ queued: actions, events }, 202);
  });

  app.post("/events/:id/replay", async (c) => {
    const { all } = readQuery(c, replayQuery);
    const { actions } = await replayEvent(deps, c.req.param("id"), { all: all === "true" });
    return c.json({ id: c.req.param("id"), queued: actions }, 202);
  });

  return app;
}

export const handler = lambdaHandler((deps) => eventRoutes(createApp(deps), deps), createCoreDeps);
