// The naive reference pipeline's ingest: HTTP -> one-row INSERT -> queue.add. What a first version of an
// event service looks like; the benchmark measures tetik against it on the same machine in the same run.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 10 });
await pool.query(`CREATE TABLE IF NOT EXISTS naive_events (id text PRIMARY KEY, body jsonb NOT NULL, status text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), completed_at timestamptz)`);
const queue = new Queue("naive", { connection: new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null }), prefix: env.QUEUE_PREFIX });

const server = createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (body += chunk));
  req.on("end", async () => {
    try {
      const event = JSON.parse(body);
      const id = randomUUID();
      await pool.query("INSERT INTO naive_events (id, body, status) VALUES ($1, $2, 'pending')", [id, event]);
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
