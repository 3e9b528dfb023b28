// Lists a key holder shapes cannot exhaust the API (issue 26): a costly filter is stopped at a statement
// timeout and answered 400 while the rest of the pool serves everything else, and a page of events stops
// at its byte budget counting the events' actions too.
import sql from "sql-template-tag";
import { describe, expect, it } from "vitest";
import { selectFiltered } from "../functions/domain/filtered-lists.ts";
import { AppError } from "../functions/domain/errors.ts";
import { LIMITS } from "../functions/domain/limits.ts";
import { createApp, RETRY_AFTER_SECONDS } from "../functions/http/create-app.ts";
import { createQueryGate, GateFullError } from "../functions/platform/query-gate.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";

/** Scaled down from 2 s so that eight stopped lists take turns well within LIMITS.listQueryWaitMs. */
const LIST_QUERY_TIMEOUT_MS = 300;

let stack: TestStack;
withStackAndReceiver(({ stack: started }) => (stack = started), {
  env: { LIST_QUERY_TIMEOUT_MS: String(LIST_QUERY_TIMEOUT_MS) },
});

/**
 * Within every condition limit (4,000 list values of 5,000, 13 clauses of 200, depth 3 of 16), yet each
 * record's 30 tags are each compared with 4,000 values: seconds of Postgres for a few hundred records.
 */
const costlyFilter = {
  $or: Array.from({ length: 4 }, (_, branch) => ({
    tags: { $elemMatch: { $in: Array.from({ length: 1000 }, (_, i) => `absent-${branch}-${i}`) } },
  })),
};

async function seedTaggedRecords(collection: string, count: number) {
  await stack.deps.pool.query(
    `INSERT INTO records (collection, id, data, "dataBytes", "updatedAt")
     SELECT $1, 'r-' || lpad(g::text, 5, '0'), d, octet_length(d::text), now()
     FROM generate_series(1, $2::int) g,
       LATERAL (SELECT jsonb_build_object('n', g, 'tags', (SELECT jsonb_agg('tag-' || g || '-' || k)
         FROM generate_series(1, 30) k)) AS d) data`,
    [collection, count],
  );
}

describe("filtered lists", () => {
  it("stop a costly filter with 400 filter_too_costly while other requests are answered as usual", async () => {
    await seedTaggedRecords("tagged", 400);
    const filter = encodeURIComponent(JSON.stringify(costlyFilter));
    // As many at once as the stack's pool has connections: unbounded, they held all of them for 30 s.
    const lists = Array.from({ length: 8 }, () => stack.api("GET", `/collections/tagged/records?filter=${filter}`));
    const ingested = stack.api("POST", "/events", {
      type: "collection.created",
      collection: "other",
      recordId: "x-1",
      data: {},
    });
    const accepted = expectStatus(await ingested, 202);
    const read = stack.api("GET", `/events/${accepted.id}`);

    expect(expectStatus(await read, 200).id).toBe(accepted.id);
    for (const answer of await Promise.all(lists)) {
      const error = expectError(answer, 400, "filter_too_costly");
      expect(error.message).toContain(`${LIST_QUERY_TIMEOUT_MS} ms (listQueryMs)`);
    }
    // The connections came back: a narrow filter on the same collection answers at once.
    const narrow = encodeURIComponent(JSON.stringify({ tags: "tag-7-3" }));
    const page = expectStatus(await stack.api("GET", `/collections/tagged/records?filter=${narrow}`), 200);
    expect(page.data.map((r) => r.id)).toEqual(["r-00007"]);
  });

  it("take turns on a share of the pool; one that finds no turn in time is told to come back (503)", async () => {
    const gate = createQueryGate(stack.deps.pool, 1);
    const limits = { timeoutMs: 10_000, waitMs: 10_000 };
    const holding = gate.select(sql`SELECT pg_sleep(1)`, limits);
    const refused = gate.select(sql`SELECT 1 AS one`, { ...limits, waitMs: 10 });
    await expect(refused).rejects.toBeInstanceOf(GateFullError);
    const mapped = selectFiltered({ listQueries: gate, config: stack.config }, sql`SELECT 1 AS one`, "narrow it");
    await expect(mapped).resolves.toEqual([{ one: 1 }]); // waits its turn, within LIMITS.listQueryWaitMs
    await holding;

    const busy = { select: () => Promise.reject(new GateFullError(LIMITS.listQueryWaitMs)) };
    const error = await selectFiltered({ listQueries: busy, config: stack.config }, sql`SELECT 1`, "").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(503);
    expect((error as AppError).message).toContain("listQueryWaitMs");
    // Answered as an outage is: 503 with Retry-After, in the SPEC's error shape.
    const app = createApp(stack.deps);
    app.get("/busy", () => {
      throw error;
    });
    const answer = await app.request("/busy");
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe(RETRY_AFTER_SECONDS);
    expect(await answer.json()).toMatchObject({ error: { code: "service_unavailable" } });
  });
});

describe("event log pages", () => {
  it("count each event's actions against the page's bytes, and the cursor continues with the rest", async () => {
    const events = Array.from({ length: 60 }, (_, i) => ({
      type: "collection.created" as const,
      collection: "heavy",
      recordId: `h-${i}`,
      data: { i },
    }));
    const { ids } = expectStatus(await stack.api("POST", "/events/batch", { events }), 202);
    // 40 failed actions of 2 KB each per event: 60 events carry about 5.5 MB of actions, over LIMITS.pageBytes,
    // while their own data is a few bytes each.
    await stack.deps.pool.query(
      `INSERT INTO event_actions (id, "eventId", kind, "targetId", "definitionId", status, error, "updatedAt")
       SELECT e || '-' || k, e, 'webhook', 'wh-' || k, 'def-heavy', 'failed', repeat('x', 2048), now()
       FROM unnest($1::text[]) e, generate_series(1, 40) k`,
      [ids],
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const after: string = cursor ? `&cursor=${cursor}` : "";
      const page = expectStatus(await stack.api("GET", `/events?collection=heavy&limit=200${after}`), 200);
      if (pages === 0) {
        expect(page.data.length).toBeLessThan(events.length);
        expect(page.nextCursor).not.toBeNull();
      }
      for (const event of page.data) {
        expect(event.actions).toHaveLength(40);
        seen.push(event.id);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);

    expect(pages).toBeGreaterThan(1);
    expect(seen).toHaveLength(ids.length);
    expect(new Set(seen)).toEqual(new Set(ids));
  });
});
