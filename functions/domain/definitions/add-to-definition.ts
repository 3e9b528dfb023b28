// Webhooks and triggers hang off a definition, at most LIMITS.targetsPerDefinition of each. The count and
// the write happen under a lock of their own (an advisory lock on the definition's id, not its row: a row
// lock would meet the config_version rules in the other order and deadlock with a definition's update),
// so concurrent creates cannot pass the limit together.
import type { Deps } from "../../platform/deps.ts";
import { Prisma } from "../../platform/db.ts";
import { invalid, notFound } from "../errors.ts";
import { LIMITS } from "../limits.ts";

const TABLES = { webhooks: Prisma.raw("webhooks"), triggers: Prisma.raw("event_triggers") };

/**
 * Runs `write` in a transaction once the definition is found and has room for one more of `kind`. Handed
 * a transaction's client (an audited change's), it runs in that transaction: the lock lasts until its end.
 */
export async function addToDefinition<T>(
  db: Deps["db"] | Prisma.TransactionClient,
  definitionId: string,
  kind: keyof typeof TABLES,
  write: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  const add = async (tx: Prisma.TransactionClient) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`targets:${definitionId}`}))`;
    const [definition] = await tx.$queryRaw<Array<{ count: number }>>`
      SELECT (SELECT count(*)::int FROM ${TABLES[kind]} t WHERE t."definitionId" = d.id) AS count
      FROM event_definitions d WHERE d.id = ${definitionId}`;
    if (!definition) throw notFound("definition", definitionId);
    if (definition.count >= LIMITS.targetsPerDefinition) {
      throw invalid(
        `definition ${definitionId} has ${definition.count} ${kind}; at most ${LIMITS.targetsPerDefinition}`,
      );
    }
    return write(tx);
  };
  return "$transaction" in db ? db.$transaction(add) : add(db);
}
