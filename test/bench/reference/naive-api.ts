// The naive reference pipeline's ingest: HTTP -> one-row INSERT -> queue.add. What a first version of an
// event service looks like; the benchmark measures tetik against it on the same machine in the same run.
// With NAIVE_WRITES=records it is a first version of a collections API instead: each request writes its
// record and its event in one transaction (BEGIN, INSERT, INSERT, COMMIT), then queues the event.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 10 });
await pool.query(
  `CREATE TABLE IF NOT EXISTS naive_events (id text PRIMARY KEY, body jsonb NOT NULL, status text NOT NULL,
     received_at timestamptz NOT NULL DEFAULT now(), completed_at timestamptz)`,
);
await pool.query(
  `CREATE TABLE IF NOT EXISTS naive_records (id text PRIMARY KEY, data jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now())`,
);
const queue = new Queue("naive", {
  connection: new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null }),
  prefix: env.QUEUE_PREFIX,
});

async function store(event: { recordId: string; data: unknown }, id: string) {
  if (env.NAIVE_WRITES !== "records")
    return void (await pool.query("INSERT INTO naive_events (id, body, status) VALUES ($1, $2, 'pending')", [
      id,
      event,
    ]));
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("INSERT INTO naive_records (id, data) VALUES ($1, $2)", [event.recordId, event.data]);
    await client.query("INSERT INTO naive_events (id, body, status) VALUES ($1, $2, 'pending')", [id, event]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

const server = createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (body += chunk));
  req.on("end", async () => {
    try {
      const event = JSON.parse(body);
      const id = randomUUID();
      await store(event, id);
      await queue.add("event", { id }, { removeOnComplete: true, removeOnFail: true });
      res.writeHead(202, { "content-type": "application/json" });
      res.end(JSON.stringify({ id }));
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(env.PORT), "127.0.0.1", () => console.log("naive api ready"));
process.once("SIGTERM", () => process.exit(0));
