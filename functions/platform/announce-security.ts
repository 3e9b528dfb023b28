// What a process runs with, said at every start: without API_KEY the API is open (loudly, as the SPEC
// asks), without SECRETS_KEY webhook secrets are stored unencrypted, and with WEBHOOK_ALLOW_PRIVATE_NETWORKS
// webhooks may reach the machine's own network. A function that never stores or uses
// a webhook secret is not given SECRETS_KEY in AWS (infra/aws/function-access.cjs): it says nothing of it.
import type { Deps } from "./deps.ts";

export interface ProcessRole {
  /** Serves the HTTP API (the API key matters to it). */
  servesApi?: boolean;
  /** Stores or uses webhook signing secrets (SECRETS_KEY matters to it). */
  keepsWebhookSecrets?: boolean;
}

export function announceSecurity(
  { config, log }: Pick<Deps, "config" | "log">,
  { servesApi = true, keepsWebhookSecrets = true }: ProcessRole = {},
) {
  if (servesApi && config.API_KEY)
    log.info("API_KEY is set: every route but GET /health needs Authorization: Bearer <API_KEY>");
  if (servesApi && !config.API_KEY) {
    log.warn(
      "API_KEY is NOT set: the API is OPEN to anyone who can reach it. This is for local development only; " +
        "set API_KEY anywhere else.",
    );
  }
  if (config.WEBHOOK_ALLOW_PRIVATE_NETWORKS)
    log.warn(
      "WEBHOOK_ALLOW_PRIVATE_NETWORKS is on: webhooks may target loopback, private, link-local and metadata " +
        "addresses (this machine, its network, the cloud's metadata service). For local development only.",
    );
  if (!keepsWebhookSecrets) return;
  if (config.SECRETS_KEY) log.info("SECRETS_KEY is set: webhook secrets are stored encrypted (AES-256-GCM)");
  else
    log.warn(
      "SECRETS_KEY is not set: webhook secrets are stored unencrypted. Set it (openssl rand -base64 32) " +
        "anywhere but your own machine.",
    );
}
