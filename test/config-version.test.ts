// The worker caches definitions, triggers and webhooks, keyed by config_version, which rules in the
// database move when those tables change (prisma/migrations/20261127030000_config_version). A column the
// rules forget would leave running workers on stale settings without a sign. This test changes every
// column of the three tables through the API and checks, after each change, that the running worker's
// cache, asked for the version the database now holds (as a claim asks for it), holds the row as stored.
// Columns come from the schema: a new column fails here until a step below changes it or it is listed
// as one the worker does not read from its cache.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MatchConfig } from "../functions/domain/delivery/kinds/runtime.ts";
import { definitionFromRow } from "../functions/domain/events/event-type.ts";
import { withOpenSecrets } from "../functions/domain/webhooks/secret.ts";
import { Prisma, type EventDefinition, type EventTrigger, type Webhook } from "../functions/platform/db.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook } from "./helpers/fixtures.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/**
 * Columns the worker's cache may hold stale: written by deliveries, never read from the cache. The same
 * list the rule leaves out (prisma/migrations/20261202000000_config_version_new_columns).
 */
const NOT_CACHED: Record<string, Record<string, string>> = {
  webhooks: {
    consecutiveFailures: "health, written by every failed delivery",
    lastSuccessAt: "health",
    lastFailureAt: "health",
    lastError: "health",
    disabledReason: "shown to people; a later attempt reads it from the database, not the cache",
  },
};
/** Columns no route changes after creation. */
const FIXED = ["id", "createdAt"];

type Table = "event_definitions" | "event_triggers" | "webhooks";

async function stored<T>(table: Table, id: string): Promise<T> {
  const { rows } = await stack.deps.pool.query(`SELECT * FROM ${table} WHERE id = $1`, [id]);
  return rows[0] as T;
}

async function workerConfig(): Promise<MatchConfig> {
  const { rows } = await stack.deps.pool.query<{ version: string }>(`SELECT version FROM config_version WHERE id = 1`);
  return stack.runtime!.config.get(BigInt(rows[0]!.version));
}

/** What the worker's cache should hold for each row: the row as the cache reads it, secrets opened. */
const asCached = {
  event_definitions: (row: EventDefinition) => definitionFromRow(row),
  event_triggers: (row: EventTrigger) => row,
  webhooks: (row: Webhook) => withOpenSecrets(row, stack.deps.secrets),
};

function cachedRow(config: MatchConfig, table: Table, id: string, collection: string): object | undefined {
  if (table === "webhooks") return config.webhook(id);
  if (table === "event_triggers") return config.trigger(id);
  return config.definitionsFor(collection).find((d) => d.id === id);
}

function pick(row: object, columns: string[]) {
  return Object.fromEntries(columns.map((c) => [c, (row as Record<string, unknown>)[c]]));
}

describe("config versioning", () => {
  it("lets a running worker see every change to definitions, triggers and webhooks", async () => {
    const definition = await createDefinition(stack, { name: "versioned", collection: "versioned" });
    const other = await createDefinition(stack, { name: "versioned-other", collection: "versioned" });
    const webhook = await createWebhook(stack, { definitionId: definition.id, url: "http://127.0.0.1:9/a" });
    const trigger = expectStatus(
      await stack.api("POST", `/definitions/${definition.id}/triggers`, {
        action: "create",
        targetCollection: "copies",
        data: { n: 1 },
      }),
      201,
    );

    const steps: Array<{ table: Table; id: string; change: () => Promise<{ status: number; body: unknown }> }> = [];
    const patch = (path: string, body: object) => () => stack.api("PATCH", path, body);
    const definitionPath = `/definitions/${definition.id}`;
    const webhookPath = `/webhooks/${webhook.id}`;
    const triggerPath = `/triggers/${trigger.id}`;
    for (const body of [
      { name: "versioned-renamed" },
      { description: "now described" },
      { collection: "versioned_moved" },
      { type: "field.updated", fields: ["status"] },
      { fields: ["status", "total"] },
      { condition: { "data.total": { $gt: 10 } } },
      { active: false },
      { active: true },
    ]) {
      steps.push({ table: "event_definitions", id: definition.id, change: patch(definitionPath, body) });
    }
    for (const body of [
      { action: "update", filter: { id: "{{data.id}}" }, data: { n: 2 } },
      { targetCollection: "copies_elsewhere" },
      { filter: { id: "{{event.recordId}}" } },
      { data: { n: 3 } },
      { active: false },
      { active: true },
    ]) {
      steps.push({ table: "event_triggers", id: trigger.id, change: patch(triggerPath, body) });
    }
    for (const body of [
      { url: "http://127.0.0.1:9/b" },
      { method: "PUT" },
      { headers: { "x-team": "billing" } },
      { secretHeaders: { authorization: "Bearer a-token" } },
      { payload: { id: "{{event.id}}" } },
      { timeoutMs: 2500 },
      { retry: { maxAttempts: 7 } },
      { retry: { backoff: "fixed" } },
      { retry: { delayMs: 250 } },
      { retry: { maxDelayMs: 60_000 } },
      { maxPerSecond: 20 },
      { maxInFlight: 3 },
      { ordering: "record" },
      { definitionId: other.id },
      { active: false },
      { active: true },
    ]) {
      steps.push({ table: "webhooks", id: webhook.id, change: patch(webhookPath, body) });
    }
    steps.push({ table: "webhooks", id: webhook.id, change: () => stack.api("POST", `${webhookPath}/rotate-secret`) });

    const changed: Record<Table, Set<string>> = {
      event_definitions: new Set(),
      event_triggers: new Set(),
      webhooks: new Set(),
    };
    // Read once before the first change: every column the worker reads must already agree.
    await workerConfig();
    for (const [index, step] of steps.entries()) {
      const before = await stored<Record<string, unknown>>(step.table, step.id);
      const answer = await step.change();
      expect(answer.status, `step ${index} (${step.table}): ${JSON.stringify(answer.body)}`).toBe(200);
      const after = await stored<Record<string, unknown>>(step.table, step.id);
      const moved = Object.keys(after).filter((c) => JSON.stringify(after[c]) !== JSON.stringify(before[c]));
      // Each step changes what it says it changes (besides updatedAt): a step that changed nothing proves nothing.
      expect(
        moved.filter((c) => c !== "updatedAt").length,
        `step ${index} changed ${moved.join(", ")}`,
      ).toBeGreaterThan(0);
      for (const c of moved) changed[step.table].add(c);

      const config = await workerConfig();
      const cached = cachedRow(config, step.table, step.id, String(after.collection ?? ""));
      if (after.active === false) {
        expect(cached, `step ${index}: the worker still holds an inactive ${step.table} row`).toBeUndefined();
        continue;
      }
      expect(cached, `step ${index}: the worker does not hold the ${step.table} row`).toBeDefined();
      const columns = Object.keys(after).filter((c) => !(c in (NOT_CACHED[step.table] ?? {})));
      const expected = asCached[step.table](after as never) as object;
      expect(pick(cached!, columns), `step ${index}: the worker's cache after changing ${moved.join(", ")}`).toEqual(
        pick(expected, columns),
      );
    }

    const schemaColumns: Record<Table, string[]> = {
      event_definitions: Object.values(Prisma.EventDefinitionScalarFieldEnum),
      event_triggers: Object.values(Prisma.EventTriggerScalarFieldEnum),
      webhooks: Object.values(Prisma.WebhookScalarFieldEnum),
    };
    for (const table of Object.keys(schemaColumns) as Table[]) {
      const untested = schemaColumns[table].filter(
        (c) => !changed[table].has(c) && !FIXED.includes(c) && !(c in (NOT_CACHED[table] ?? {})),
      );
      // definitionId of a trigger: no route moves a trigger to another definition.
      const expectedUntested = table === "event_triggers" ? ["definitionId"] : [];
      expect(untested, `columns of ${table} no step changed`).toEqual(expectedUntested);
    }
  });

  it("moves for a webhook column added after the rule was written, and not for health writes", async () => {
    const definition = await createDefinition(stack, { name: "versioned-later", collection: "versioned_later" });
    const webhook = await createWebhook(stack, { definitionId: definition.id, url: "http://127.0.0.1:9/later" });
    const version = async () =>
      BigInt((await stack.deps.pool.query<{ version: string }>(`SELECT version FROM config_version`)).rows[0]!.version);
    const start = await version();
    // As delivery writes health: many times a second under failures, so no worker reloads for it.
    await stack.deps.pool.query(
      `UPDATE webhooks SET "consecutiveFailures" = "consecutiveFailures" + 1, "lastFailureAt" = now(),
         "lastError" = 'down', "disabledReason" = 'seen' WHERE id = $1`,
      [webhook.id],
    );
    expect(await version()).toBe(start);
    // A setting someone adds next year, without touching the rule: the rule sees it all the same.
    await stack.owner.query(`ALTER TABLE webhooks ADD COLUMN "laterSetting" int`);
    try {
      await stack.deps.pool.query(`UPDATE webhooks SET "laterSetting" = 5 WHERE id = $1`, [webhook.id]);
      expect(await version()).toBe(start + 1n);
    } finally {
      await stack.owner.query(`ALTER TABLE webhooks DROP COLUMN "laterSetting"`);
    }
  });
});
