// One webhook sent for one event: its request built, then sent with the webhook's timeout and the address
// guard. Shared by deliveries (domain/delivery records them) and test sends.
import type { Deps } from "../../platform/deps.ts";
import type { Webhook } from "../../platform/db.ts";
import type { EventContext } from "../events/event-context.ts";
import { buildDelivery, type DeliveryRequest, UnsendableDelivery } from "./build-delivery.ts";
import { sendRequest, type SendResult } from "./send-request.ts";

type WebhookShape = Parameters<typeof buildDelivery>[0] & Pick<Webhook, "timeoutMs">;

/**
 * Renders the delivery and sends it with the webhook's timeout (or WEBHOOK_TIMEOUT_MS) and the address
 * guard as configured. A delivery its templates made unsendable fails without a request.
 */
export async function sendWebhook(
  { config, now }: Pick<Deps, "config" | "now">,
  webhook: WebhookShape,
  context: EventContext,
  messageId: string,
  requestedAt: Date,
): Promise<SendResult> {
  let request: DeliveryRequest;
  try {
    request = buildDelivery(webhook, context, messageId, requestedAt);
  } catch (error) {
    if (!(error instanceof UnsendableDelivery)) throw error;
    return {
      ok: false,
      status: null,
      durationMs: 0,
      responseBody: null,
      error: error.message,
      errorCode: error.errorCode,
    };
  }
  return sendRequest(request, {
    timeoutMs: webhook.timeoutMs ?? config.WEBHOOK_TIMEOUT_MS,
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    now,
  });
}
