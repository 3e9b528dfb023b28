// What the benchmark drives tetik through, each scenario ending in one webhook delivery (per webhook) per
// item sent: events as a source reports them (POST /events, or batches of them), records created through
// the collections API, patches of existing records watched by a field.updated definition, and chains of
// triggers (a record fires a trigger that creates a record in the next collection, N levels deep; the
// last level has the webhook). Every delivery carries the item's record id, which the receiver keys on.
import pg from "pg";
import { recordIdOf } from "./drive.ts";

export type Via = "events" | "records" | "patches";

export interface Scenario {
  via: Via;
  /** Trigger hops before the webhook (records only). */
  chain: number;
  /** Events per POST /events/batch (events only). */
  batch: number;
  webhooks: number;
  /**
   * Every so many records (records and chains), one the database refuses (a CHECK constraint the bench
   * adds): its flush fails and is settled request by request, so it should cost only that record.
   */
  poisonEvery: number;
  /** The webhook's flow control: "record" orders each record's deliveries (events only). */
  ordering: "none" | "record";
  /** Records the events are about when ordered: item i is about record i % records. */
  records: number;
  /** The webhook's maxPerSecond (0: none). */
  maxPerSecond: number;
  /** Where the queue and flow control live (QUEUE_BACKEND). */
  queue: "redis" | "postgres";
  /** The key the items are sent with: API_KEY, or a key made with POST /keys that may only ingest. */
  key: "api_key" | "ingest";
}

/** Whether item `index` is one the database refuses. */
export const isPoisoned = (s: Scenario, index: number) =>
  s.poisonEvery > 0 && index % s.poisonEvery === s.poisonEvery - 1;

export interface Client {
  /** Answers the created resource (the bench reads only its id). */
  send(method: string, path: string, body: unknown): Promise<{ id: string }>;
}

export function scenarioName(s: Scenario): string {
  const base =
    s.chain > 0 ? `chain ${s.chain}` : s.via === "events" && s.batch > 1 ? `events in batches of ${s.batch}` : s.via;
  const flow = [
    s.ordering === "record" ? `ordered per record (${s.records} records)` : "",
    s.maxPerSecond > 0 ? `at most ${s.maxPerSecond}/s` : "",
    s.queue === "postgres" ? "queue on Postgres" : "",
    s.key === "ingest" ? "sent with an ingest key" : "",
  ].filter(Boolean);
  const named = flow.length ? `${base}, ${flow.join(", ")}` : base;
  return s.poisonEvery > 0 ? `${named}, 1 in ${s.poisonEvery} refused` : named;
}

/** The data of item `index`: the same shape for every scenario. */
export const itemData = (index: number) => ({
  total: 150 + (index % 100),
  customerId: `c-${index % 1000}`,
  items: [{ sku: "a-1", qty: 2 }],
});

/**
 * An event about item `recordId`. Ordered, many items are about one record (item i about record
 * i % records): the item travels in the data, and the webhook's payload puts it where the receiver reads it.
 */
export const eventBody = (recordId: string, index: number, s?: Pick<Scenario, "ordering" | "records">) => ({
  type: "collection.created",
  collection: "orders",
  recordId: s?.ordering === "record" ? `o-${index % s.records}` : recordId,
  data: s?.ordering === "record" ? { ...itemData(index), item: recordId } : itemData(index),
});

const chainCollection = (level: number) => `chain${level}`;
const condition = { "data.total": { $gt: 100 } };
const name = (what: string) => `bench-${what}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * Definitions, triggers and webhooks of the scenario; for patches, the records they patch (item ids of both
 * prefixes).
 */
export async function setUp(
  s: Scenario,
  client: Client,
  receiverUrl: string,
  databaseUrl: string | undefined,
  counts: Record<string, number>,
) {
  const flow = {
    ...(s.ordering === "record" ? { ordering: "record", payload: { recordId: "{{ data.item }}" } } : {}),
    ...(s.maxPerSecond > 0 ? { maxPerSecond: s.maxPerSecond } : {}),
  };
  const webhooks = async (definitionId: string, payload?: unknown) => {
    for (let i = 0; i < s.webhooks; i++)
      await client.send("POST", "/webhooks", {
        definitionId,
        url: receiverUrl,
        ...(payload ? { payload } : {}),
        ...flow,
      });
  };
  if (s.poisonEvery > 0) {
    if (!databaseUrl) throw new Error("--poison-every needs the bench's own stack (not --attach)");
    await withDatabase(databaseUrl, (db) =>
      db.query(`ALTER TABLE records ADD CONSTRAINT bench_poison CHECK (NOT (data ? 'poison'))`),
    );
  }
  if (s.chain > 0) {
    for (let level = 0; level <= s.chain; level++) {
      const definition = await client.send("POST", "/definitions", {
        name: name(`chain${level}`),
        type: "collection.created",
        collection: chainCollection(level),
        condition,
      });
      if (level < s.chain) {
        await client.send("POST", `/definitions/${definition.id}/triggers`, {
          action: "create",
          targetCollection: chainCollection(level + 1),
          data: { origin: "{{data.origin}}", total: "{{data.total}}" },
        });
      } else {
        await webhooks(definition.id, {
          recordId: "{{data.origin}}",
          total: "{{data.total}}",
          level: "{{event.depth}}",
        });
      }
    }
    return;
  }
  if (s.via === "patches") {
    if (!databaseUrl)
      throw new Error("--via patches needs the bench's own stack (not --attach): it writes the records to patch first");
    const definition = await client.send("POST", "/definitions", {
      name: name("patches"),
      type: "field.updated",
      collection: "orders",
      fields: ["status"],
      condition,
    });
    await webhooks(definition.id);
    await preCreateRecords(databaseUrl, counts);
    return;
  }
  const definition = await client.send("POST", "/definitions", {
    name: name(s.via),
    type: "collection.created",
    collection: "orders",
    condition,
  });
  await webhooks(definition.id);
}

/** The records patches change, written straight into the table (their creation is not measured). */
async function withDatabase<T>(databaseUrl: string, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

async function preCreateRecords(databaseUrl: string, counts: Record<string, number>) {
  await withDatabase(databaseUrl, async (db) => {
    for (const [prefix, count] of Object.entries(counts)) {
      await db.query(
        `INSERT INTO records (collection, id, data, "dataBytes", "createdAt", "updatedAt")
         SELECT 'orders', $1 || (g - 1), d, octet_length(d::text), now(), now()
         FROM generate_series(1, $2::int) g,
           LATERAL (SELECT jsonb_build_object('total', 150 + (g - 1) % 100, 'status', 'new') AS d) x`,
        [prefix, count],
      );
    }
    await db.query("ANALYZE records");
  });
}

/**
 * Sends item `index` (record id `recordId`); for batches, the batch of that index (ids `prefix`0 to
 * `prefix`total-1).
 */
export function sender(s: Scenario, client: Client, prefix: string, total: number) {
  return async (index: number, recordId: string): Promise<void> => {
    const poison = isPoisoned(s, index) ? { poison: true } : {};
    if (s.chain > 0) {
      await client.send("POST", `/collections/${chainCollection(0)}/records`, {
        id: recordId,
        data: { ...itemData(index), origin: recordId, ...poison },
      });
    } else if (s.via === "records") {
      await client.send("POST", "/collections/orders/records", {
        id: recordId,
        data: { ...itemData(index), ...poison },
      });
    } else if (s.via === "patches") {
      await client.send("PATCH", `/collections/orders/records/${recordId}`, { data: { status: `paid-${index}` } });
    } else if (s.batch === 1) {
      await client.send("POST", "/events", eventBody(recordId, index, s));
    } else {
      const events = [];
      for (let j = index * s.batch; j < Math.min(total, (index + 1) * s.batch); j++)
        events.push(eventBody(recordIdOf(j, prefix), j, s));
      await client.send("POST", "/events/batch", { events });
    }
  };
}
