// Raw BullMQ + POST: the floor any queue-based pipeline stands on. The benchmark adds jobs directly.
import { Worker } from "bullmq";
import { Redis } from "ioredis";

const env = process.env;
const worker = new Worker(
  "raw",
  async (job) => {
    const res = await fetch(env.RECEIVER_URL!, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(job.data),
      signal: AbortSignal.timeout(10_000),
    });
    await res.text();
    if (!res.ok) throw new Error(`receiver answered ${res.status}`);
  },
  {
    connection: new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null }),
    prefix: env.QUEUE_PREFIX,
    concurrency: Number(env.CONCURRENCY ?? 50),
  },
);
worker.on("ready", () => console.log("raw worker ready"));
process.once("SIGTERM", () => void worker.close().then(() => process.exit(0)));
