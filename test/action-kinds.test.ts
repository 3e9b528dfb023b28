// The registry of action kinds is the one place a kind lives: a third kind, added here and nowhere else
// in tetik (its enum value in this file's own database, its entry below), is planned, matched, run,
// settled, replayed and folded into its event's status by the same core as webhooks and triggers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTION_KINDS } from "../functions/domain/delivery/kinds/registry.ts";
import type { ActionKindEntry, ActionKinds, WorkerDeps } from "../functions/domain/delivery/kinds/runtime.ts";
import { matchEvent } from "../functions/domain/delivery/match-event.ts";
import { runAction } from "../functions/domain/delivery/run-action.ts";
import type { MatchableEvent } from "../functions/domain/matching/match-definitions.ts";
import { createDeliveryRuntime, withRuntime } from "../functions/worker/delivery-runtime.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, postEvent } from "./helpers/fixtures.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

/** `log`: records the event's data as the action's result, sends nothing. One per definition. */
const logKind: ActionKindEntry = {
  targets: (definition) => [{ id: definition.id }],
  start: { status: "pending", attempts: 0 },
  runFirst: (deps, action, event) => writeLog(deps, action, event),
  runAgain: (deps, action) => writeLog(deps, action, action.event),
};

async function writeLog(deps: WorkerDeps, action: { id: string; eventId: string }, event: MatchableEvent) {
  await deps.runtime.actionLog.settleRuns(
    [{ actionId: action.id, eventId: action.eventId }],
    async (_q, open) => ({
      results: new Map(open.map((run) => [run.actionId, { ok: true as const, result: { logged: event.data } }])),
      extra: null,
    }),
    null,
  );
  return { retryAt: null };
}

let stack: TestStack;
let deps: WorkerDeps;
beforeAll(async () => {
  stack = await startStack({ worker: false });
  // This file's database only: the schema change a real kind would make in a migration.
  await stack.owner.query(`ALTER TYPE "ActionKind" ADD VALUE 'log'`);
  const kinds = { ...ACTION_KINDS, log: logKind } as unknown as ActionKinds;
  deps = withRuntime(stack.deps, { ...createDeliveryRuntime(stack.deps), kinds });
});
afterAll(async () => {
  await stack?.stop();
});

// Read with SQL: Prisma's client knows the schema's kinds only.
async function eventStatus(id: string) {
  return (await stack.deps.pool.query(`SELECT status FROM event_log WHERE id = $1`, [id])).rows[0]?.status;
}
async function actionsOf(eventId: string) {
  const { rows } = await stack.deps.pool.query(
    `SELECT id, kind, "targetId", "definitionId", status, attempts, "unfinishedRuns", result
     FROM event_actions WHERE "eventId" = $1`,
    [eventId],
  );
  return rows as Array<Record<string, unknown>>;
}

describe("a kind added through the registry alone", () => {
  it("is planned, run, settled with its result, replayed, and decides its event's status", async () => {
    const definition = await createDefinition(stack, { name: "audited", collection: "audited" });
    const id = await postEvent(stack, { collection: "audited", data: { total: 7 } });
    await matchEvent(deps, id);

    expect(await eventStatus(id)).toBe("completed");
    const actions = await actionsOf(id);
    expect(actions).toHaveLength(1);
    const [action] = actions as Array<{ id: string }>;
    expect(action).toMatchObject({
      kind: "log",
      targetId: definition.id,
      definitionId: definition.id,
      status: "completed",
      attempts: 1,
      unfinishedRuns: 0,
      result: { logged: { total: 7 } },
    });

    // A replay of every action runs it again through the kind's runAgain.
    const replayed = expectStatus(await stack.api("POST", `/events/${id}/replay?all=true`), 202);
    expect(replayed).toMatchObject({ id, queued: 1 });
    expect(await eventStatus(id)).toBe("processing");
    await runAction(deps, action!.id);
    const [again] = await actionsOf(id);
    expect(again).toMatchObject({ status: "completed", attempts: 1, result: { logged: { total: 7 } } });
    expect(await eventStatus(id)).toBe("completed");
  });
});
