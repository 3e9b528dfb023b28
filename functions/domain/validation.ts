// Input checking shared by every entry point (HTTP, worker, tests): zod schemas, errors as 400s that name
// the path of each problem.
import { z } from "zod";
import { AppError } from "./errors.ts";
import { LIMITS, jsonSizeProblem } from "./limits.ts";

export interface Problem {
  path: string;
  message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
}

/** Whether the field at `path` is absent from an object that is there: zod calls that "Invalid input". */
function isMissing(input: unknown, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return false;
  let parent: unknown = input;
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== "object") return false;
    parent = (parent as Record<PropertyKey, unknown>)[key];
  }
  return parent !== null && typeof parent === "object" && !Object.hasOwn(parent, path.at(-1)!);
}

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where = "body"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems: Problem[] = parsed.error.issues.map((issue) => ({
    path: formatPath(issue.path) || where,
    message: isMissing(input, issue.path)
      ? `required (${issue.message.replace(/^Invalid \w+: /, "").replace(/, received undefined$/, "")})`
      : issue.message,
  }));
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  throw new AppError("invalid_request", `${first.path}: ${first.message}${more}`, problems);
}

/** Adds problems found by a checker (conditions, templates) to a zod refinement context. */
export function reportProblems(ctx: z.RefinementCtx, problems: Problem[], basePath: PropertyKey[] = []) {
  for (const problem of problems) {
    ctx.addIssue({
      code: "custom",
      message: problem.path ? `${problem.path}: ${problem.message}` : problem.message,
      path: basePath,
    });
  }
}

export const jsonObject = z.record(z.string(), z.unknown());

/** A refinement: the value's JSON is at most `limit` bytes (templates and conditions are configuration, not data). */
export const withinBytes = (limit: number) => (value: unknown, ctx: z.RefinementCtx) => {
  const problem = jsonSizeProblem(value, limit);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
};

const EARLIEST = Date.parse(LIMITS.earliestDate);
const LATEST = Date.parse(LIMITS.latestDate);

/**
 * An ISO-8601 date-time with an offset, within LIMITS' range once converted to UTC: Postgres stores
 * dates from 4713 BC, but a year before 1 or after 9999 does not read back as the same ISO string.
 */
export const isoDateTime = z.iso.datetime({ offset: true }).refine((text) => {
  const time = Date.parse(text);
  return time >= EARLIEST && time <= LATEST;
}, `must be between ${LIMITS.earliestDate} and ${LIMITS.latestDate}`);

export const collectionName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, "must match ^[a-z][a-z0-9_]{0,62}$ (lower case letters, digits, _)");

/** tetik's own collection: its operational events (domain/operational/); watched like any, written by tetik alone. */
export const RESERVED_COLLECTION = "tetik";

export const reservedCollectionMessage =
  `"${RESERVED_COLLECTION}" is reserved for tetik's operational events: ` +
  "nothing can be written to it through the API";
export const notReservedCollection = (name: string) => name !== RESERVED_COLLECTION;

/** A collection events and records may be written to: any name but the reserved one. */
export const writableCollection = collectionName.refine(notReservedCollection, reservedCollectionMessage);

/** Strict: a parameter the route does not know is a 400, not silently ignored (a typo would otherwise list all). */
export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .max(200)
    .regex(/^[a-z]+_[0-9A-Za-z]+$/, "is not a cursor tetik gave: pass a page's nextCursor as it is")
    .optional(),
});
export type ListQuery = z.output<typeof listQuery>;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Rows come newest first and one past the limit: the extra row says whether another page exists. */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, render: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  return { data: page.map(render), nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
}

/**
 * A page of rows read newest first, one past the limit, with the size of their bulky data: at most
 * `limit` rows and, past the first row, no more than `budget` bytes of that data, so an answer's size
 * (and the API's memory) stays bounded however large each row is. nextCursor continues after the page.
 */
export function pageWithin(
  rows: Array<{ id: string; bytes: number }>,
  limit: number,
  budget: number,
): { ids: string[]; nextCursor: string | null } {
  const ids: string[] = [];
  let bytes = 0;
  for (const row of rows.slice(0, limit)) {
    if (ids.length > 0 && bytes + row.bytes > budget) break;
    ids.push(row.id);
    bytes += row.bytes;
  }
  return { ids, nextCursor: rows.length > ids.length ? ids[ids.length - 1]! : null };
}
