// The JSON shapes tetik answers with (the SPEC's), as zod schemas: the OpenAPI document describes them,
// the route handlers are typed against them (a view that drifts from its shape does not compile), the
// contract tests check every answer the API tests receive against them, and the typed client's result
// types are inferred from them.
import { z } from "zod";
import { SCOPES } from "../../domain/keys/scopes.ts";
import { AUDIT_ACTIONS, TARGET_KINDS } from "../../domain/audit/audit-entry.ts";
import { EVENT_TYPES, INGEST_TYPES } from "../../domain/events/event-type.ts";
// The enums alone: platform/db.ts would bring Prisma's client into every function's bundle.
import { ActionKind } from "../../platform/db/generated/enums.ts";
import { WAITING_REASONS } from "../../domain/delivery/waiting.ts";

/** Why a delivery waits for its turn under its webhook's flow control. */
const waitingReason = z.enum(WAITING_REASONS);

/** Every action kind the database knows (webhook, trigger): a new kind reaches the contract by itself. */
const actionKind = z.enum(ActionKind);

const timestamp = z.iso.datetime().meta({ description: "ISO-8601, UTC", example: "2026-11-27T10:00:00.000Z" });
const json = z.unknown().meta({ description: "any JSON value" });
const jsonObject = z.record(z.string(), z.unknown());
const eventStatus = z.enum(["pending", "processing", "completed", "retrying", "failed"]);

export const ErrorShape = z
  .object({
    error: z.object({
      code: z
        .string()
        .regex(/^[a-z_]+$/)
        .meta({ description: "snake_case, stable", example: "invalid_request" }),
      message: z
        .string()
        .meta({ description: "for a person", example: "collection: must match ^[a-z][a-z0-9_]{0,62}$" }),
      details: json
        .optional()
        .meta({ description: "what was wrong, where it helps: each problem's path and message for 400s" }),
    }),
  })
  .meta({ id: "Error" });

export const Definition = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    type: z.enum(EVENT_TYPES),
    collection: z.string(),
    fields: z.array(z.string()).nullable().meta({ description: "watched fields, for field.updated only" }),
    condition: jsonObject.nullable(),
    active: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({
    id: "Definition",
    example: {
      id: "def_01JDZ8",
      name: "big-orders",
      description: null,
      type: "collection.created",
      collection: "orders",
      fields: null,
      condition: { "data.total": { $gt: 100 } },
      active: true,
      createdAt: "2026-11-27T10:00:00.000Z",
      updatedAt: "2026-11-27T10:00:00.000Z",
    },
  });

export const Trigger = z
  .object({
    id: z.string(),
    definitionId: z.string(),
    action: z.enum(["create", "update", "delete"]),
    targetCollection: z.string(),
    filter: jsonObject.nullable(),
    data: jsonObject.nullable(),
    active: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({
    id: "Trigger",
    example: {
      id: "trg_01JDZ9",
      definitionId: "def_01JDZ8",
      action: "create",
      targetCollection: "audit",
      filter: null,
      data: { orderId: "{{event.recordId}}", total: "{{data.total}}" },
      active: true,
      createdAt: "2026-11-27T10:00:00.000Z",
      updatedAt: "2026-11-27T10:00:00.000Z",
    },
  });

const webhookFields = {
  id: z.string(),
  definitionId: z.string(),
  url: z.string(),
  method: z.enum(["POST", "PUT", "PATCH"]),
  headers: z.record(z.string(), z.string()),
  secretHeaders: z.array(z.string()).meta({
    description: "names (lower case) of the headers whose values are secret: sent on every delivery, never shown",
  }),
  payload: json.nullable().meta({ description: "a template of the body; null sends the event" }),
  active: z.boolean(),
  timeoutMs: z.number().int(),
  retry: z.object({
    maxAttempts: z.number().int(),
    backoff: z.enum(["exponential", "fixed"]),
    delayMs: z.number().int(),
    maxDelayMs: z.number().int(),
  }),
  ordering: z
    .enum(["none", "record"])
    .meta({ description: "record: the events about one record are delivered one at a time, in acceptance order" }),
  maxPerSecond: z
    .number()
    .int()
    .nullable()
    .meta({ description: "at most this many requests started in any second, across every worker; null: none" }),
  maxInFlight: z
    .number()
    .int()
    .nullable()
    .meta({ description: "at most this many requests open at once, across every worker; null: none" }),
  health: z.object({
    consecutiveFailures: z.number().int(),
    lastSuccessAt: timestamp.nullable(),
    lastFailureAt: timestamp.nullable(),
    lastError: z.string().nullable(),
    disabledReason: z.string().nullable().meta({ description: "why tetik turned the webhook off, if it did" }),
  }),
  createdAt: timestamp,
  updatedAt: timestamp,
};
const webhookExample = {
  id: "wh_01JDZA",
  definitionId: "def_01JDZ8",
  url: "https://example.com/hook",
  method: "POST",
  headers: { "x-team": "billing" },
  secretHeaders: ["authorization"],
  payload: null,
  active: true,
  timeoutMs: 10000,
  retry: { maxAttempts: 5, backoff: "exponential", delayMs: 1000, maxDelayMs: 3600000 },
  ordering: "record",
  maxPerSecond: 50,
  maxInFlight: null,
  health: { consecutiveFailures: 0, lastSuccessAt: null, lastFailureAt: null, lastError: null, disabledReason: null },
  createdAt: "2026-11-27T10:00:00.000Z",
  updatedAt: "2026-11-27T10:00:00.000Z",
};
export const Webhook = z.object(webhookFields).meta({ id: "Webhook", example: webhookExample });
/** GET /webhooks/{id}: the webhook, and its deliveries' flow right now. */
export const WebhookWithFlow = z
  .object({
    ...webhookFields,
    flow: z.object({
      inFlight: z.number().int().meta({ description: "requests open now, across every worker" }),
      waiting: z.number().int().meta({ description: "deliveries waiting for their turn" }),
      pausedUntil: timestamp.nullable().meta({ description: "set while a Retry-After of the receiver holds" }),
    }),
  })
  .meta({
    id: "WebhookWithFlow",
    example: { ...webhookExample, flow: { inFlight: 3, waiting: 12, pausedUntil: null } },
  });
export const WebhookWithSecret = z
  .object({
    ...webhookFields,
    secret: z.string().meta({ description: "whsec_...: shown only here, in the answers to create and rotate-secret" }),
  })
  .meta({ id: "WebhookWithSecret", example: { ...webhookExample, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } });

export const DefinitionDetail = z
  .object({ ...Definition.shape, triggers: z.array(Trigger), webhooks: z.array(Webhook) })
  .meta({ id: "DefinitionDetail" });

export const Action = z
  .object({
    kind: actionKind,
    id: z.string().meta({ description: "the webhook's or trigger's id" }),
    definitionId: z.string(),
    status: eventStatus,
    attempts: z.number().int(),
    error: z.string().nullable(),
    errorCode: z.string().nullable(),
    durationMs: z.number().int(),
    nextAttemptAt: timestamp.nullable(),
    result: json.nullable().meta({ description: "what a trigger wrote (ids, counts)" }),
    waiting: waitingReason.nullable().meta({
      description: "why a pending delivery waits for its turn (the webhook's flow control); null: it does not",
    }),
  })
  .meta({ id: "Action" });

export const Event = z
  .object({
    id: z.string(),
    type: z.enum(INGEST_TYPES),
    collection: z.string(),
    recordId: z.string(),
    data: jsonObject,
    previous: jsonObject.nullable(),
    changedFields: z.array(z.string()),
    status: eventStatus,
    attempts: z.number().int(),
    error: z.string().nullable(),
    causationId: z
      .string()
      .nullable()
      .meta({ description: "the event whose trigger wrote the record this event is about" }),
    depth: z.number().int(),
    occurredAt: timestamp.nullable(),
    receivedAt: timestamp,
    startedAt: timestamp.nullable(),
    completedAt: timestamp.nullable(),
    durationMs: z.number().int().nullable(),
    actions: z.array(Action),
  })
  .meta({
    id: "Event",
    example: {
      id: "evt_01JDZB",
      type: "collection.updated",
      collection: "orders",
      recordId: "o-1",
      data: { status: "paid", total: 120 },
      previous: { status: "new", total: 120 },
      changedFields: ["status"],
      status: "completed",
      attempts: 1,
      error: null,
      causationId: null,
      depth: 0,
      occurredAt: "2026-11-27T10:00:00.000Z",
      receivedAt: "2026-11-27T10:00:00.012Z",
      startedAt: "2026-11-27T10:00:00.020Z",
      completedAt: "2026-11-27T10:00:00.032Z",
      durationMs: 12,
      actions: [
        {
          kind: "webhook",
          id: "wh_01JDZA",
          definitionId: "def_01JDZ8",
          status: "completed",
          attempts: 1,
          error: null,
          errorCode: null,
          durationMs: 9,
          nextAttemptAt: null,
          result: null,
        },
      ],
    },
  });

export const Delivery = z
  .object({
    id: z.string(),
    eventId: z.string().nullable().meta({ description: "null for a test send" }),
    attempt: z.number().int(),
    ok: z.boolean(),
    status: z.number().int().nullable().meta({ description: "the receiver's HTTP status; null when none came" }),
    durationMs: z.number().int(),
    error: z.string().nullable(),
    errorCode: z.string().nullable(),
    responseBody: z.string().nullable().meta({ description: "the first 4 KiB of the receiver's answer" }),
    test: z.boolean(),
    requestedAt: timestamp,
  })
  .meta({ id: "Delivery" });

export const CollectionRecord = z
  .object({ id: z.string(), collection: z.string(), data: jsonObject, createdAt: timestamp, updatedAt: timestamp })
  .meta({
    id: "Record",
    example: {
      id: "o-1",
      collection: "orders",
      data: { total: 120 },
      createdAt: "2026-11-27T10:00:00.000Z",
      updatedAt: "2026-11-27T10:00:00.000Z",
    },
  });
export const RecordWritten = z
  .object({
    ...CollectionRecord.shape,
    eventId: z
      .string()
      .nullable()
      .meta({ description: "the collection.* event the write emitted; null when a patch changed nothing" }),
  })
  .meta({ id: "RecordWritten" });

export const TestResult = z
  .object({
    ok: z.boolean(),
    status: z.number().int().nullable(),
    durationMs: z.number().int(),
    responseBody: z.string().meta({ description: "the first 4 KiB of the receiver's answer" }),
    error: z.string().nullable(),
  })
  .meta({ id: "TestResult", example: { ok: true, status: 200, durationMs: 31, responseBody: "ok", error: null } });

export const Health = z
  .object({
    status: z.enum(["ok", "degraded"]).meta({ description: "degraded: the sweep has not run for three intervals" }),
    database: z.enum(["up", "down"]),
    redis: z.enum(["up", "down", "unused"]).meta({
      description: "unused: the queue is in Postgres (QUEUE_BACKEND=postgres), and its state is the database's",
    }),
    sweep: z.object({ lastRunAt: timestamp.nullable(), status: z.enum(["ok", "late", "never", "unknown"]) }),
  })
  .meta({ id: "Health" });

export const Accepted = z
  .object({
    id: z.string(),
    status: z.literal("pending").meta({
      description:
        "accepted; for a repeated Idempotency-Key, the first event's id " + "(GET /events/{id} has its progress)",
    }),
  })
  .meta({ id: "Accepted", example: { id: "evt_01JDZB", status: "pending" } });
export const BatchAccepted = z.object({ ids: z.array(z.string()) }).meta({ id: "BatchAccepted" });
export const ReplayQueued = z
  .object({ queued: z.number().int().meta({ description: "actions queued again" }), events: z.number().int() })
  .meta({ id: "ReplayQueued" });
export const EventReplayQueued = z
  .object({ id: z.string(), queued: z.number().int() })
  .meta({ id: "EventReplayQueued" });

/** A page of a list: `nextCursor` continues it (`?cursor=`), null on the last page. */
export const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() }).meta({ id });

// Explanations (GET /events/{id}/explain) and dry runs (POST /definitions/{id}/dry-run, POST /dry-run).
const verdict = z
  .union([z.boolean(), z.literal("undecided")])
  .meta({ description: "undecided: the condition ran out of its evaluation budget" });
const Clause = z
  .object({
    text: z.string().meta({ example: "data.total $gt 100: 120 -> true" }),
    path: z.string().optional(),
    operator: z
      .string()
      .meta({ description: "$eq for a plain value; $and/$or/$nor with their parts; $part for one part" }),
    expected: json,
    seen: json.optional().meta({
      description:
        "the value at the path; absent when the path is missing; " +
        '{"truncated": true, "moreThanJsonChars": 4096} for a larger value; {"notRead": true} past the budget',
    }),
    verdict,
    clauses: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .meta({ description: "the parts of $and/$or/$nor/$not, each a clause like this one" }),
  })
  .meta({ id: "Clause" });
const Check = z.object({ passed: z.boolean(), text: z.string() });
const MatchExplanation = z
  .object({
    matched: verdict,
    active: Check,
    collection: Check,
    type: Check,
    condition: z.object({ verdict, clauses: z.array(Clause) }),
  })
  .meta({ id: "MatchExplanation" });
const Depth = z.object({ depth: z.number().int(), max: z.number().int(), triggersStop: z.boolean(), note: z.string() });
const Omitted = z
  .object({ definitions: z.number().int(), note: z.string().nullable() })
  .meta({ description: "definitions judged but not explained clause by clause (at most 50 are)" });

export const EventExplanation = z
  .object({
    event: z.object({
      id: z.string(),
      type: z.enum(EVENT_TYPES),
      collection: z.string(),
      recordId: z.string(),
      status: eventStatus,
      depth: z.number().int(),
      changedFields: z.array(z.string()),
      matchedAt: timestamp.nullable(),
    }),
    configuration: z.object({ explainedAgainst: z.literal("current"), note: z.string() }),
    depth: Depth,
    omitted: Omitted,
    definitions: z.array(
      z.object({
        definition: z.object({
          id: z.string(),
          name: z.string().nullable(),
          type: z.enum(EVENT_TYPES).nullable(),
          active: z.boolean().nullable(),
          updatedAt: timestamp.nullable(),
        }),
        deleted: z
          .boolean()
          .meta({ description: "the definition was deleted after it produced actions for this event" }),
        matched: verdict.nullable(),
        // A union, not .nullable(): the generator writes a nullable $ref as an allOf that null cannot pass.
        why: z.union([MatchExplanation, z.null()]),
        changedSinceMatched: z.boolean(),
        produced: z.array(
          z.object({
            kind: actionKind,
            id: z.string(),
            status: eventStatus,
            attempts: z.number().int(),
            errorCode: z.string().nullable(),
            error: z.string().nullable(),
            waiting: waitingReason.nullable().meta({ description: "why it waits for its turn, if it does" }),
          }),
        ),
      }),
    ),
  })
  .meta({ id: "EventExplanation" });

export const DryRun = z
  .object({
    event: z.object({
      type: z.enum(EVENT_TYPES),
      collection: z.string(),
      recordId: z.string(),
      data: jsonObject,
      previous: jsonObject.nullable(),
      changedFields: z.array(z.string()),
    }),
    depth: Depth,
    omitted: Omitted,
    definitions: z.array(
      z.object({
        definition: z.object({
          id: z.string(),
          name: z.string(),
          type: z.enum(EVENT_TYPES),
          active: z.boolean(),
          saved: z.boolean(),
        }),
        matched: verdict,
        why: MatchExplanation,
        webhooks: z.array(
          z.object({
            webhookId: z.string(),
            request: z
              .object({
                url: z.string(),
                method: z.string(),
                headers: z
                  .record(z.string(), z.string())
                  .meta({ description: 'as sent, but a secret header\'s value is shown as "[secret]"' }),
                body: z.string(),
                truncated: z.boolean().optional().meta({ description: "the body is cut at 64 KiB here" }),
              })
              .optional(),
            error: z.object({ code: z.string(), message: z.string() }).optional(),
          }),
        ),
        triggers: z.array(
          z.object({
            triggerId: z.string(),
            action: z.enum(["create", "update", "delete"]),
            targetCollection: z.string(),
            records: z.array(z.object({ id: z.string(), data: jsonObject.nullable() })),
            count: z.number().int(),
            error: z.object({ code: z.string(), message: z.string() }).optional(),
            stopped: z.string().optional(),
          }),
        ),
      }),
    ),
    note: z.string(),
  })
  .meta({ id: "DryRun" });

const keyFields = {
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  collections: z.array(z.string()).meta({ description: "for ingest: the only collections it may write to" }),
  prefix: z.string().meta({ description: "the key's first characters after tk_, to tell keys apart" }),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable().meta({ description: "updated at most once a minute" }),
};
const keyExample = {
  id: "key_01JDZC",
  name: "orders-service",
  scopes: ["ingest"],
  collections: ["orders"],
  prefix: "Zx8d1Q",
  createdAt: "2026-11-27T10:00:00.000Z",
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
};

export const ApiKey = z.object(keyFields).meta({ id: "ApiKey", example: keyExample });
export const ApiKeyCreated = z
  .object({ ...keyFields, key: z.string().meta({ description: "the key: shown in this answer only, never again" }) })
  .meta({ id: "ApiKeyCreated", example: { ...keyExample, key: "tk_Zx8d1Q..." } });

export const AuditEntry = z
  .object({
    id: z.string(),
    at: timestamp,
    keyId: z.string().nullable().meta({ description: "the key that made the change; null for API_KEY (or none set)" }),
    keyName: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    target: z.object({
      kind: z.enum(TARGET_KINDS).meta({ description: "events: a replay of the events a filter selected" }),
      id: z.string(),
    }),
    before: json.meta({ description: "the target's public view before the change (null for a create); no secrets" }),
    after: json.meta({ description: "after it (null for a delete); for a replay, what was queued" }),
    requestId: z.string().nullable(),
  })
  .meta({
    id: "AuditEntry",
    example: {
      id: "aud_01JDZD",
      at: "2026-11-27T10:00:00.000Z",
      keyId: "key_01JDZC",
      keyName: "deploy-bot",
      action: "webhook.disable",
      target: { kind: "webhook", id: "whk_01JDZ9" },
      before: { id: "whk_01JDZ9", active: true },
      after: { id: "whk_01JDZ9", active: false },
      requestId: "6f1c0b0e-3c55-4f0b-9d3c-2f4a8c1e7d21",
    },
  });
