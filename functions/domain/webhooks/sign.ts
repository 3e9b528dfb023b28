// Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`.
import { createHmac } from "node:crypto";
import { secretKey } from "./secret.ts";

export function signature(secret: string, messageId: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", secretKey(secret)).update(`${messageId}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** The webhook-signature header: one signature per live secret, space-separated (newest first). */
export function signatureHeader(secrets: string[], messageId: string, timestamp: number, body: string): string {
  return secrets.map((secret) => signature(secret, messageId, timestamp, body)).join(" ");
}
