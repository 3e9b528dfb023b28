// Webhooks: where to tell the outside world about a definition's events, and how hard to try.
import type { Deps } from "../../platform/deps.ts";
import { Prisma } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { audited, type Actor, type AuditDeps } from "../audit/audited.ts";
import type { AuditAction } from "../audit/audit-entry.ts";
import { invalid, notFound } from "../errors.ts";
import { addToDefinition } from "../definitions/add-to-definition.ts";
import { publicWebhook } from "../public-views.ts";
import { toPage, type ListQuery } from "../validation.ts";
import { urlRefusal } from "./address-guard.ts";
import { generateSecret } from "./secret.ts";
import { changeSecretHeaders, checkHeaderSet, secretHeaderNames } from "./secret-headers.ts";
import type { CreateWebhookInput, UpdateWebhookInput } from "./webhook-input.ts";

type WebhookDeps = AuditDeps & Pick<Deps, "db" | "config" | "now" | "secrets">;
type Db = Deps["db"] | Prisma.TransactionClient;

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
export async function createWebhook(deps: WebhookDeps, input: CreateWebhookInput, actor: Actor) {
  const { config, secrets } = deps;
  checkUrl(input.url, config.WEBHOOK_ALLOW_PRIVATE_NETWORKS);
  checkHeaderSet(input.headers, Object.keys(input.secretHeaders ?? {}), "secretHeaders");
  const id = newId("whk");
  const secret = generateSecret();
  return audited(deps, actor, async (tx) => {
    const webhook = await addToDefinition(tx, input.definitionId, "webhooks", (tx) =>
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
    const after = publicWebhook(webhook, config);
    return {
      result: { ...webhook, secret },
      entry: { action: "webhook.create", target: { kind: "webhook", id }, before: null, after },
    };
  });
}

export async function getWebhook(db: Db, id: string) {
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

/** A patch that sets `active` alone enables or disables the webhook; one that sets more updates it. */
function updateAction(patch: UpdateWebhookInput): AuditAction {
  const set = Object.entries(patch).filter(([, value]) => value !== undefined);
  if (set.length === 1 && set[0]![0] === "active") return patch.active ? "webhook.enable" : "webhook.disable";
  return "webhook.update";
}

export async function updateWebhook(deps: WebhookDeps, id: string, patch: UpdateWebhookInput, actor: Actor) {
  const { config, secrets } = deps;
  if (patch.url) checkUrl(patch.url, config.WEBHOOK_ALLOW_PRIVATE_NETWORKS);
  return audited(deps, actor, async (tx) => {
    const current = await getWebhook(tx, id);
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
    const webhook = await (moving ? addToDefinition(tx, patch.definitionId!, "webhooks", update) : update(tx));
    const [before, after] = [publicWebhook(current, config), publicWebhook(webhook, config)];
    return { result: webhook, entry: { action: updateAction(patch), target: { kind: "webhook", id }, before, after } };
  });
}

export async function deleteWebhook(deps: WebhookDeps, id: string, actor: Actor) {
  await audited(deps, actor, async (tx) => {
    const current = await getWebhook(tx, id);
    const { count } = await tx.webhook.deleteMany({ where: { id } });
    if (count === 0) throw notFound("webhook", id);
    const before = publicWebhook(current, deps.config);
    return {
      result: undefined,
      entry: { action: "webhook.delete", target: { kind: "webhook", id }, before, after: null },
    };
  });
}

/**
 * A new secret; the old one keeps signing (as a second signature) for PREVIOUS_SECRET_TTL_MS. It moves
 * as it is stored: sealed for this webhook, it stays readable as its previous secret. The audit entry
 * says that it happened, never what either secret is.
 */
export async function rotateSecret(deps: WebhookDeps, id: string, actor: Actor) {
  const { now, secrets, config } = deps;
  return audited(deps, actor, async (tx) => {
    const current = await getWebhook(tx, id);
    const secret = generateSecret();
    const webhook = await tx.webhook.update({
      where: { id },
      data: {
        secret: secrets.seal(secret, id),
        previousSecret: current.secret,
        previousSecretExpiresAt: new Date(now().getTime() + PREVIOUS_SECRET_TTL_MS),
      },
    });
    const [before, after] = [publicWebhook(current, config), publicWebhook(webhook, config)];
    return {
      result: { ...webhook, secret },
      entry: { action: "webhook.rotate_secret", target: { kind: "webhook", id }, before, after },
    };
  });
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
