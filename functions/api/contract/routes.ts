// Every route of the API, declared once: method, path, what it takes (the zod schemas that validate it)
// and what it answers, each status code with its shape. The handlers register these (addRoute), the
// OpenAPI document is generated from them (openapi-document.ts), serverless.yml's routes are checked
// against them (test/contract.test.ts), and the typed client takes its types from them.
//
// Grouped by the serverless function that serves them: one function per API area.
import type { RouteConfig } from "@hono/zod-openapi";
import { z } from "zod";
import { createDefinitionInput, updateDefinitionInput } from "../../domain/definitions/definition-input.ts";
import { eventLogQuery } from "../../domain/events/event-log.ts";
import { batchInput, eventInput, idempotencyKey, recordIdText } from "../../domain/events/event-input.ts";
import { replayFilter } from "../../domain/delivery/replay.ts";
import { storableJsonProblem } from "../../domain/storable-json.ts";
import { createTriggerInput, updateTriggerInput } from "../../domain/triggers/trigger-input.ts";
import {
  collectionName,
  jsonObject,
  listQuery,
  notReservedCollection,
  reservedCollectionMessage,
  writableCollection,
} from "../../domain/validation.ts";
import { createWebhookInput, updateWebhookInput } from "../../domain/webhooks/webhook-input.ts";
import { collectionDryRunInput, dryRunInput } from "../../domain/explain/dry-run.ts";
import { createKeyInput } from "../../domain/keys/key-input.ts";
import { auditQuery } from "../../domain/audit/audit-log.ts";
import type { Scope } from "../../domain/keys/scopes.ts";
import * as shape from "./shapes.ts";

/**
 * Who may call a route: keys with any one of these scopes, or `admin` (each an alternative of the
 * security requirement, as OpenAPI reads a list of them). add-route.ts checks it on every request.
 */
const allow = (...scopes: Scope[]) => [{ apiKey: ["admin"] }, ...scopes.map((scope) => ({ apiKey: [scope] }))];

/** Keeps a route's literal type (what the handler and the client are typed from). */
const route = <const R extends RouteConfig>(config: R) => config;

const ERRORS = {
  400: "The request is invalid: `details` lists each problem with its path. Nothing was changed.",
  401: "No API key, or a wrong, revoked or expired one (when API_KEY is set): send `Authorization: Bearer <key>`.",
  403: "The key's scopes do not allow this (`insufficient_scope`; `details` says what it needs). Nothing was changed.",
  404: "No such resource (or no such id, whatever its form).",
  409: "Conflicts with what exists (a duplicate name or record id).",
  413: "The body is over 1 MiB (`payload_too_large`), or the record a patch leaves would be (`record_too_large`).",
  415: "The body is not JSON: send `content-type: application/json`.",
  422: "This Idempotency-Key was used before with a different body.",
  503: "A dependency (Postgres, Redis) is unavailable: try again shortly. Nothing was changed.",
  500: "Something tetik did not expect: the message names the request id to look for in the logs.",
} as const;
type ErrorStatus = keyof typeof ERRORS;

const json = <S extends z.ZodType>(schema: S) => ({ "application/json": { schema } });
const answer = <S extends z.ZodType>(description: string, schema: S) => ({ description, content: json(schema) });
/** The error answers of a route; every route may also answer 500. */
const errors = <const S extends ErrorStatus[]>(...statuses: S) =>
  Object.fromEntries(
    [...statuses, 500 as const].map((status) => [status, answer(ERRORS[status], shape.ErrorShape)]),
  ) as {
    [K in S[number] | 500]: {
      description: string;
      content: { "application/json": { schema: typeof shape.ErrorShape } };
    };
  };
const body = <S extends z.ZodType>(schema: S, required = true) => ({ body: { content: json(schema), required } });
const noContent = { 204: { description: "Done; no body." } } as const;

/** Ids name rows: any text is taken, and one that names nothing is a 404 (the SPEC). */
const anId = (what: string) => z.object({ id: z.string().meta({ description: `the ${what}'s id` }) });
const writeCollection = z.object({
  collection: collectionName.meta({ description: "a collection name", example: "orders" }),
});
const readRecord = z.object({
  collection: z.string().meta({ example: "orders" }),
  id: z.string().meta({ example: "o-1" }),
});
// Records are written by the API to any collection but tetik's own (its operational events): a 400.
const createInCollection = z.object({
  collection: writableCollection.meta({ description: "a collection name, not tetik", example: "orders" }),
});
const writeRecord = readRecord.extend({
  collection: readRecord.shape.collection.refine(notReservedCollection, reservedCollectionMessage),
});

// Request shapes that belong to HTTP only (the domain's inputs are imported above).
export const createRecordInput = z.strictObject({
  id: recordIdText.optional().meta({ description: "generated when left out" }),
  data: jsonObject,
});
export const patchRecordInput = z.strictObject({
  data: jsonObject.meta({ description: "merged into the record's data" }),
});
export const recordListQuery = listQuery.extend({
  // A record list's cursor is a record's id, which users choose: any id text.
  cursor: recordIdText.optional(),
  filter: z
    .string()
    .optional()
    .meta({ description: 'a JSON object in the conditions language over the records\' fields, e.g. {"status":"paid"}' })
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {}
      if (typeof value !== "object" || !value || Array.isArray(value)) {
        ctx.addIssue({ code: "custom", message: 'must be a JSON object, e.g. {"status":"paid"}' });
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
export const webhookListQuery = listQuery.extend({ definitionId: z.string().min(1).max(200).optional() });
export const testSendInput = z
  .strictObject({ data: jsonObject.optional().meta({ description: "the sample event's data" }) })
  .optional();
export const eventReplayQuery = z.strictObject({
  all: z.enum(["true", "false"]).optional().meta({ description: "true: every action, not only the failed ones" }),
});
export const idempotencyHeader = z.object({
  "Idempotency-Key": idempotencyKey.meta({
    description:
      "A repeat with the same key and body answers with the first event's id and creates " +
      "nothing; the same key with another body is a 422.",
    example: "order-o-1-paid",
  }),
});

const INGEST_EXAMPLE = {
  type: "collection.updated",
  collection: "orders",
  recordId: "o-1",
  data: { status: "paid", total: 120 },
  previous: { status: "new", total: 120 },
  occurredAt: "2026-11-27T10:00:00Z",
};

export const definitionsRoutes = {
  createDefinition: route({
    method: "post",
    path: "/definitions",
    tags: ["Definitions"],
    summary: "Create an event definition",
    security: allow("config"),
    request: body(
      createDefinitionInput.meta({
        example: {
          name: "big-orders",
          type: "collection.created",
          collection: "orders",
          condition: { "data.total": { $gt: 100 } },
        },
      }),
    ),
    responses: { 201: answer("The definition.", shape.Definition), ...errors(400, 401, 403, 409, 413, 415, 503) },
  }),
  listDefinitions: route({
    method: "get",
    path: "/definitions",
    tags: ["Definitions"],
    summary: "List event definitions, newest first",
    security: allow("read", "config"),
    request: { query: listQuery },
    responses: {
      200: answer("A page of definitions.", shape.pageOf(shape.Definition, "DefinitionPage")),
      ...errors(400, 401, 403, 503),
    },
  }),
  getDefinition: route({
    method: "get",
    path: "/definitions/{id}",
    tags: ["Definitions"],
    summary: "Get a definition with its triggers and webhooks",
    security: allow("read", "config"),
    request: { params: anId("definition") },
    responses: { 200: answer("The definition.", shape.DefinitionDetail), ...errors(401, 403, 404, 503) },
  }),
  updateDefinition: route({
    method: "patch",
    path: "/definitions/{id}",
    tags: ["Definitions"],
    summary: "Change a definition",
    security: allow("config"),
    request: { params: anId("definition"), ...body(updateDefinitionInput) },
    responses: { 200: answer("The definition.", shape.Definition), ...errors(400, 401, 403, 404, 409, 413, 415, 503) },
  }),
  deleteDefinition: route({
    method: "delete",
    path: "/definitions/{id}",
    tags: ["Definitions"],
    summary: "Delete a definition, its triggers and webhooks",
    security: allow("config"),
    request: { params: anId("definition") },
    responses: { ...noContent, ...errors(401, 403, 404, 503) },
  }),
  createTrigger: route({
    method: "post",
    path: "/definitions/{id}/triggers",
    tags: ["Triggers"],
    summary: "Add a trigger to a definition",
    security: allow("config"),
    request: {
      params: anId("definition"),
      ...body(
        createTriggerInput.meta({
          example: {
            action: "create",
            targetCollection: "audit",
            data: { orderId: "{{event.recordId}}", total: "{{data.total}}" },
          },
        }),
      ),
    },
    responses: { 201: answer("The trigger.", shape.Trigger), ...errors(400, 401, 403, 404, 413, 415, 503) },
  }),
  getTrigger: route({
    method: "get",
    path: "/triggers/{id}",
    tags: ["Triggers"],
    summary: "Get a trigger",
    security: allow("read", "config"),
    request: { params: anId("trigger") },
    responses: { 200: answer("The trigger.", shape.Trigger), ...errors(401, 403, 404, 503) },
  }),
  updateTrigger: route({
    method: "patch",
    path: "/triggers/{id}",
    tags: ["Triggers"],
    summary: "Change a trigger",
    security: allow("config"),
    request: { params: anId("trigger"), ...body(updateTriggerInput) },
    responses: { 200: answer("The trigger.", shape.Trigger), ...errors(400, 401, 403, 404, 413, 415, 503) },
  }),
  dryRunDefinition: route({
    method: "post",
    path: "/definitions/{id}/dry-run",
    tags: ["Explain"],
    summary: "What this definition would do with a change: nothing is written or sent",
    security: allow("read", "config"),
    description:
      "The definition's verdict on a would-be event or record write, clause by clause, with the " +
      "exact request each webhook would send (signature left out) and the records each trigger " +
      "would create, update or delete (at most 100 listed, with the count).",
    request: {
      params: anId("definition"),
      ...body(
        dryRunInput.meta({
          example: {
            record: { collection: "posts", id: "p-1", data: { status: "published" }, previous: { status: "draft" } },
          },
        }),
      ),
    },
    responses: { 200: answer("What would happen.", shape.DryRun), ...errors(400, 401, 403, 404, 413, 415, 503) },
  }),
  dryRunCollection: route({
    method: "post",
    path: "/dry-run",
    tags: ["Explain"],
    summary: "What a collection's definitions (or one being written) would do with a change",
    security: allow("read", "config"),
    description:
      "Without `definition`: every definition of the change's collection. With `definition` (and " +
      "its `webhooks` and `triggers`, as they would be created): that one, unsaved.",
    request: body(collectionDryRunInput),
    responses: { 200: answer("What would happen.", shape.DryRun), ...errors(400, 401, 403, 413, 415, 503) },
  }),
  deleteTrigger: route({
    method: "delete",
    path: "/triggers/{id}",
    tags: ["Triggers"],
    summary: "Delete a trigger",
    security: allow("config"),
    request: { params: anId("trigger") },
    responses: { ...noContent, ...errors(401, 403, 404, 503) },
  }),
} as const;

export const webhooksRoutes = {
  createWebhook: route({
    method: "post",
    path: "/webhooks",
    tags: ["Webhooks"],
    summary: "Create a webhook (its secret is shown in this answer)",
    security: allow("config"),
    request: body(
      createWebhookInput.meta({
        example: {
          definitionId: "def_01JDZ8",
          url: "https://example.com/hook",
          headers: { "x-team": "billing" },
          secretHeaders: { authorization: "Bearer rcv_token_from_the_receiver" },
          retry: { maxAttempts: 5 },
        },
      }),
    ),
    responses: {
      201: answer("The webhook, with its signing secret.", shape.WebhookWithSecret),
      ...errors(400, 401, 403, 404, 413, 415, 503),
    },
  }),
  listWebhooks: route({
    method: "get",
    path: "/webhooks",
    tags: ["Webhooks"],
    summary: "List webhooks, newest first",
    security: allow("read", "config"),
    request: { query: webhookListQuery },
    responses: {
      200: answer("A page of webhooks.", shape.pageOf(shape.Webhook, "WebhookPage")),
      ...errors(400, 401, 403, 503),
    },
  }),
  getWebhook: route({
    method: "get",
    path: "/webhooks/{id}",
    tags: ["Webhooks"],
    summary: "Get a webhook",
    security: allow("read", "config"),
    request: { params: anId("webhook") },
    responses: { 200: answer("The webhook and its flow.", shape.WebhookWithFlow), ...errors(401, 403, 404, 503) },
  }),
  updateWebhook: route({
    method: "patch",
    path: "/webhooks/{id}",
    tags: ["Webhooks"],
    summary: "Change a webhook",
    security: allow("config"),
    request: { params: anId("webhook"), ...body(updateWebhookInput) },
    responses: { 200: answer("The webhook.", shape.Webhook), ...errors(400, 401, 403, 404, 413, 415, 503) },
  }),
  deleteWebhook: route({
    method: "delete",
    path: "/webhooks/{id}",
    tags: ["Webhooks"],
    summary: "Delete a webhook",
    security: allow("config"),
    request: { params: anId("webhook") },
    responses: { ...noContent, ...errors(401, 403, 404, 503) },
  }),
  rotateSecret: route({
    method: "post",
    path: "/webhooks/{id}/rotate-secret",
    tags: ["Webhooks"],
    summary: "Replace a webhook's signing secret",
    security: allow("config"),
    request: { params: anId("webhook") },
    responses: {
      200: answer("The webhook, with its new secret.", shape.WebhookWithSecret),
      ...errors(401, 403, 404, 503),
    },
  }),
  listDeliveries: route({
    method: "get",
    path: "/webhooks/{id}/deliveries",
    tags: ["Webhooks"],
    summary: "List a webhook's delivery attempts, newest first",
    security: allow("read", "config"),
    request: { params: anId("webhook"), query: listQuery },
    responses: {
      200: answer("A page of attempts.", shape.pageOf(shape.Delivery, "DeliveryPage")),
      ...errors(400, 401, 403, 404, 503),
    },
  }),
} as const;

export const webhookTestingRoutes = {
  testWebhook: route({
    method: "post",
    path: "/webhooks/{id}/test",
    tags: ["Webhooks"],
    summary: "Send one signed sample delivery now",
    security: allow("config"),
    description:
      "Waits for the receiver's answer, up to the webhook's timeout and at most WEBHOOK_TEST_TIMEOUT_MS " +
      "(25 s: API Gateway stops waiting at 30 s). The attempt is listed in its deliveries (test: true).",
    request: { params: anId("webhook"), ...body(testSendInput, false) },
    responses: {
      200: answer("What the receiver answered.", shape.TestResult),
      ...errors(400, 401, 403, 404, 413, 415, 503),
    },
  }),
} as const;

export const eventsRoutes = {
  ingestEvent: route({
    method: "post",
    path: "/events",
    tags: ["Events"],
    summary: "Report a change (ingest an event)",
    security: allow("ingest"),
    description:
      "Answers once the event is committed to Postgres; it is processed afterwards. Keeps " +
      "accepting while only Redis is down.",
    request: { headers: idempotencyHeader, ...body(eventInput.meta({ example: INGEST_EXAMPLE })) },
    responses: {
      202: answer("Stored; waiting to be processed.", shape.Accepted),
      ...errors(400, 401, 403, 413, 415, 422, 503),
    },
  }),
  ingestBatch: route({
    method: "post",
    path: "/events/batch",
    tags: ["Events"],
    summary: "Report up to 1,000 changes at once, all or nothing",
    security: allow("ingest"),
    request: {
      headers: idempotencyHeader,
      ...body(batchInput.meta({ example: { events: [INGEST_EXAMPLE, { ...INGEST_EXAMPLE, recordId: "o-2" }] } })),
    },
    responses: { 202: answer("Stored, in order.", shape.BatchAccepted), ...errors(400, 401, 403, 413, 415, 422, 503) },
  }),
  listEvents: route({
    method: "get",
    path: "/events",
    tags: ["Events"],
    summary: "The event log, newest first",
    security: allow("read"),
    description:
      "A page also stops at 4 MiB of the events' data and their actions (nextCursor continues it). With a " +
      "filter, the database may work on the page for 2 s (LIST_QUERY_TIMEOUT_MS) before it answers 400 " +
      "`filter_too_costly`; filtered lists take turns, and one that waits 2 s for its turn answers 503 with " +
      "Retry-After.",
    request: { query: eventLogQuery },
    responses: {
      200: answer("A page of events.", shape.pageOf(shape.Event, "EventPage")),
      ...errors(400, 401, 403, 503),
    },
  }),
  getEvent: route({
    method: "get",
    path: "/events/{id}",
    tags: ["Events"],
    summary: "One event, with its actions",
    security: allow("read"),
    request: { params: anId("event") },
    responses: { 200: answer("The event.", shape.Event), ...errors(401, 403, 404, 503) },
  }),
  explainEvent: route({
    method: "get",
    path: "/events/{id}/explain",
    tags: ["Explain"],
    summary: "Why did (or didn't) this event fire each definition?",
    security: allow("read"),
    description:
      "For every definition of the event's collection (active or not, and deleted ones that " +
      "produced actions), whether it matched and why, clause by clause, then what it produced.",
    request: { params: anId("event") },
    responses: { 200: answer("The explanation.", shape.EventExplanation), ...errors(401, 403, 404, 503) },
  }),
  replayEvents: route({
    method: "post",
    path: "/events/replay",
    tags: ["Events"],
    summary: "Run the failed actions of the selected events again",
    security: allow("replay"),
    request: body(replayFilter, false),
    responses: { 202: answer("Queued.", shape.ReplayQueued), ...errors(400, 401, 403, 413, 415, 503) },
  }),
  replayEvent: route({
    method: "post",
    path: "/events/{id}/replay",
    tags: ["Events"],
    summary: "Run an event's failed actions (or all) again",
    security: allow("replay"),
    request: { params: anId("event"), query: eventReplayQuery },
    responses: { 202: answer("Queued.", shape.EventReplayQueued), ...errors(400, 401, 403, 404, 503) },
  }),
} as const;

export const collectionsRoutes = {
  createRecord: route({
    method: "post",
    path: "/collections/{collection}/records",
    tags: ["Collections"],
    summary: "Create a record (emits collection.created)",
    security: allow("ingest"),
    request: {
      params: createInCollection,
      ...body(createRecordInput.meta({ example: { id: "o-1", data: { status: "new", total: 120 } } })),
    },
    responses: {
      201: answer("The record, and the event its write emitted.", shape.RecordWritten),
      ...errors(400, 401, 403, 404, 409, 413, 415, 503),
    },
  }),
  listRecords: route({
    method: "get",
    path: "/collections/{collection}/records",
    tags: ["Collections"],
    summary: "List a collection's records, newest first",
    security: allow("read"),
    description:
      "A page also stops at 4 MiB of the records' data (nextCursor continues it). With `filter`, the " +
      "database may work on the page for 2 s (LIST_QUERY_TIMEOUT_MS) before it answers 400 " +
      "`filter_too_costly`; filtered lists take turns, and one that waits 2 s for its turn answers 503 with " +
      "Retry-After.",
    request: { params: writeCollection, query: recordListQuery },
    responses: {
      200: answer("A page of records.", shape.pageOf(shape.CollectionRecord, "RecordPage")),
      ...errors(400, 401, 403, 404, 503),
    },
  }),
  getRecord: route({
    method: "get",
    path: "/collections/{collection}/records/{id}",
    tags: ["Collections"],
    summary: "Get a record",
    security: allow("read"),
    request: { params: readRecord },
    responses: { 200: answer("The record.", shape.CollectionRecord), ...errors(401, 403, 404, 503) },
  }),
  patchRecord: route({
    method: "patch",
    path: "/collections/{collection}/records/{id}",
    tags: ["Collections"],
    summary: "Merge fields into a record (emits collection.updated)",
    security: allow("ingest"),
    request: { params: writeRecord, ...body(patchRecordInput) },
    responses: {
      200: answer("The record, and the event its write emitted.", shape.RecordWritten),
      ...errors(400, 401, 403, 404, 413, 415, 503),
    },
  }),
  deleteRecord: route({
    method: "delete",
    path: "/collections/{collection}/records/{id}",
    tags: ["Collections"],
    summary: "Delete a record (emits collection.deleted)",
    security: allow("ingest"),
    request: { params: writeRecord },
    responses: { ...noContent, ...errors(400, 401, 403, 404, 503) },
  }),
} as const;

export const healthRoutes = {
  health: route({
    method: "get",
    path: "/health",
    tags: ["Operations"],
    summary: "Are Postgres and Redis reachable, is the sweep running?",
    security: [],
    responses: {
      200: answer("Up (status degraded: the sweep is late).", shape.Health),
      503: answer("A dependency is down: `details` holds the same report.", shape.ErrorShape),
      ...errors(),
    },
  }),
  metrics: route({
    method: "get",
    path: "/metrics",
    tags: ["Operations"],
    summary: "Prometheus metrics (text format, tetik_ prefix)",
    security: allow("read"),
    description:
      "Takes the API key or METRICS_TOKEN. Counts of the log, the queue and the sweep are read " +
      "at scrape time; accepted events are this instance's own. The worker serves its delivery " +
      "metrics on WORKER_METRICS_PORT.",
    responses: {
      200: {
        description: "Prometheus text exposition format 0.0.4.",
        content: { "text/plain": { schema: z.string() } },
      },
      ...errors(401, 403, 503),
    },
  }),
} as const;

export const docsRoutes = {
  openapi: route({
    method: "get",
    path: "/openapi.json",
    tags: ["Operations"],
    summary: "This document (OpenAPI 3.1)",
    security: [],
    responses: {
      200: {
        description: "The OpenAPI document.",
        content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
      },
      ...errors(),
    },
  }),
  docs: route({
    method: "get",
    path: "/docs",
    tags: ["Operations"],
    summary: "The interactive API reference (a page for a browser)",
    security: [],
    responses: { 200: { description: "An HTML page.", content: { "text/html": { schema: z.string() } } }, ...errors() },
  }),
} as const;

export const accessRoutes = {
  createKey: route({
    method: "post",
    path: "/keys",
    tags: ["Access"],
    summary: "Make an API key with some scopes (the key is shown in this answer only)",
    security: allow(),
    request: body(
      createKeyInput.meta({ example: { name: "orders-service", scopes: ["ingest"], collections: ["orders"] } }),
    ),
    responses: {
      201: answer("The key, with its secret text.", shape.ApiKeyCreated),
      ...errors(400, 401, 403, 413, 415, 503),
    },
  }),
  listKeys: route({
    method: "get",
    path: "/keys",
    tags: ["Access"],
    summary: "List API keys, newest first (revoked ones too)",
    security: allow(),
    request: { query: listQuery },
    responses: {
      200: answer("A page of keys.", shape.pageOf(shape.ApiKey, "ApiKeyPage")),
      ...errors(400, 401, 403, 503),
    },
  }),
  getKey: route({
    method: "get",
    path: "/keys/{id}",
    tags: ["Access"],
    summary: "Get an API key (never its secret text)",
    security: allow(),
    request: { params: anId("key") },
    responses: { 200: answer("The key.", shape.ApiKey), ...errors(401, 403, 404, 503) },
  }),
  revokeKey: route({
    method: "delete",
    path: "/keys/{id}",
    tags: ["Access"],
    summary: "Revoke an API key: refused everywhere within 10 seconds",
    security: allow(),
    request: { params: anId("key") },
    responses: { ...noContent, ...errors(401, 403, 404, 503) },
  }),
  listAudit: route({
    method: "get",
    path: "/audit",
    tags: ["Access"],
    summary: "The audit trail: every change of configuration, newest first",
    security: allow(),
    description:
      "One entry per successful change (definitions, triggers, webhooks, replays, keys), written in the " +
      "change's transaction, with the target's view before and after and never a secret. Entries cannot " +
      "be changed; they are deleted after AUDIT_RETENTION_DAYS. A page also stops at 4 MiB of before and after.",
    request: { query: auditQuery },
    responses: {
      200: answer("A page of entries.", shape.pageOf(shape.AuditEntry, "AuditPage")),
      ...errors(400, 401, 403, 503),
    },
  }),
} as const;

/** The routes of each serverless function (serverless.yml's functions, by name). */
export const routesByFunction = {
  definitions: definitionsRoutes,
  webhooks: webhooksRoutes,
  webhookTesting: webhookTestingRoutes,
  events: eventsRoutes,
  collections: collectionsRoutes,
  health: healthRoutes,
  docs: docsRoutes,
  access: accessRoutes,
} as const;

export const allRoutes = Object.assign({}, ...Object.values(routesByFunction)) as typeof definitionsRoutes &
  typeof webhooksRoutes &
  typeof webhookTestingRoutes &
  typeof eventsRoutes &
  typeof collectionsRoutes &
  typeof healthRoutes &
  typeof docsRoutes &
  typeof accessRoutes;
