import { randomBytes } from "node:crypto";
import type { Webhook } from "../../platform/db.ts";
import { SecretUnreadable, type SecretBox } from "../../platform/secret-box.ts";
import { openSecretHeaders } from "./secret-headers.ts";

/** A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** The HMAC key a secret stands for. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ""), "base64");
}

/** Set on a webhook whose stored secret could not be opened: its deliveries fail with secret_unreadable. */
export interface SecretState {
  secretError?: string;
}

/**
 * A webhook row with its secrets opened for signing and its secret headers for sending (they are stored
 * sealed, bound to the webhook's id, when SECRETS_KEY is set). One unreadable secret fails that webhook's
 * deliveries, not the others'.
 */
export function withOpenSecrets<W extends Pick<Webhook, "id" | "secret" | "previousSecret" | "secretHeaders">>(
  webhook: W,
  box: SecretBox,
): W & SecretState {
  try {
    return {
      ...webhook,
      secret: box.open(webhook.secret, webhook.id),
      previousSecret: webhook.previousSecret === null ? null : box.open(webhook.previousSecret, webhook.id),
      secretHeaders: openSecretHeaders(box, webhook.id, webhook.secretHeaders),
    };
  } catch (error) {
    if (!(error instanceof SecretUnreadable)) throw error;
    return {
      ...webhook,
      secret: "",
      previousSecret: null,
      secretHeaders: {},
      secretError: `the webhook's signing secret or a secret header cannot be read: ${error.message}`,
    };
  }
}
