// One HTTP attempt at a webhook and the row that records it: shared by event deliveries and test sends.
import type { Deps } from "../../platform/deps.ts";
import type { Prisma, Webhook } from "../../platform/db.ts";
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

/** The delivery_attempts row for a result; `actionId`/`eventId` absent for a test send. */
export function attemptRecord(
  result: SendResult,
  attempt: { id: string; webhookId: string; attempt: number; requestedAt: Date; eventId?: string; actionId?: string; test?: boolean },
): Prisma.DeliveryAttemptUncheckedCreateInput {
  return {
    ...attempt,
    ok: result.ok,
    status: result.status,
    durationMs: result.durationMs,
    error: result.error,
    errorCode: result.errorCode,
    responseBody: result.responseBody,
  };
}
