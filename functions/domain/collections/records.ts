// The collections API's use cases: each write commits the record and its event together, then queues
// the event.
import type { Deps } from "../../platform/deps.ts";
import { Prisma } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { compileFilter } from "../conditions/filter.ts";
import { AppError, notFound } from "../errors.ts";
import { enqueueEvents } from "../events/ingest-events.ts";
import { LIMITS } from "../limits.ts";
import { pageWithin, type ListQuery } from "../validation.ts";
import { byId, deleteRecords, insertRecord, insertWriteEvents, mergeIntoRecords, type RecordRow, type RecordWrite } from "./record-writes.ts";

type RecordDeps = Pick<Deps, "db" | "queue" | "log" | "now">;
type Data = Record<string, unknown>;

/** Runs writes in one transaction with their events; queues the events after commit. */
async function commit<T>(deps: RecordDeps, work: (tx: Prisma.TransactionClient, now: Date) => Promise<{ writes: RecordWrite[]; value: T }>): Promise<T & { eventId: string | null }> {
  const now = deps.now();
  const { value, eventIds } = await deps.db.$transaction(async (tx) => {
    const { writes, value } = await work(tx, now);
    return { value, eventIds: await insertWriteEvents(tx, writes, now) };
  });
  await enqueueEvents(deps, eventIds);
  return { ...value, eventId: eventIds[0] ?? null };
}

export async function createRecord(deps: RecordDeps, collection: string, input: { id?: string; data: Data }) {
  const id = input.id ?? newId("rec");
  return commit(deps, async (tx, now) => {
    const write = await insertRecord(tx, collection, id, input.data, now);
    if (!write) throw new AppError("conflict", `record ${id} already exists in ${collection}`);
    return { writes: [write], value: { record: write.record } };
  });
}

export async function getRecord(db: Deps["db"], collection: string, id: string): Promise<RecordRow> {
  const record = await db.record.findUnique({ where: { collection_id: { collection, id } } });
  if (!record) throw notFound(`record in ${collection}`, id);
  return record as RecordRow;
}

/** Merges `patch` into the record's data; a patch that changes nothing writes nothing and emits nothing. */
export async function patchRecord(deps: RecordDeps, collection: string, id: string, patch: Data) {
  return commit(deps, async (tx, now) => {
    const writes = await mergeIntoRecords(tx, collection, byId(id), patch, now, 1);
    if (writes[0]) return { writes, value: { record: writes[0].record } };
    const unchanged = await tx.record.findUnique({ where: { collection_id: { collection, id } } });
    if (!unchanged) throw notFound(`record in ${collection}`, id);
    return { writes: [], value: { record: unchanged as RecordRow } };
  });
}

export async function deleteRecord(deps: RecordDeps, collection: string, id: string) {
  return commit(deps, async (tx, now) => {
    const writes = await deleteRecords(tx, collection, byId(id), now, 1);
    if (!writes[0]) throw notFound(`record in ${collection}`, id);
    return { writes, value: {} };
  });
}

/**
 * Newest first when ids are tetik's; `filter` is the condition language over the records' data. Sizes
 * first, then only the records that fit the page's byte budget.
 */
export async function listRecords(db: Deps["db"], collection: string, { limit, cursor, filter }: ListQuery & { filter?: Data }) {
  const where = filter ? compileFilter(filter) : Prisma.sql`TRUE`;
  const sizes = await db.$queryRaw<Array<{ id: string; bytes: number }>>`
    SELECT id, "dataBytes" AS bytes FROM records
    WHERE collection = ${collection} AND ${where} ${cursor ? Prisma.sql`AND id < ${cursor}` : Prisma.empty}
    ORDER BY id DESC LIMIT ${limit + 1}`;
  const { ids, nextCursor } = pageWithin(sizes, limit, LIMITS.pageBytes);
  const data = await db.$queryRaw<RecordRow[]>`
    SELECT collection, id, data, "createdAt", "updatedAt" FROM records
    WHERE collection = ${collection} AND id = ANY(${ids}::text[]) ORDER BY id DESC`;
  return { data, nextCursor };
}
