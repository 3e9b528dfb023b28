// The pure planners of delivery: which definitions fire, which actions follow (from the kinds registry),
// what a webhook request looks like, what a trigger writes, and what a batch of results does to webhooks'
// health. No database: values in, values out.
import { LIMITS } from "../../functions/domain/limits.ts";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { actionId, planActions } from "../../functions/domain/delivery/plan-actions.ts";
import { ACTION_KINDS } from "../../functions/domain/delivery/kinds/registry.ts";
import { eventContext } from "../../functions/domain/events/event-context.ts";
import {
  firedDefinitions,
  matchesDefinition,
  type DefinitionWithTargets,
  type MatchableEvent,
} from "../../functions/domain/matching/match-definitions.ts";
import { planTrigger } from "../../functions/domain/triggers/plan-trigger.ts";
import { buildDelivery, UnsendableDelivery } from "../../functions/domain/webhooks/build-delivery.ts";
import { healthChanges } from "../../functions/domain/webhooks/health.ts";
import { generateSecret } from "../../functions/domain/webhooks/secret.ts";
import { ActionKind } from "../../functions/platform/db.ts";

const event: MatchableEvent = {
  id: "evt_1",
  type: "collection_updated",
  collection: "orders",
  recordId: "o-1",
  occurredAt: new Date("2026-12-03T10:00:00.000Z"),
  depth: 0,
  data: { status: "paid", total: 120 },
  previous: { status: "new", total: 120 },
  changedFields: ["status"],
};

function definition(overrides: Partial<DefinitionWithTargets> = {}): DefinitionWithTargets {
  return {
    id: "def_1",
    name: "paid orders",
    description: null,
    type: "collection_updated",
    collection: "orders",
    fields: [],
    condition: null,
    active: true,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    webhooks: [],
    triggers: [],
    ...overrides,
  };
}

describe("matchesDefinition", () => {
  it("fires on its type and collection, a field.updated on a watched field, and a true condition", () => {
    expect(matchesDefinition(event, definition())).toBe(true);
    expect(matchesDefinition(event, definition({ collection: "invoices" }))).toBe(false);
    expect(matchesDefinition(event, definition({ type: "collection_created" }))).toBe(false);
    expect(matchesDefinition(event, definition({ active: false }))).toBe(false);
    expect(matchesDefinition(event, definition({ type: "field_updated", fields: ["status"] }))).toBe(true);
    expect(matchesDefinition(event, definition({ type: "field_updated", fields: ["total"] }))).toBe(false);
    expect(matchesDefinition(event, definition({ condition: { "data.total": { $gt: 100 } } }))).toBe(true);
    expect(matchesDefinition(event, definition({ condition: { "data.total": { $gt: 200 } } }))).toBe(false);
  });
});

describe("planActions", () => {
  it("plans one action per target of each fired definition, triggers first, with ids from event and target", () => {
    const fired = definition({
      webhooks: [
        { id: "whk_a", ordering: "none" },
        { id: "whk_b", ordering: "record" },
      ],
      triggers: [{ id: "trg_a" }],
    });
    const other = definition({ id: "def_2", collection: "invoices", webhooks: [{ id: "whk_c", ordering: "none" }] });
    const planned = planActions(event, [fired, other]);
    expect(planned.map((a) => [a.kind, a.targetId, a.definitionId, a.start.status])).toEqual([
      ["trigger", "trg_a", "def_1", "pending"],
      ["webhook", "whk_a", "def_1", "processing"],
      ["webhook", "whk_b", "def_1", "processing"],
    ]);
    expect(planned[1]!.id).toBe(actionId("evt_1", "webhook", "whk_a"));
    expect(planActions(event, [fired])[1]!.id).toBe(planned[1]!.id); // the same however often it is planned
    expect(new Set(planned.map((a) => a.id)).size).toBe(3);
    expect(planned.every((a) => a.failure === undefined)).toBe(true);
    // A webhook that orders per record marks its actions so; the others go as they come.
    expect(planned.map((a) => a.ordered === true)).toEqual([false, false, true]);
  });

  it("plans the actions of a definition whose condition ran out of budget as failed, with the reason", () => {
    // A thousand values looked for among half a million: far past the condition budget.
    const long = { ...event, data: { ...(event.data as object), items: Array.from({ length: 500_000 }, (_, i) => i) } };
    const costly = definition({
      webhooks: [{ id: "whk_a", ordering: "none" }],
      condition: { "data.items": { $in: Array.from({ length: 1000 }, (_, i) => -i - 1) } },
    });
    const [fired] = firedDefinitions(long, [costly]);
    if (!fired?.failure) return expect.fail("the condition should have run out of its budget");
    expect(fired.failure.errorCode).toBe("condition_too_costly");
    const [action] = planActions(long, [costly]);
    expect(action).toMatchObject({ kind: "webhook", failure: { errorCode: "condition_too_costly" } });
    expect(action!.failure!.error).toMatch(/^the condition of definition "paid orders" was not decided/);
  });

  it("draws every definition's condition from one budget per event, so more definitions cannot cost more", () => {
    // Each condition visits 50,000 values: within its own budget, but thirty of them are far past the event's.
    const wide = { ...event, data: { items: Array.from({ length: 50_000 }, (_, i) => i) } };
    const costly = Array.from({ length: 30 }, (_, i) =>
      definition({
        id: `def_${i}`,
        webhooks: [{ id: `whk_${i}`, ordering: "none" }],
        condition: { "data.items": { $gt: 1e9 } },
      }),
    );
    const always = definition({ id: "def_always", webhooks: [{ id: "whk_z", ordering: "none" }], condition: null });
    const fired = firedDefinitions(wide, [...costly, always]);
    const undecided = fired.filter((f) => f.failure);
    const perCondition = LIMITS.eventConditionSteps / 50_000;
    // The first ones were decided (not fired: none matched); the rest were not, with the event's reason.
    expect(undecided.length).toBeGreaterThanOrEqual(30 - perCondition);
    expect(undecided.length).toBeLessThan(30);
    expect(undecided[0]!.failure!.error).toMatch(
      /conditions of this event's definitions together took more than 1000000/,
    );
    expect(undecided.map((f) => f.definition.id)).toEqual(costly.slice(30 - undecided.length).map((d) => d.id));
    // A definition without a condition costs nothing and still fires.
    expect(fired.at(-1)).toEqual({ definition: always });
  });

  it("knows every action kind of the database, each with its start", () => {
    expect(Object.keys(ACTION_KINDS).sort()).toEqual(Object.values(ActionKind).sort());
    for (const entry of Object.values(ACTION_KINDS)) expect(["processing", "pending"]).toContain(entry.start.status);
  });
});

describe("buildDelivery", () => {
  const secret = generateSecret();
  const webhook = {
    url: "https://example.test/hook",
    method: "POST",
    headers: { "X-Order": "{{ data.status }}" },
    payload: { order: "{{ event.recordId }}", total: "{{ data.total }}" },
    secret,
    previousSecret: null,
    previousSecretExpiresAt: null,
  };
  const context = eventContext(event, { id: "def_1", name: "paid orders" });
  // Standard Webhooks refuse a timestamp more than 5 minutes from the verifier's clock.
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);

  it("renders the payload and headers, and signs the body as Standard Webhooks verify it", () => {
    const request = buildDelivery(webhook, context, "act_1", now);
    expect(JSON.parse(request.body)).toEqual({ order: "o-1", total: 120 });
    expect(request.headers).toMatchObject({
      "x-order": "paid",
      "webhook-id": "act_1",
      "content-type": "application/json",
    });
    expect(request.headers["webhook-timestamp"]).toBe(String(now.getTime() / 1000));
    const verified = new StandardWebhook(secret).verify(request.body, request.headers);
    expect(verified).toEqual({ order: "o-1", total: 120 });
  });

  it("refuses a header that renders to what HTTP cannot carry, and a secret that cannot be read", () => {
    const broken = { ...webhook, headers: { "X-Bad": "{{ data.note }}" } };
    const withBreak = eventContext({ ...event, data: { note: "a\nb" } }, { id: "def_1", name: "paid orders" });
    expect(() => buildDelivery(broken, withBreak, "act_1", now)).toThrow(UnsendableDelivery);
    expect(() => buildDelivery({ ...webhook, secretError: "no key" }, context, "act_1", now)).toThrow(/no key/);
  });
});

describe("planTrigger", () => {
  const context = eventContext(event, { id: "def_1", name: "paid orders" });
  it("renders the data and compiles the filter of an update", () => {
    const plan = planTrigger(
      {
        action: "update",
        targetCollection: "customers",
        filter: { orderId: "{{ event.recordId }}" },
        data: { lastStatus: "{{ data.status }}" },
      },
      context,
    );
    expect(plan).toMatchObject({ action: "update", collection: "customers", data: { lastStatus: "paid" } });
    expect(JSON.stringify(plan.where?.values)).toContain('\\"o-1\\"');
  });

  it("refuses data or a filter that does not render to an object", () => {
    const trigger = { action: "create" as const, targetCollection: "c", filter: null, data: "{{ data.total }}" };
    expect(() => planTrigger(trigger, context)).toThrow(/data rendered to 120, not an object/);
  });
});

describe("webhook health", () => {
  const now = new Date("2026-12-03T10:00:00.000Z");
  it("counts failures, turns a webhook off on 410 Gone, and writes a success at most once a second", () => {
    const written = new Map<string, number>();
    const changes = healthChanges(
      [
        { webhookId: "whk_a", ok: true, status: 200, error: null },
        { webhookId: "whk_b", ok: false, status: 503, error: "the receiver answered 503" },
        { webhookId: "whk_b", ok: false, status: 410, error: "the receiver answered 410" },
      ],
      written,
      now,
    );
    expect(changes.succeeded).toEqual(["whk_a"]);
    expect(changes.failed).toEqual([
      {
        webhookId: "whk_b",
        failures: 2,
        error: "the receiver answered 410",
        disable: "the receiver answered 410 Gone",
      },
    ]);
    const soon = new Date(now.getTime() + 500);
    expect(
      healthChanges([{ webhookId: "whk_a", ok: true, status: 200, error: null }], written, soon).succeeded,
    ).toEqual([]);
    // A failure in between: the next success must clear the count, however soon.
    healthChanges([{ webhookId: "whk_a", ok: false, status: 500, error: "x" }], written, soon);
    expect(
      healthChanges([{ webhookId: "whk_a", ok: true, status: 200, error: null }], written, soon).succeeded,
    ).toEqual(["whk_a"]);
  });
});
