// One HTTP attempt at a webhook with its configured timeout and address guard: shared by event deliveries
// (recorded by the worker's log writer) and test sends.
import type { Deps } from "../../platform/deps.ts";
import type { Webhook } from "../../platform/db.ts";
import type { DeliveryRequest } from "./build-delivery.ts";
import { sendWebhook, type SendResult } from "./send-webhook.ts";

/** Sends with the webhook's timeout (or WEBHOOK_TIMEOUT_MS) and the address guard as configured. */
export function attemptWebhook({ config, now }: Pick<Deps, "config" | "now">, webhook: Pick<Webhook, "timeoutMs">, request: DeliveryRequest): Promise<SendResult> {
  return sendWebhook(request, {
    timeoutMs: webhook.timeoutMs ?? config.WEBHOOK_TIMEOUT_MS,
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    now,
  });
}
