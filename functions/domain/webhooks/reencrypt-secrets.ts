// Seals every webhook's secrets (signing secrets and secret header values) with the current SECRETS_KEY:
// after setting a key for the first time (secrets stored in plain text until then), or after rotating it
// (SECRETS_KEY_PREVIOUS opens what the old key sealed). Idempotent and safe to run while tetik runs: a row
// already sealed with the current key is left alone, and a row a rotation or a change of its secret headers
// changed meanwhile is left to that change.
import type { Prisma } from "../../platform/db.ts";
import type { Deps } from "../../platform/deps.ts";
import { resealSecretHeaders } from "./secret-headers.ts";

const PAGE = 500;

export async function reencryptSecrets({
  db,
  secrets,
}: Pick<Deps, "db" | "secrets">): Promise<{ webhooks: number; resealed: number }> {
  let cursor = "";
  let webhooks = 0;
  let resealed = 0;
  // Bounded: every page moves the cursor past the rows it read.
  for (;;) {
    const rows = await db.webhook.findMany({
      where: { id: { gt: cursor } },
      orderBy: { id: "asc" },
      take: PAGE,
      select: { id: true, secret: true, previousSecret: true, secretHeaders: true },
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      const reseal = (stored: string) =>
        secrets.isCurrent(stored) ? stored : secrets.seal(secrets.open(stored, row.id), row.id);
      const secret = reseal(row.secret);
      const previousSecret = row.previousSecret === null ? null : reseal(row.previousSecret);
      const secretHeaders = resealSecretHeaders(secrets, row.id, row.secretHeaders);
      if (secret === row.secret && previousSecret === row.previousSecret && secretHeaders === row.secretHeaders)
        continue;
      // Only if neither a rotation nor a change of secret headers came in between (they seal anew themselves).
      const { count } = await db.webhook.updateMany({
        where: {
          id: row.id,
          secret: row.secret,
          secretHeaders: { equals: row.secretHeaders as Prisma.InputJsonValue },
        },
        data: { secret, previousSecret, secretHeaders },
      });
      resealed += count;
    }
    webhooks += rows.length;
    cursor = rows[rows.length - 1]!.id;
  }
  return { webhooks, resealed };
}
