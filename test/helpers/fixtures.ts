// Small builders for what most tests create through the API.
import { expect } from "vitest";
import type { TestStack } from "./stack.ts";
import { waitFor } from "./wait.ts";

export async function createDefinition(stack: TestStack, body: Record<string, unknown>) {
  const res = await stack.api("POST", "/definitions", { type: "collection.created", collection: "orders", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string };
}

export async function createWebhook(stack: TestStack, body: Record<string, unknown>) {
  const res = await stack.api("POST", "/webhooks", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string; url: string };
}

export async function postEvent(stack: TestStack, body: Record<string, unknown>, headers?: Record<string, string>) {
  const res = await stack.api(
    "POST",
    "/events",
    { type: "collection.created", collection: "orders", recordId: "o-1", data: {}, ...body },
    headers,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id as string;
}

/** Waits until the event reaches one of `statuses` and answers its log entry. */
export async function waitForEvent(
  stack: TestStack,
  id: string,
  statuses: string[] = ["completed", "failed"],
  timeoutMs = 15_000,
) {
  return waitFor(
    async () => {
      const res = await stack.api("GET", `/events/${id}`);
      return statuses.includes(res.body?.status) ? res.body : undefined;
    },
    { timeoutMs, what: `event ${id} to be ${statuses.join(" or ")}` },
  );
}
