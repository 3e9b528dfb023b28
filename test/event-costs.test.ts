// What one event may cost, however many definitions watch its collection (issue 26, H2), and what one
// explanation or dry run may cost (H3): each is one budget, charged for all of its work, and the API
// answers others while they run. Found: 300 costly definitions made unrelated events wait 40 s and heavy
// events run twice; explaining 5 definitions of a large event took 13.5 s with the API unresponsive.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../functions/domain/limits.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let stack: TestStack;
let receiver: Receiver;
let url: string;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack(), startReceiver()]);
  url = await stack.serve();
});
afterAll(async () => {
  await Promise.all([stack?.stop(), receiver?.close()]);
});

/**
 * Runs `work` while asking GET /health every 50 ms over HTTP; answers the slowest answer's time. The API,
 * the worker and this test share one process: a blocked event loop shows here.
 */
async function slowestHealthWhile<T>(
  work: () => Promise<T>,
): Promise<{ result: T; slowestMs: number; probes: number }> {
  let running = true;
  let slowestMs = 0;
  let probes = 0;
  const probing = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      slowestMs = Math.max(slowestMs, performance.now() - started);
      probes++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    const result = await work();
    return { result, slowestMs, probes };
  } finally {
    running = false;
    await probing;
  }
}

// Each condition visits every item: 60,000 steps, within one condition's budget (100,000), but sixty of them
// are 3.6 million, far past one event's (1,000,000).
const ITEMS = 60_000;
const DEFINITIONS = 60;
const items = Array.from({ length: ITEMS }, (_, i) => i);
const decidable = Math.floor(LIMITS.eventConditionSteps / ITEMS);

describe("many costly definitions on one collection", () => {
  const heavyIds: string[] = [];

  beforeAll(async () => {
    expect(ITEMS).toBeLessThan(LIMITS.conditionSteps);
    for (let i = 0; i < DEFINITIONS; i++) {
      const definition = await createDefinition(stack, {
        name: `costly ${String(i).padStart(2, "0")}`,
        collection: "heavy",
        condition: { "data.items": { $gt: 1e12 } },
      });
      await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/heavy` });
    }
    const light = await createDefinition(stack, { name: "light", collection: "light" });
    await createWebhook(stack, { definitionId: light.id, url: `${receiver.url}/light` });
  });

  it("decide what one event's budget allows, fail the rest with the reason, once, and hold up nobody", async () => {
    const { result, slowestMs, probes } = await slowestHealthWhile(async () => {
      for (let i = 0; i < 4; i++)
        heavyIds.push(await postEvent(stack, { collection: "heavy", recordId: `h-${i}`, data: { items } }));
      const lightId = await postEvent(stack, { collection: "light", recordId: "l-1", data: { ok: true } });
      return {
        heavy: await Promise.all(heavyIds.map((id) => waitForEvent(stack, id, ["completed", "failed"], 60_000))),
        light: await waitForEvent(stack, lightId, ["completed", "failed"], 60_000),
      };
    });
    expect(result.light.status).toBe("completed");
    expect(receiver.at("/light")).toHaveLength(1);
    for (const event of result.heavy) {
      // Matched once: no run lost its lock and ran it again.
      expect(event.attempts).toBe(1);
      expect(event.status).toBe("failed");
      // The first definitions were decided (none matched, so no action); the rest failed, saying why.
      expect(event.actions.length).toBeGreaterThanOrEqual(DEFINITIONS - decidable - 1);
      expect(event.actions.length).toBeLessThan(DEFINITIONS);
      for (const action of event.actions) {
        expect(action).toMatchObject({ status: "failed", errorCode: "condition_too_costly", attempts: 0 });
        expect(action.error).toContain("together took more than 1000000 steps");
      }
    }
    expect(receiver.at("/heavy")).toHaveLength(0);
    expect(probes).toBeGreaterThan(0);
    expect(slowestMs).toBeLessThan(1000);
  });

  it("explains at most 50 definitions, agreeing with the worker, quoting large values in part", async () => {
    expect(heavyIds.length).toBeGreaterThan(0);
    const [id] = heavyIds;
    const { result, slowestMs } = await slowestHealthWhile(async () =>
      expectStatus(await stack.api("GET", `/events/${id}/explain`), 200),
    );
    expect(result.definitions).toHaveLength(LIMITS.explainedDefinitions);
    expect(result.omitted.definitions).toBe(DEFINITIONS - LIMITS.explainedDefinitions);
    expect(result.omitted.note).toContain("at most 50");
    // Those that produced actions come first; each verdict is the worker's.
    const event = await stack.client.events.get(id!);
    const failed = new Set(event.actions.map((a) => a.definitionId));
    const explained = new Set(result.definitions.map((d) => d.definition.id));
    for (const definitionId of failed) expect(explained.has(definitionId)).toBe(true);
    for (const d of result.definitions) expect(d.matched === "undecided").toBe(failed.has(d.definition.id));
    // The whole array is not copied into the answer: a description in `seen`, 200 characters in `text`.
    const clause = result.definitions[0]!.why!.condition.clauses[0]!;
    expect(clause.seen).toEqual({ truncated: true, moreThanJsonChars: 4096 });
    expect(clause.text).toMatch(/^data\.items \$gt 1000000000000: \[0,1,2,.*… -> /);
    expect(clause.text.length).toBeLessThan(300);
    expect(slowestMs).toBeLessThan(1000);
  });
});

describe("a dry run of many amplifying webhooks", () => {
  it("renders up to its budget, says which it did not render, and holds up nobody", async () => {
    const data = { blob: "x".repeat(300_000) };
    const webhooks = Array.from({ length: 100 }, (_, i) => ({
      url: `${receiver.url}/dry-${i}`,
      payload: { a: "{{data}}", b: "{{data}}", c: "{{data}}", d: "{{data}}" },
    }));
    const { result, slowestMs } = await slowestHealthWhile(async () =>
      expectStatus(
        await stack.api("POST", "/dry-run", {
          event: { type: "collection.created", collection: "dry", recordId: "d-1", data },
          definition: { name: "amplifying", type: "collection.created", collection: "dry" },
          webhooks,
        }),
        200,
      ),
    );
    const sent = result.definitions[0]!.webhooks;
    expect(sent).toHaveLength(100);
    const rendered = sent.filter((w) => w.request);
    // 1.2 MB each: the budget holds about seven of them.
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.length).toBeLessThanOrEqual(Math.ceil(LIMITS.dryRunRenderedBytes / 1_200_000));
    expect(rendered[0]!.request!.truncated).toBe(true);
    const skipped = sent.filter((w) => w.error);
    expect(skipped.length).toBe(100 - rendered.length);
    expect(skipped[0]!.error).toMatchObject({ code: "not_rendered" });
    expect(skipped[0]!.error!.message).toContain("8 MiB");
    expect(receiver.at("/dry-0")).toHaveLength(0);
    expect(slowestMs).toBeLessThan(1000);
  });
});
