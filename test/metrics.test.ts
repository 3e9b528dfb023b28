// GET /metrics and the worker's own /metrics, scraped and parsed as Prometheus parses them: counters move
// by exactly what the test sent, the log's and queue's counts are read at scrape time, label values are
// bounded, and both take the API key or METRICS_TOKEN.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
// @ts-expect-error: the package ships no types
import parsePrometheus from "parse-prometheus-text-format";
import { afterAll, describe, expect, it } from "vitest";
import { serveWorkerMetrics } from "../functions/worker/metrics-server.ts";
import { expectStatus } from "./helpers/api-types.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

interface Family {
  name: string;
  type: string;
  metrics: Array<{
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
}

const KEY = "metrics-api-key-0123";
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const TOKEN = "metrics-token";
let stack: TestStack;
let receiver: Receiver;
let workerMetrics: Server;
let workerUrl: string;

withStackAndReceiver(
  async (started) => {
    ({ stack, receiver } = started);
    const definition = expectStatus(
      await stack.api(
        "POST",
        "/definitions",
        { name: "metered", type: "collection.created", collection: "meters" },
        auth(KEY),
      ),
      201,
    );
    expectStatus(
      await stack.api("POST", "/webhooks", { definitionId: definition.id, url: `${receiver.url}/meters` }, auth(KEY)),
      201,
    );
    workerMetrics = await new Promise<Server>((resolve) => {
      const s = serveWorkerMetrics(stack.deps, 0, () => resolve(s));
    });
    workerUrl = `http://127.0.0.1:${(workerMetrics.address() as AddressInfo).port}/metrics`;
  },
  { env: { API_KEY: KEY, METRICS_TOKEN: TOKEN } },
);
afterAll(async () => {
  await new Promise((resolve) => workerMetrics?.close(resolve));
});

async function scrape(token = TOKEN): Promise<Map<string, Family>> {
  const res = await stack.api("GET", "/metrics", undefined, auth(token));
  const text = expectStatus(res, 200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return new Map((parsePrometheus(text) as Family[]).map((f) => [f.name, f]));
}

/** A sample's value; a histogram's is its count (the +Inf bucket). */
const value = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) => {
  const family = families.get(name);
  // parse-prometheus-text-format keeps a histogram's buckets but not its labels: one series per histogram here.
  const metric = family?.metrics.find(
    (m) => m.buckets || Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return Number(metric?.value ?? metric?.buckets?.["+Inf"] ?? 0);
};

describe("GET /metrics", () => {
  it(
    "counts exactly the events accepted and the deliveries made, and reads the log and queue at scrape " + "time",
    async () => {
      // The reports of this file's configuration (config.changed, in the collection tetik) are events too:
      // counted once they are done, before the events below are.
      await waitFor(
        async () =>
          (await stack.deps.db.eventLog.count({
            where: { collection: "tetik", status: { notIn: ["completed", "failed"] } },
          })) === 0,
        { what: "the configuration's reports to be done" },
      );
      const before = await scrape();
      for (let i = 0; i < 7; i++)
        expect(
          (
            await stack.api(
              "POST",
              "/events",
              { type: "collection.created", collection: "meters", recordId: `m-${i}` },
              auth(KEY),
            )
          ).status,
        ).toBe(202);
      const batch = await stack.api(
        "POST",
        "/events/batch",
        { events: [1, 2, 3].map((i) => ({ type: "collection.created", collection: "meters", recordId: `b-${i}` })) },
        auth(KEY),
      );
      expect(batch.status).toBe(202);
      for (const id of ["r-1", "r-2"])
        expect((await stack.api("POST", "/collections/meters/records", { id, data: { n: 1 } }, auth(KEY))).status).toBe(
          201,
        );
      await waitFor(() => receiver.at("/meters").length === 12, { timeoutMs: 15_000, what: "12 deliveries" });

      const after = await waitFor(
        async () => {
          const families = await scrape();
          return value(families, "tetik_log_events", { status: "completed" }) -
            value(before, "tetik_log_events", { status: "completed" }) ===
            12
            ? families
            : undefined;
        },
        { timeoutMs: 10_000, what: "12 completed events in the log" },
      );
      const moved = (name: string, labels: Record<string, string>) =>
        value(after, name, labels) - value(before, name, labels);
      expect(moved("tetik_events_accepted_total", { via: "events" })).toBe(7);
      expect(moved("tetik_events_accepted_total", { via: "batch" })).toBe(3);
      expect(moved("tetik_events_accepted_total", { via: "records" })).toBe(2);
      // The in-process worker shares this registry (in production it serves its own: below).
      expect(moved("tetik_deliveries_total", { outcome: "delivered", status_class: "2xx" })).toBe(12);
      expect(moved("tetik_delivery_attempt_duration_seconds", { outcome: "delivered" })).toBe(12);
      expect(moved("tetik_first_attempt_latency_seconds", {})).toBe(12);
      expect(value(after, "tetik_log_events", { status: "pending" })).toBe(0);
      for (const state of ["waiting", "active", "delayed", "failed"])
        expect(after.get("tetik_queue_jobs")!.metrics.map((m) => m.labels?.state)).toContain(state);
      expect(after.get("tetik_events_accepted_total")!.type).toBe("COUNTER");
      expect(after.get("tetik_first_attempt_latency_seconds")!.type).toBe("HISTOGRAM");
    },
  );

  it("counts the sweep's runs and what it requeued from Postgres, whichever process swept", async () => {
    const before = await scrape();
    await stack.deps.pool.query(
      `INSERT INTO sweep_state (id, "lastRunAt", "lastResult") VALUES (1, now(), '{}') ON CONFLICT (id) DO NOTHING`,
    );
    const { runSweep } = await import("../functions/domain/sweep/run-sweep.ts");
    await runSweep(stack.deps);
    await runSweep(stack.deps);
    const after = await scrape();
    expect(value(after, "tetik_sweep_runs_total") - value(before, "tetik_sweep_runs_total")).toBe(2);
    expect(value(after, "tetik_sweep_last_run_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(
      after
        .get("tetik_sweep_requeued_total")!
        .metrics.map((m) => m.labels?.kind)
        .sort(),
    ).toEqual(["actions", "events", "failed_events"]);
  });

  it("keeps label values bounded and every name in tetik's namespace and Prometheus's conventions", async () => {
    const families = await scrape();
    for (const [name, family] of families) {
      expect(name).toMatch(/^tetik_[a-z_]+$/);
      if (family.type === "COUNTER") expect(name).toMatch(/_total$/);
      if (family.type === "HISTOGRAM") expect(name).toMatch(/_seconds$/);
      for (const metric of family.metrics) {
        for (const [label, v] of Object.entries(metric.labels ?? {})) {
          expect(["via", "outcome", "status_class", "status", "state", "kind"]).toContain(label);
          // Operational event kinds are written as users read them in data.kind: "webhook.disabled".
          expect(v).toMatch(/^[a-z0-9_.]{1,20}$/);
        }
      }
    }
  });

  it("takes the API key or METRICS_TOKEN, and nothing else; METRICS_TOKEN opens nothing but /metrics", async () => {
    await scrape(KEY);
    expect((await stack.api("GET", "/metrics")).status).toBe(401);
    expect((await stack.api("GET", "/metrics", undefined, auth("wrong"))).status).toBe(401);
    expect((await stack.api("GET", "/events", undefined, auth(TOKEN))).status).toBe(401);
  });
});

describe("the worker's /metrics (WORKER_METRICS_PORT)", () => {
  it("serves the same registry's counters in the text format, behind the same keys", async () => {
    expect((await fetch(workerUrl)).status).toBe(401);
    const res = await fetch(workerUrl, { headers: auth(TOKEN) });
    expect(res.status).toBe(200);
    const families = new Map((parsePrometheus(await res.text()) as Family[]).map((f) => [f.name, f]));
    expect(
      value(families, "tetik_deliveries_total", { outcome: "delivered", status_class: "2xx" }),
    ).toBeGreaterThanOrEqual(12);
    expect(families.has("tetik_queue_jobs")).toBe(true);
  });
});
