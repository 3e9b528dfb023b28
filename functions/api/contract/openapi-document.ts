// The OpenAPI 3.1 document, generated from the route declarations (routes.ts) and their zod schemas:
// the same schemas that validate the requests, so the document describes what the API does.
import { OpenAPIHono } from "@hono/zod-openapi";
import pkg from "../../../package.json" with { type: "json" };
import { allRoutes } from "./routes.ts";

const DESCRIPTION = `Event triggers and signed, retried, logged webhooks for data collections.

Define events on collections (a record created, updated, deleted, or a field updated), with conditions;
attach triggers that write to other collections and webhooks that tell outside systems; report changes
(or write records through tetik's collections); see every event in the log with its status, errors and timings.

**Auth**: when the server has an API key (\`API_KEY\`), every route but \`/health\`, \`/openapi.json\` and
\`/docs\` needs \`Authorization: Bearer <key>\`: \`API_KEY\` itself (every scope), or a key made with \`POST /keys\`,
which may call the routes whose security lists one of its scopes (\`admin\` may call all). Others answer
403 \`insufficient_scope\`.

**Errors**: every non-2xx answer is \`{"error": {"code", "message", "details"?}}\`. Bad input is a 4xx
and changes nothing; a dependency that is down gives a 503 (ingestion keeps accepting while only Redis is down).

**Lists**: \`?limit=\` (1-200, default 50) and \`?cursor=\`; the answer is \`{"data": [...], "nextCursor"}\`.`;

let cached: Record<string, unknown> | undefined;

/** The document (built once per process: it only changes with the code). */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const app = new OpenAPIHono();
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description:
      "API_KEY, or a key made with POST /keys, as `Authorization: Bearer <key>`. A route lists the scopes " +
      "that may call it, each as an alternative: admin, config, ingest, read, replay.",
  });
  for (const route of Object.values(allRoutes)) app.openAPIRegistry.registerPath(route);
  cached = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "tetik", version: pkg.version, description: DESCRIPTION },
    // Relative: the document is right wherever it is served (a stage's path, localhost, a domain).
    servers: [{ url: "/" }],
    security: [{ apiKey: [] }],
    tags: [
      { name: "Definitions", description: "Which changes matter: a type, a collection, a condition." },
      { name: "Triggers", description: "Records a definition creates, updates or deletes in other collections." },
      { name: "Webhooks", description: "Signed, retried HTTP deliveries of a definition's events." },
      { name: "Events", description: "Ingestion, the event log, replay." },
      { name: "Collections", description: "Records kept by tetik; each write emits its collection.* event." },
      {
        name: "Explain",
        description: "Why an event fired a definition or not, and what a change would do (dry runs).",
      },
      { name: "Operations", description: "Health, metrics and this description." },
      { name: "Access", description: "API keys with scopes (and the audit trail of changes): admin only." },
    ],
  }) as unknown as Record<string, unknown>;
  return cached;
}
