// Small builders for what most tests create, through the stack's typed client (answers typed by the
// contract; a non-2xx answer throws TetikError with its code and message).
import type { BodyOf, LoggedEvent } from "../../functions/client/index.ts";
import type { TestStack } from "./stack.ts";
import { waitFor } from "./wait.ts";

export function createDefinition(stack: TestStack, body: Partial<BodyOf<"createDefinition">> & { name: string }) {
  return stack.client.definitions.create({ type: "collection.created", collection: "orders", ...body });
}

export function createWebhook(stack: TestStack, body: BodyOf<"createWebhook">) {
  return stack.client.webhooks.create(body);
}

export async function postEvent(
  stack: TestStack,
  body: Partial<BodyOf<"ingestEvent">>,
  headers?: { idempotencyKey?: string },
) {
  const input = { type: "collection.created" as const, collection: "orders", recordId: "o-1", data: {}, ...body };
  return (await stack.client.events.ingest(input, headers)).id;
}

type Status = LoggedEvent["status"];

/** Waits until the event reaches one of `statuses` and answers its log entry. */
export async function waitForEvent(
  stack: TestStack,
  id: string,
  statuses: Status[] = ["completed", "failed"],
  timeoutMs = 15_000,
) {
  return waitFor(
    async () => {
      const event = await stack.client.events.get(id);
      return statuses.includes(event.status) ? event : undefined;
    },
    { timeoutMs, what: `event ${id} to be ${statuses.join(" or ")}` },
  );
}
