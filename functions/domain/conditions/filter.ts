// Filters: the condition language applied to records in SQL. Checked here once for both the collections
// API (?filter=) and triggers (after their templates are rendered).
import type { Sql } from "sql-template-tag";
import { invalid } from "../errors.ts";
import { conditionProblems, type Condition } from "./condition.ts";
import { filterToSql } from "./filter-sql.ts";

/** A SQL predicate for a filter, or a 400 naming what is wrong with it. */
export function compileFilter(filter: Condition, column?: Sql): Sql {
  const problems = conditionProblems(filter);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw invalid(
      `filter${first.path ? `.${first.path}` : ""}: ${first.message}`,
      problems.map((p) => ({ ...p, path: p.path ? `filter.${p.path}` : "filter" })),
    );
  }
  return filterToSql(filter, column);
}
