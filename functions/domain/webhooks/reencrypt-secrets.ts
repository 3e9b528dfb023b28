// Seals every webhook's secrets with the current SECRETS_KEY: after setting a key for the first time
// (secrets stored in plain text until then), or after rotating it (SECRETS_KEY_PREVIOUS opens what the
// old key sealed). Idempotent and safe to run while tetik runs: a row already sealed with the current key
// is left alone, and a row a rotation changed meanwhile is left to that rotation.
import type { Deps } from "../../platform/deps.ts";

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
      select: { id: true, secret: true, previousSecret: true },
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      const reseal = (stored: string) =>
        secrets.isCurrent(stored) ? stored : secrets.seal(secrets.open(stored, row.id), row.id);
      const secret = reseal(row.secret);
      const previousSecret = row.previousSecret === null ? null : reseal(row.previousSecret);
      if (secret === row.secret && previousSecret === row.previousSecret) continue;
      const { count } = await db.webhook.updateMany({
        where: { id: row.id, secret: row.secret },
        data: { secret, previousSecret },
      });
      resealed += count;
    }
    webhooks += rows.length;
    cursor = rows[rows.length - 1]!.id;
  }
  return { webhooks, resealed };
}
