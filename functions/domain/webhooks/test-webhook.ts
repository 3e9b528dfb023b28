// POST /webhooks/{id}/test: one signed sample delivery now, recorded as a test attempt, not as an event.
import type { Deps } from "../../platform/deps.ts";
import { newId } from "../../platform/ids.ts";
import { fromPg } from "../../platform/sql.ts";
import { writeTestSend } from "../delivery/action-log/action-log.ts";
import { notFound } from "../errors.ts";
import { eventContext } from "../events/event-context.ts";
import { sendWebhook } from "./send-webhook.ts";
import { withOpenSecrets } from "./secret.ts";
import type { SendResult } from "./send-webhook.ts";

export async function testWebhook(
  deps: Pick<Deps, "db" | "pool" | "config" | "now" | "secrets">,
  webhookId: string,
  data: Record<string, unknown> = {},
): Promise<SendResult> {
  const { db, now } = deps;
  const row = await db.webhook.findUnique({ where: { id: webhookId }, include: { definition: true } });
  if (!row) throw notFound("webhook", webhookId);
  const webhook = withOpenSecrets(row, deps.secrets);
  const requestedAt = now();
  const attemptId = newId("att");
  const { definition } = webhook;
  const sample = {
    id: `evt_test_${attemptId.slice(4)}`,
    type: definition.type === "field_updated" ? ("collection_updated" as const) : definition.type,
    collection: definition.collection,
    recordId: "test",
    occurredAt: requestedAt,
    depth: 0,
    data,
    previous: null,
    changedFields: definition.type === "field_updated" ? definition.fields : [],
  };
  // The caller waits for the answer, and API Gateway waits 30 s at most: the webhook's timeout, capped.
  const timeoutMs = Math.min(webhook.timeoutMs ?? deps.config.WEBHOOK_TIMEOUT_MS, deps.config.WEBHOOK_TEST_TIMEOUT_MS);
  const context = eventContext(sample, definition);
  const result = await sendWebhook(deps, { ...webhook, timeoutMs }, context, attemptId, requestedAt);
  await writeTestSend(fromPg(deps.pool), { id: attemptId, webhookId, requestedAt, result });
  return result;
}
