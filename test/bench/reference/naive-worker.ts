// The naive reference pipeline's worker: job -> SELECT the event -> POST (fetch) -> one-row UPDATE.
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 20 });
const worker = new Worker(
  "naive",
  async (job) => {
    const { rows } = await pool.query("SELECT body FROM naive_events WHERE id = $1", [job.data.id]);
    const event = rows[0].body;
    const res = await fetch(env.RECEIVER_URL!, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: job.data.id, ...event }),
      signal: AbortSignal.timeout(10_000),
    });
    await res.text();
    if (!res.ok) throw new Error(`receiver answered ${res.status}`);
    await pool.query("UPDATE naive_events SET status = 'completed', completed_at = now() WHERE id = $1", [job.data.id]);
  },
  {
    connection: new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null }),
    prefix: env.QUEUE_PREFIX,
    concurrency: Number(env.CONCURRENCY ?? 50),
  },
);
worker.on("ready", () => console.log("naive worker ready"));
process.once("SIGTERM", () => void worker.close().then(() => process.exit(0)));
