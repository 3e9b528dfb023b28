// Reading records: one by id, or a page of a collection filtered by the condition language. Writes go
// through the collection writes (collection-writes.ts), which commits each with its event.
import sql, { empty } from "sql-template-tag";
import { fromPg, runSql, type Queryable } from "../../platform/sql.ts";
import { compileFilter } from "../conditions/filter.ts";
import { notFound } from "../errors.ts";
import { selectFiltered, type ListDeps } from "../filtered-lists.ts";
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

/** What a filter that was stopped should do instead. */
const NARROWER =
  "narrow it (fewer $or branches, shorter $in lists, no $elemMatch over long arrays), or add a plain " +
  'equality on a field ({"status": "paid"}), which an index answers first';

/**
 * Newest first when ids are tetik's; `filter` is the condition language over the records' data, whose
 * selection runs bounded (filtered-lists.ts). Sizes first, then only the records that fit the page's byte
 * budget.
 */
export async function listRecords(
  deps: ListDeps,
  collection: string,
  { limit, cursor, filter }: ListQuery & { filter?: Data },
) {
  const q = fromPg(deps.pool);
  const where = filter ? compileFilter(filter) : sql`TRUE`;
  const selection = sql`SELECT id, "dataBytes" AS bytes FROM records
      WHERE collection = ${collection} AND ${where} ${cursor ? sql`AND id < ${cursor}` : empty}
      ORDER BY id DESC LIMIT ${limit + 1}`;
  type Size = { id: string; bytes: number };
  const sizes = filter ? await selectFiltered<Size>(deps, selection, NARROWER) : await runSql<Size>(q, selection);
  const { ids, nextCursor } = pageWithin(sizes, limit, LIMITS.pageBytes);
  const data = await runSql<RecordRow>(
    q,
    sql`SELECT collection, id, data, "createdAt", "updatedAt" FROM records
      WHERE collection = ${collection} AND id = ANY(${ids}::text[]) ORDER BY id DESC`,
  );
  return { data, nextCursor };
}
