// A template cannot amplify an event into a body, record or event larger than LIMITS.renderedBytes: it stops
// rendering there and its action fails with rendered_too_large, at once and without a request or a write.
// (Issue 26, H1: a 7 KB payload repeating {{data}} made 200 MB deliveries; a trigger template a 20 MB record.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../functions/domain/limits.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack(), startReceiver()]);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), receiver?.close()]);
});

// 40 KB of data, repeated 120 times: 4.8 MB, past the 2 MiB a render may make.
const blob = "x".repeat(40_000);
const repeats = Array.from({ length: 120 }, () => "{{data}}");

describe("a template that amplifies its event", () => {
  it("fails the webhook's delivery with rendered_too_large, without a request and without retries", async () => {
    expect(blob.length * repeats.length).toBeGreaterThan(LIMITS.renderedBytes);
    const definition = await createDefinition(stack, { name: "amplified", collection: "amplified" });
    await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/amplified`,
      payload: { copies: repeats },
    });
    // Within the budget: the whole event, twice, is delivered.
    await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/twice`,
      payload: { data: "{{data}}", again: "{{data}}" },
    });
    const id = await postEvent(stack, { collection: "amplified", recordId: "a-1", data: { blob } });
    const event = await waitForEvent(stack, id);
    expect(event.status).toBe("failed");
    const failed = event.actions.find((a) => a.status === "failed");
    expect(failed).toMatchObject({ kind: "webhook", attempts: 1, errorCode: "rendered_too_large" });
    expect(failed?.error).toContain("2 MiB");
    expect(receiver.at("/amplified")).toHaveLength(0);
    expect(receiver.at("/twice")).toHaveLength(1);
    expect(receiver.at("/twice")[0]!.json).toEqual({ data: { blob }, again: { blob } });
  });

  it("fails the trigger with rendered_too_large and writes no record", async () => {
    const definition = await createDefinition(stack, { name: "amplifying-trigger", collection: "source" });
    const text = Array.from({ length: 60 }, () => "{{data.blob}}").join("");
    expectStatus(
      await stack.api("POST", `/definitions/${definition.id}/triggers`, {
        action: "create",
        targetCollection: "copies",
        data: { text },
      }),
      201,
    );
    const id = await postEvent(stack, { collection: "source", recordId: "s-1", data: { blob } });
    const event = await waitForEvent(stack, id);
    expect(event.actions).toMatchObject([{ kind: "trigger", status: "failed", errorCode: "rendered_too_large" }]);
    expect(await stack.deps.db.record.count({ where: { collection: "copies" } })).toBe(0);
  });

  it("is shown by a dry run as the error it would be, without building the body", async () => {
    const definition = await createDefinition(stack, { name: "dry-amplified", collection: "dry" });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/dry`, payload: { repeats } });
    const dry = expectStatus(
      await stack.api("POST", `/definitions/${definition.id}/dry-run`, {
        record: { collection: "dry", id: "d-1", data: { blob } },
      }),
      200,
    );
    expect(dry.definitions[0]!.webhooks).toMatchObject([{ error: { code: "rendered_too_large" } }]);
  });
});
