// Webhooks: where to tell the outside world about a definition's events, and how hard to try.
import type { Deps } from "../../platform/deps.ts";
import { Prisma } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { invalid, notFound } from "../errors.ts";
import { addToDefinition } from "../definitions/add-to-definition.ts";
import { toPage, type ListQuery } from "../validation.ts";
import { urlRefusal } from "./address-guard.ts";
import { generateSecret } from "./secret.ts";
import { changeSecretHeaders, checkHeaderSet, secretHeaderNames } from "./secret-headers.ts";
import type { CreateWebhookInput, UpdateWebhookInput } from "./webhook-input.ts";

type WebhookDeps = Pick<Deps, "db" | "config" | "now" | "secrets">;

/** After a rotation the old secret still signs deliveries this long, so receivers can switch over. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

function checkUrl(url: string, allowPrivateNetworks: boolean) {
  const refusal = urlRefusal(new URL(url), allowPrivateNetworks, { refuseLoopbackNames: true });
  if (refusal) throw invalid(`url: ${refusal}`, [{ path: "url", message: refusal }]);
}

const json = (value: unknown) => (value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue));

/**
 * Creates a webhook with a new signing secret, stored sealed (SECRETS_KEY) like its secret headers; the
 * answer carries the signing secret in the clear, the one time it is shown.
 */
export async function createWebhook({ db, config, secrets }: WebhookDeps, input: CreateWebhookInput) {
  checkUrl(input.url, config.WEBHOOK_ALLOW_PRIVATE_NETWORKS);
  checkHeaderSet(input.headers, Object.keys(input.secretHeaders ?? {}), "secretHeaders");
  const id = newId("whk");
  const secret = generateSecret();
  const webhook = await addToDefinition(db, input.definitionId, "webhooks", (tx) =>
    tx.webhook.create({
      data: {
        id,
        definitionId: input.definitionId,
        url: input.url,
        method: input.method ?? "POST",
        headers: (input.headers ?? {}) as Prisma.InputJsonValue,
        secretHeaders: changeSecretHeaders(secrets, id, {}, input.secretHeaders ?? {}),
        payload: input.payload === undefined ? Prisma.DbNull : json(input.payload),
        active: input.active ?? true,
        timeoutMs: input.timeoutMs ?? null,
        retryMaxAttempts: input.retry?.maxAttempts,
        retryBackoff: input.retry?.backoff,
        retryDelayMs: input.retry?.delayMs,
        retryMaxDelayMs: input.retry?.maxDelayMs,
        maxPerSecond: input.maxPerSecond ?? null,
        maxInFlight: input.maxInFlight ?? null,
        ordering: input.ordering ?? "none",
        secret: secrets.seal(secret, id),
      },
    }),
  );
  return { ...webhook, secret };
}

export async function getWebhook(db: Deps["db"], id: string) {
  const webhook = await db.webhook.findUnique({ where: { id } });
  if (!webhook) throw notFound("webhook", id);
  return webhook;
}

export async function listWebhooks(
  db: Deps["db"],
  { limit, cursor, definitionId }: ListQuery & { definitionId?: string },
) {
  const rows = await db.webhook.findMany({
    where: { ...(cursor ? { id: { lt: cursor } } : {}), ...(definitionId ? { definitionId } : {}) },
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  return toPage(rows, limit, (row) => row);
}

export async function updateWebhook({ db, config, secrets }: WebhookDeps, id: string, patch: UpdateWebhookInput) {
  const current = await getWebhook(db, id);
  if (patch.url) checkUrl(patch.url, config.WEBHOOK_ALLOW_PRIVATE_NETWORKS);
  // Secret headers merge by name (the values are never read back, so a client cannot resend them all).
  const secretHeaders =
    patch.secretHeaders && changeSecretHeaders(secrets, id, current.secretHeaders, patch.secretHeaders);
  if (patch.headers || secretHeaders) {
    checkHeaderSet(
      patch.headers ?? current.headers,
      secretHeaderNames(secretHeaders ?? current.secretHeaders),
      patch.secretHeaders ? "secretHeaders" : "headers",
    );
  }
  const update = (tx: Prisma.TransactionClient) =>
    tx.webhook.update({
      where: { id },
      data: {
        definitionId: patch.definitionId,
        url: patch.url,
        method: patch.method,
        headers: patch.headers as Prisma.InputJsonValue | undefined,
        secretHeaders,
        payload: patch.payload === undefined ? undefined : json(patch.payload),
        // Turning a webhook back on clears the reason it was turned off.
        ...(patch.active !== undefined
          ? { active: patch.active, ...(patch.active ? { disabledReason: null } : {}) }
          : {}),
        timeoutMs: patch.timeoutMs,
        retryMaxAttempts: patch.retry?.maxAttempts,
        retryBackoff: patch.retry?.backoff,
        retryDelayMs: patch.retry?.delayMs,
        retryMaxDelayMs: patch.retry?.maxDelayMs,
        maxPerSecond: patch.maxPerSecond,
        maxInFlight: patch.maxInFlight,
        ordering: patch.ordering,
      },
    });
  // Moving to another definition takes one of its places.
  const moving = patch.definitionId !== undefined && patch.definitionId !== current.definitionId;
  return moving ? addToDefinition(db, patch.definitionId!, "webhooks", update) : update(db);
}

export async function deleteWebhook(db: Deps["db"], id: string) {
  const { count } = await db.webhook.deleteMany({ where: { id } });
  if (count === 0) throw notFound("webhook", id);
}

/**
 * A new secret; the old one keeps signing (as a second signature) for PREVIOUS_SECRET_TTL_MS. It moves
 * as it is stored: sealed for this webhook, it stays readable as its previous secret.
 */
export async function rotateSecret({ db, now, secrets }: Pick<Deps, "db" | "now" | "secrets">, id: string) {
  const current = await getWebhook(db, id);
  const secret = generateSecret();
  const webhook = await db.webhook.update({
    where: { id },
    data: {
      secret: secrets.seal(secret, id),
      previousSecret: current.secret,
      previousSecretExpiresAt: new Date(now().getTime() + PREVIOUS_SECRET_TTL_MS),
    },
  });
  return { ...webhook, secret };
}

export async function listDeliveries(db: Deps["db"], webhookId: string, { limit, cursor }: ListQuery) {
  await getWebhook(db, webhookId);
  const rows = await db.deliveryAttempt.findMany({
    where: { webhookId, ...(cursor ? { id: { lt: cursor } } : {}) },
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  return toPage(rows, limit, (row) => row);
}
