// Reading records: one by id, or a page of a collection filtered by the condition language. Writes go
// through the collection writes (collection-writes.ts), which commits each with its event.
import sql, { empty } from "sql-template-tag";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { compileFilter } from "../conditions/filter.ts";
import { notFound } from "../errors.ts";
import { LIMITS } from "../limits.ts";
import { pageWithin, type ListQuery } from "../validation.ts";
import type { RecordRow } from "./record-statements.ts";

type Data = Record<string, unknown>;

export async function getRecord(q: Queryable, collection: string, id: string): Promise<RecordRow> {
  const [record] = await runSql<RecordRow>(
    q,
    sql`SELECT collection, id, data, "createdAt", "updatedAt" FROM records
        WHERE collection = ${collection} AND id = ${id}`,
  );
  if (!record) throw notFound(`record in ${collection}`, id);
  return record;
}

/**
 * Newest first when ids are tetik's; `filter` is the condition language over the records' data. Sizes
 * first, then only the records that fit the page's byte budget.
 */
export async function listRecords(
  q: Queryable,
  collection: string,
  { limit, cursor, filter }: ListQuery & { filter?: Data },
) {
  const where = filter ? compileFilter(filter) : sql`TRUE`;
  const sizes = await runSql<{ id: string; bytes: number }>(
    q,
    sql`SELECT id, "dataBytes" AS bytes FROM records
      WHERE collection = ${collection} AND ${where} ${cursor ? sql`AND id < ${cursor}` : empty}
      ORDER BY id DESC LIMIT ${limit + 1}`,
  );
  const { ids, nextCursor } = pageWithin(sizes, limit, LIMITS.pageBytes);
  const data = await runSql<RecordRow>(
    q,
    sql`SELECT collection, id, data, "createdAt", "updatedAt" FROM records
      WHERE collection = ${collection} AND id = ANY(${ids}::text[]) ORDER BY id DESC`,
  );
  return { data, nextCursor };
}
