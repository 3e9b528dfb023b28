// A small run of `npm run bench`, end to end: it must complete and lose nothing. No timing is asserted
// (machines here are shared and noisy); the figures belong to the benchmark itself.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "vitest";
import { itWithRedis } from "./helpers/queue-backend.ts";

// The benchmark measures tetik against reference pipelines on Redis (raw BullMQ), in the same run.
itWithRedis(
  "runs the benchmark on 200 events with nothing lost and every event logged, " + "with API_KEY set where it runs",
  async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "test/bench/run-bench.ts", "--events", "200", "--concurrency", "10", "--no-baseline"],
      {
        timeout: 150_000,
        env: {
          ...process.env,
          LOG_LEVEL: "warn",
          API_KEY: "bench-smoke-key-0123",
          BENCH_DATABASE_SERVER: process.env.TEST_DATABASE_SERVER,
        },
      },
    );
    const result = JSON.parse(stdout.split("\n")[0]!);
    expect(result).toMatchObject({ events: 200, webhooksPerEvent: 1, lost: 0, logged: 200 });
    expect(result.deliveredPerSec).toBeGreaterThan(0);
    expect(stdout).toContain("| tetik, events (node API) |");
  },
  180_000,
);
